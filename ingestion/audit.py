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


def reconcile(con: duckdb.DuckDBPyConnection, contract: FeedContract, first: date, last: date, run_id: str) -> list[dict]:
    """Write and return one reconciliation row per landing day in first..last."""
    feed, key = contract.feed, ", ".join(f'"{k}"' for k in contract.natural_key)
    ensure_reconciliation_table(con)
    con.execute("DELETE FROM audit.load_reconciliation WHERE feed = ? AND load_date BETWEEN ? AND ?", [feed, first, last])
    con.execute(
        f"""INSERT INTO audit.load_reconciliation
        WITH files AS (
            SELECT load_date,
                   count(*) FILTER (WHERE status = 'loaded') AS files_loaded,
                   count(*) FILTER (WHERE status = 'duplicate') AS files_skipped_duplicate,
                   count(*) FILTER (WHERE status IN ('failed', 'empty')) AS files_failed,
                   coalesce(sum(rows_read), 0) AS rows_read,
                   coalesce(sum(rows_suppressed), 0) AS rows_suppressed
            FROM audit.load_manifest WHERE feed = ? AND load_date BETWEEN ? AND ? GROUP BY load_date
        ),
        quarantined AS (
            SELECT _load_date AS load_date,
                   count(DISTINCT (_source_file, _row_number)) FILTER (WHERE outcome = '{ROW_QUARANTINED}')
                       AS rows_quarantined,
                   count(DISTINCT (_source_file, _row_number)) FILTER (WHERE outcome <> '{ROW_QUARANTINED}')
                       AS rows_attribute_nulled  -- passed rows: counted in rows_passed too
            FROM quarantine.{feed} WHERE _load_date BETWEEN ? AND ? GROUP BY 1
        ),
        passed AS (
            SELECT r._load_date, row_number() OVER (
                PARTITION BY {key} ORDER BY r._load_date, r._source_file, r._row_number) > 1 AS is_redelivery
            FROM raw.{feed} r
            ANTI JOIN (SELECT * FROM quarantine.{feed} WHERE outcome = '{ROW_QUARANTINED}') q
                USING (_source_file, _row_number)
            WHERE r._load_date <= ?
        ),
        passed_by_day AS (
            SELECT _load_date AS load_date, count(*) AS rows_passed,
                   count(*) FILTER (WHERE is_redelivery) AS redeliveries_removed
            FROM passed WHERE _load_date BETWEEN ? AND ? GROUP BY 1
        ),
        anonymised AS (  -- facts an erasure kept without their person: no longer in any landing file
            SELECT _load_date AS load_date, count(*) AS rows_anonymised
            FROM {anonymised_table(feed)} WHERE _load_date BETWEEN ? AND ? GROUP BY 1
        )
        SELECT ?, ?, files.load_date, files_loaded, files_skipped_duplicate, files_failed, rows_read,
               coalesce(rows_passed, 0), coalesce(rows_quarantined, 0), coalesce(redeliveries_removed, 0),
               coalesce(rows_passed, 0) - coalesce(redeliveries_removed, 0),
               rows_read = coalesce(rows_passed, 0) + coalesce(rows_quarantined, 0) + rows_suppressed, ?,
               rows_suppressed, coalesce(rows_anonymised, 0), coalesce(rows_attribute_nulled, 0)
        FROM files
        LEFT JOIN quarantined USING (load_date)
        LEFT JOIN passed_by_day USING (load_date)
        LEFT JOIN anonymised USING (load_date)""",
        [feed, first, last, first, last, last, first, last, first, last, run_id, feed, datetime.now()],
    )
    cursor = con.execute("SELECT * FROM audit.load_reconciliation WHERE feed = ? AND load_date BETWEEN ? AND ? "
                         "ORDER BY load_date", [feed, first, last])
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


def newest_delivery(con: duckdb.DuckDBPyConnection, feed: str, up_to: date) -> date | None:
    """The newest landing day up to `up_to` on which a file of the feed loaded at least one row."""
    return con.execute("SELECT max(load_date) FROM audit.load_manifest WHERE feed = ? AND load_date <= ? "
                       "AND status = 'loaded' AND rows_loaded > 0", [feed, up_to]).fetchone()[0]
