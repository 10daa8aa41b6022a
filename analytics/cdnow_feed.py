"""Land the CDNOW master transactions as a POS feed: one parquet file per day, the CDNOW customer id as the
loyalty id, one completed receipt per transaction line. `make demo DATASET=cdnow` runs the pipeline on it."""

from __future__ import annotations

from pathlib import Path

import duckdb

from analytics.cdnow import master_transactions

START_DATE = "1997-01-01"


def write_cdnow_landing(landing: Path) -> int:
    """Write data/landing/pos_transactions/date=YYYY-MM-DD/cdnow.parquet; return the rows written."""
    frame = master_transactions()
    frame["receipt_id"] = "CD" + frame.index.astype(str).str.zfill(6)
    con = duckdb.connect()
    con.register("cdnow", frame)
    target = landing / "pos_transactions"
    target.mkdir(parents=True, exist_ok=True)
    for (day,) in con.execute("SELECT DISTINCT date::DATE FROM cdnow ORDER BY 1").fetchall():
        folder = target / f"date={day}"
        folder.mkdir(exist_ok=True)
        con.execute(f"""COPY (
            SELECT receipt_id, 'CDNOW' AS store_id, customer_id AS loyalty_id,
                   strftime(date + INTERVAL 12 HOUR, '%Y-%m-%d %H:%M:%S') AS transaction_at, 'completed' AS status,
                   printf('%.2f', amount) AS amount, cds::VARCHAR AS items, 'USD' AS currency,
                   NULL::VARCHAR AS payment_method
            FROM cdnow WHERE date::DATE = ?) TO '{folder / "cdnow.parquet"}' (FORMAT parquet)""", [day])
    return len(frame)
