"""DuckDB connections and the DDL of the tables ingestion owns (raw, quarantine, audit)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from ingestion.contracts import FeedContract
from ingestion.settings import get_settings

RAW_METADATA_COLUMNS = {
    "_extra_columns": "VARCHAR",  # JSON object of columns the contract does not know (schema drift)
    "_source_file": "VARCHAR",
    "_row_number": "BIGINT",  # 1-based data record number within the file, malformed records included
    "_load_date": "DATE",  # the landing partition the file arrived in
    "_loaded_at": "TIMESTAMP",
    "_file_checksum": "VARCHAR",
}

ROW_QUARANTINED, ATTRIBUTE_NULLED = "row_quarantined", "attribute_nulled"
QUARANTINE_COLUMNS = {
    "feed": "VARCHAR",
    "_source_file": "VARCHAR",
    "_row_number": "BIGINT",
    "_load_date": "DATE",
    "rule": "VARCHAR",
    "column_name": "VARCHAR",
    "offending_value": "VARCHAR",
    "message": "VARCHAR",
    "record": "VARCHAR",  # the whole row as JSON, or the raw line when it could not be parsed
    "quarantined_at": "TIMESTAMP",
    # row_quarantined: the row is kept out of staging; attribute_nulled: the row passes with column_name nulled
    "outcome": f"VARCHAR DEFAULT '{ROW_QUARANTINED}'",
}

MANIFEST_COLUMNS = {
    "feed": "VARCHAR",
    "load_date": "DATE",
    "file_path": "VARCHAR",
    "size_bytes": "BIGINT",
    "checksum": "VARCHAR",
    "status": "VARCHAR",  # loaded | duplicate | failed | empty
    "rows_read": "BIGINT",
    "rows_loaded": "BIGINT",
    "rows_rejected": "BIGINT",
    "message": "VARCHAR",
    "loaded_at": "TIMESTAMP",
    "rows_suppressed": "BIGINT",  # rows not written to raw: they carry an identifier an erasure suppressed
}

# Which landing days of which feed changed when: a load, a re-validation (quarantine rewritten) or an erasure
# (rows removed, renumbered). An incremental staging model looks for rows that lost their raw row only on the days
# changed since its last build (dbt_project/macros/rows.sql, changed_landing_days).
RAW_CHANGE_COLUMNS = {
    "feed": "VARCHAR",  # null: every feed
    "load_date": "DATE",  # null: every day
    "changed_at": "TIMESTAMP",  # the clock of raw's _loaded_at
    "change": "VARCHAR",  # load | validation | erasure | log created
}


def connection_config() -> dict[str, str]:
    """DuckDB settings every process of the pipeline opens the warehouse with (dbt's: macros/memory_limit.sql)."""
    limit = get_settings().duckdb_memory_limit
    return {"memory_limit": limit} if limit else {}


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only, config=connection_config())


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Append rows in one statement (one list per column); executemany costs milliseconds per row."""
    if not rows:
        return
    columns = list(zip(*rows))
    con.execute(f"INSERT INTO {table} SELECT " + ", ".join("unnest(?)" for _ in columns), [list(c) for c in columns])


def _ddl(table: str, columns: dict[str, str]) -> str:
    body = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {table} ({body})"


def anonymised_table(feed: str) -> str:
    return f"raw.{feed}__anonymised"


def ensure_feed_tables(con: duckdb.DuckDBPyConnection, contract: FeedContract) -> None:
    for schema in ("raw", "quarantine", "audit"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    raw_columns = {name: "VARCHAR" for name in contract.column_names} | RAW_METADATA_COLUMNS
    con.execute(_ddl(f"raw.{contract.feed}", raw_columns))
    con.execute(_ddl(f"quarantine.{contract.feed}", QUARANTINE_COLUMNS))
    con.execute(f"ALTER TABLE quarantine.{contract.feed} ADD COLUMN IF NOT EXISTS outcome "  # older warehouses
                f"{QUARANTINE_COLUMNS['outcome']}")
    con.execute(_ddl("audit.load_manifest", MANIFEST_COLUMNS))
    con.execute("ALTER TABLE audit.load_manifest ADD COLUMN IF NOT EXISTS rows_suppressed BIGINT")  # older warehouses
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                       "AND schema_name = 'audit' AND table_name = 'raw_changes'").fetchone()[0]:
        con.execute(_ddl("audit.raw_changes", RAW_CHANGE_COLUMNS))
        # a warehouse older than the log may hold changes no build has seen: its next build checks every day
        log_raw_changes(con, None, [None], "log created")
    # the facts an erasure kept, anonymised: no landing file holds them any more, so no reload replaces them
    con.execute(f"CREATE TABLE IF NOT EXISTS {anonymised_table(contract.feed)} AS "
                f"SELECT * FROM raw.{contract.feed} WITH NO DATA")


def log_raw_changes(con: duckdb.DuckDBPyConnection, feed: str | None, days: list, change: str,
                    at: datetime | None = None) -> None:
    """Record that these landing days of the feed changed (see RAW_CHANGE_COLUMNS), in the caller's transaction."""
    at = at or datetime.now()
    insert_rows(con, "audit.raw_changes", [(feed, day, at, change) for day in days])


def span_days(first: date, last: date) -> list[date]:
    """Every day from first to last, both included (a validation's span)."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
