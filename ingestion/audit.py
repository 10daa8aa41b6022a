"""Reconciliation: for each feed and day, every row read is passed, quarantined or suppressed by an erasure (and
a passed row may be a re-delivery that staging collapses, or carry an attribute a rule nulled)."""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from ingestion.contracts import FeedContract
from ingestion.warehouse import ROW_QUARANTINED, anonymised_table, insert_rows

MALFORMED_RULES = ("malformed_row", "malformed_json", "invalid_encoding")

RECONCILIATION_DDL = """
CREATE TABLE IF NOT EXISTS audit.load_reconciliation (
    run_id VARCHAR, feed VARCHAR, load_date DATE, files_loaded BIGINT, files_skipped_duplicate BIGINT,
    files_failed BIGINT, rows_read BIGINT, rows_passed BIGINT, rows_quarantined BIGINT,
    redeliveries_removed BIGINT, rows_unique BIGINT, balanced BOOLEAN, reconciled_at TIMESTAMP,
    rows_suppressed BIGINT, rows_anonymised BIGINT, rows_attribute_nulled BIGINT
)"""
# columns added after the first release, for warehouses made before them
RECONCILIATION_ADDED = ("rows_suppressed BIGINT", "rows_anonymised BIGINT", "rows_attribute_nulled BIGINT")


def ensure_reconciliation_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RECONCILIATION_DDL)
    for column in RECONCILIATION_ADDED:
        con.execute(f"ALTER TABLE audit.load_reconciliation ADD COLUMN IF NOT EXISTS {column}")


def reconciliation_sql(contract: FeedContract, first: date, last: date, run_id: str, reconciled_at: datetime,
                       anonymised: str | None) -> str:
    """One row per landing day in first..last, in load_reconciliation's column order. Plain SQL that DuckDB and
    Spark both run (scaleout/spark_ingest.py), so the balance is defined once; `anonymised` is the table of facts
    an erasure kept, where the engine has one."""
    feed, key = contract.feed, ", ".join(f"r.{k}" for k in contract.natural_key)
    days = f"BETWEEN DATE '{first}' AND DATE '{last}'"
    row = "concat(_source_file, ':', CAST(_row_number AS VARCHAR(20)))"
    anonymised_days = (f"SELECT _load_date AS load_date, count(*) AS rows_anonymised FROM {anonymised} "
                       f"WHERE _load_date {days} GROUP BY _load_date" if anonymised
                       else "SELECT CAST(NULL AS DATE) AS load_date, CAST(0 AS BIGINT) AS rows_anonymised "
                            "FROM audit.load_manifest WHERE false")
    return f"""
        WITH files AS (
            SELECT load_date,
                   count(*) FILTER (WHERE status = 'loaded') AS files_loaded,
                   count(*) FILTER (WHERE status = 'duplicate') AS files_skipped_duplicate,
                   count(*) FILTER (WHERE status IN ('failed', 'empty')) AS files_failed,
                   coalesce(sum(rows_read), 0) AS rows_read,
                   coalesce(sum(rows_suppressed), 0) AS rows_suppressed
            FROM audit.load_manifest WHERE feed = '{feed}' AND load_date {days} GROUP BY load_date
        ),
        quarantined AS (
            SELECT _load_date AS load_date,
                   count(DISTINCT {row}) FILTER (WHERE outcome = '{ROW_QUARANTINED}') AS rows_quarantined,
                   -- passed rows: counted in rows_passed too
                   count(DISTINCT {row}) FILTER (WHERE outcome <> '{ROW_QUARANTINED}') AS rows_attribute_nulled
            FROM quarantine.{feed} WHERE _load_date {days} GROUP BY _load_date
        ),
        passed AS (
            SELECT r._load_date, row_number() OVER (
                PARTITION BY {key} ORDER BY r._load_date, r._source_file, r._row_number) > 1 AS is_redelivery
            FROM raw.{feed} r
            WHERE r._load_date <= DATE '{last}' AND NOT EXISTS (
                SELECT 1 FROM quarantine.{feed} q WHERE q.outcome = '{ROW_QUARANTINED}'
                AND q._source_file = r._source_file AND q._row_number = r._row_number)
        ),
        passed_by_day AS (
            SELECT _load_date AS load_date, count(*) AS rows_passed,
                   count(*) FILTER (WHERE is_redelivery) AS redeliveries_removed
            FROM passed WHERE _load_date {days} GROUP BY _load_date
        ),
        anonymised AS ({anonymised_days})  -- facts an erasure kept without their person: in no landing file now
        SELECT '{run_id}' AS run_id, '{feed}' AS feed, files.load_date, files_loaded, files_skipped_duplicate,
               files_failed, rows_read, coalesce(rows_passed, 0) AS rows_passed,
               coalesce(rows_quarantined, 0) AS rows_quarantined,
               coalesce(redeliveries_removed, 0) AS redeliveries_removed,
               coalesce(rows_passed, 0) - coalesce(redeliveries_removed, 0) AS rows_unique,
               rows_read = coalesce(rows_passed, 0) + coalesce(rows_quarantined, 0) + rows_suppressed AS balanced,
               TIMESTAMP '{reconciled_at.isoformat(sep=' ')}' AS reconciled_at, rows_suppressed,
               coalesce(rows_anonymised, 0) AS rows_anonymised, coalesce(rows_attribute_nulled, 0) AS rows_attribute_nulled
        FROM files
        LEFT JOIN quarantined ON quarantined.load_date = files.load_date
        LEFT JOIN passed_by_day ON passed_by_day.load_date = files.load_date
        LEFT JOIN anonymised ON anonymised.load_date = files.load_date"""


def reconcile(con: duckdb.DuckDBPyConnection, contract: FeedContract, first: date, last: date, run_id: str) -> list[dict]:
    """Write and return one reconciliation row per landing day in first..last."""
    ensure_reconciliation_table(con)
    con.execute("DELETE FROM audit.load_reconciliation WHERE feed = ? AND load_date BETWEEN ? AND ?",
                [contract.feed, first, last])
    con.execute("INSERT INTO audit.load_reconciliation " + reconciliation_sql(
        contract, first, last, run_id.replace("'", "''"), datetime.now(), anonymised_table(contract.feed)))
    cursor = con.execute("SELECT * FROM audit.load_reconciliation WHERE feed = ? AND load_date BETWEEN ? AND ? "
                         "ORDER BY load_date", [contract.feed, first, last])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


CHECK_RESULTS_DDL = """
CREATE TABLE IF NOT EXISTS audit.check_results (
    run_id VARCHAR, feed VARCHAR, first_day DATE, last_day DATE, rule VARCHAR, severity VARCHAR,
    passed BOOLEAN, observed VARCHAR, expectation VARCHAR, checked_at TIMESTAMP
)"""


def record_checks(con: duckdb.DuckDBPyConnection, feed: str, first: date, last: date, run_id: str,
                  checks: list) -> None:
    """Keep each run's batch and daily check results, so the quality report and later runs can read them."""
    con.execute(CHECK_RESULTS_DDL)
    con.execute("DELETE FROM audit.check_results WHERE run_id = ? AND feed = ?", [run_id, feed])
    now = datetime.now()
    rows = [(run_id, feed, first, last, c.rule, c.severity, c.passed, c.shown, c.expectation, now)
            for c in checks]
    insert_rows(con, "audit.check_results", rows)


def newest_delivery_sql(feed: str, up_to: date) -> str:
    """The newest landing day up to `up_to` on which a file of the feed loaded at least one row (DuckDB and Spark)."""
    return (f"SELECT max(load_date) FROM audit.load_manifest WHERE feed = '{feed}' AND load_date <= DATE '{up_to}' "
            "AND status = 'loaded' AND rows_loaded > 0")


def newest_delivery(con: duckdb.DuckDBPyConnection, feed: str, up_to: date) -> date | None:
    return con.execute(newest_delivery_sql(feed, up_to)).fetchone()[0]
