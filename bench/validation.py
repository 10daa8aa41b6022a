"""Validation throughput on one large landing day: `python -m bench.validation --rows 1000000`.

Writes a day of email events (the highest-volume feed) with one bad row in a thousand, loads it with the
project's loader, then runs the feed's checks (contract types in SQL, the GX suite on the pandas batch) and
prints rows per second for each step.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from expectations.validator import validate_days
from ingestion.contracts import load_contracts
from ingestion.loader import FeedLoader

DAY = date(2026, 3, 1)


def write_day(landing: Path, rows: int) -> None:
    folder = landing / "email_events" / f"date={DAY}"
    folder.mkdir(parents=True)
    duckdb.sql(f"""
        COPY (SELECT 'E' || n AS event_id, 'C' || (n % 20) AS campaign_id,
                     CASE WHEN n % 1000 = 7 THEN 'not-an-email' ELSE 'p' || (n % 250000) || '@example.com' END AS email,
                     (['sent', 'delivered', 'opened', 'clicked', 'bounced', 'unsubscribed'])[1 + n % 6] AS event_type,
                     TIMESTAMP '{DAY}' + INTERVAL (n % 86400) SECOND AS event_at
              FROM range({rows}) t(n)) TO '{folder / "events.csv"}' (HEADER)""")
    campaigns = landing / "campaigns" / f"date={DAY}"
    campaigns.mkdir(parents=True)
    duckdb.sql(f"COPY (SELECT 'C' || n AS campaign_id, 'email' AS channel, DATE '{DAY}' AS start_date "
               f"FROM range(20) t(n)) TO '{campaigns / 'campaigns.csv'}' (HEADER)")


def measure(rows: int) -> dict:
    contracts = load_contracts()
    with tempfile.TemporaryDirectory() as folder:
        landing = Path(folder) / "landing"
        write_day(landing, rows)
        con = duckdb.connect(str(Path(folder) / "bench.duckdb"))
        FeedLoader(con, contracts["campaigns"], landing).load_day(DAY)
        started = time.perf_counter()
        FeedLoader(con, contracts["email_events"], landing).load_day(DAY)
        loaded = time.perf_counter()
        validation = validate_days(con, contracts["email_events"], DAY, DAY)
        validated = time.perf_counter()
        con.close()
    load_s, validate_s = loaded - started, validated - loaded
    return {"feed": "email_events", "rows": rows, "rows_quarantined": validation.rows_quarantined,
            "load_seconds": round(load_s, 2), "load_rows_per_second": round(rows / load_s),
            "validate_seconds": round(validate_s, 2), "validate_rows_per_second": round(rows / validate_s)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    print(json.dumps(measure(parser.parse_args(argv).rows), indent=2))


if __name__ == "__main__":
    main()
