"""The `meta` schema of every publication: what it is, where it came from, how fresh and how big."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import yaml

from ingestion.audit import ensure_reconciliation_table
from ingestion.contracts import load_contracts
from serving.policy import ColumnRule


@dataclass(frozen=True)
class Generation:
    """One publish: its id is shared by the BI and the restricted database (and PostgreSQL) it produced."""

    generation_id: str
    published_at: datetime
    run_id: str
    models_version: str


def models_version(manifest_path: Path) -> str:
    """The dbt project's version plus a digest of every model's and seed's SQL checksum: two publications with
    the same value were built by the same models. The manifest sits in the project's target/ folder."""
    nodes = json.loads(manifest_path.read_text())["nodes"].values()
    project = yaml.safe_load((manifest_path.parent.parent / "dbt_project.yml").read_text())
    checksums = sorted(f"{n['unique_id']}={n['checksum']['checksum']}" for n in nodes
                       if n["resource_type"] in ("model", "seed", "snapshot"))
    return f"{project['version']}+{hashlib.sha256(chr(10).join(checksums).encode()).hexdigest()[:12]}"


# The build database's tables that the meta schema is made from, besides the published schemas.
META_SOURCES = ("audit.load_reconciliation", "audit.load_manifest", "identity.customer_id_changes",
                "identity.resolution_runs")

# one reconciliation row per feed and landing day: the last run's
LATEST_RECONCILIATION_SQL = """
SELECT * FROM audit.load_reconciliation
QUALIFY row_number() OVER (PARTITION BY feed, load_date ORDER BY reconciled_at DESC) = 1
"""

FEEDS_SQL = f"""
WITH latest AS ({LATEST_RECONCILIATION_SQL}),
loaded AS (
    SELECT feed, max(load_date) AS last_landing_day, max(loaded_at) AS last_loaded_at
    FROM audit.load_manifest WHERE status = 'loaded' GROUP BY feed
)
SELECT latest.feed, loaded.last_landing_day, loaded.last_loaded_at,
       sum(latest.files_loaded)::BIGINT AS files_loaded, sum(latest.rows_read)::BIGINT AS rows_read,
       sum(latest.rows_passed)::BIGINT AS rows_passed, sum(latest.rows_quarantined)::BIGINT AS rows_quarantined,
       coalesce(sum(latest.rows_suppressed), 0)::BIGINT AS rows_suppressed,
       sum(latest.redeliveries_removed)::BIGINT AS redeliveries_removed,
       bool_and(latest.balanced) AS balanced,  -- every landing day: rows read = passed + quarantined + suppressed
       date_diff('day', loaded.last_landing_day, max(loaded.last_landing_day) OVER ()) AS days_behind_newest_feed
FROM latest LEFT JOIN loaded USING (feed)
GROUP BY latest.feed, loaded.last_landing_day, loaded.last_loaded_at ORDER BY latest.feed
"""


FEED_DAYS_SQL = f"""
SELECT feed, load_date AS landing_day, files_loaded, rows_read, rows_passed, rows_quarantined,
       coalesce(rows_suppressed, 0) AS rows_suppressed, redeliveries_removed, balanced,
       rows_quarantined / nullif(rows_read, 0) AS quarantine_share
FROM ({LATEST_RECONCILIATION_SQL})
ORDER BY feed, landing_day
"""

# Per identity resolution: what it scored and what it changed (counts only: no customer id leaves the warehouse).
IDENTITY_RUNS_SQL = """
WITH changes AS (
    SELECT run_id, count(*) FILTER (WHERE change = 'new') AS new_customers,
           count(*) FILTER (WHERE change = 'merge') AS merges, count(*) FILTER (WHERE change = 'split') AS splits,
           count(*) FILTER (WHERE change = 'retire') AS retired
    FROM identity.customer_id_changes GROUP BY run_id
)
SELECT runs.resolved_at, runs.mode, runs.records, runs.records_scored, runs.customers,
       coalesce(changes.new_customers, 0) AS new_customers, coalesce(changes.merges, 0) AS merges,
       coalesce(changes.splits, 0) AS splits, coalesce(changes.retired, 0) AS retired
FROM identity.resolution_runs AS runs LEFT JOIN changes USING (run_id)
ORDER BY runs.resolved_at
"""
IDENTITY_RUNS_COLUMNS = ("resolved_at TIMESTAMP, mode VARCHAR, records BIGINT, records_scored BIGINT, customers BIGINT, "
                         "new_customers BIGINT, merges BIGINT, splits BIGINT, retired BIGINT")


def write_meta(con: duckdb.DuckDBPyConnection, catalog: str, generation: Generation, kind: str,
               row_counts: dict[str, int], columns: list[tuple[str, ColumnRule]]) -> None:
    """Into the attached publication `catalog`, from the build database `con` is connected to."""
    con.execute(f"CREATE SCHEMA {catalog}.meta")
    con.execute(f"""CREATE TABLE {catalog}.meta.publication AS SELECT
        ?::VARCHAR AS generation_id, ?::TIMESTAMP AS published_at, ?::VARCHAR AS run_id,
        ?::VARCHAR AS models_version, ?::VARCHAR AS kind""",
                [generation.generation_id, generation.published_at, generation.run_id, generation.models_version,
                 kind])
    ensure_reconciliation_table(con)  # a warehouse older than its latest columns
    con.execute(f"CREATE TABLE {catalog}.meta.feeds AS {FEEDS_SQL}")
    _add_freshness(con, f"{catalog}.meta.feeds")
    con.execute(f"CREATE TABLE {catalog}.meta.feed_days AS {FEED_DAYS_SQL}")
    if _has_tables(con, "identity", ("resolution_runs", "customer_id_changes")):
        con.execute(f"CREATE TABLE {catalog}.meta.identity_runs AS {IDENTITY_RUNS_SQL}")
    else:  # nothing resolved yet
        con.execute(f"CREATE TABLE {catalog}.meta.identity_runs ({IDENTITY_RUNS_COLUMNS})")
    _insert_rows(con, f"{catalog}.meta.tables", {"schema_name": "VARCHAR", "table_name": "VARCHAR",
                                                 "row_count": "BIGINT"},
                 [(*table.split("."), rows) for table, rows in sorted(row_counts.items())])
    _insert_rows(con, f"{catalog}.meta.columns", dict.fromkeys(
        ("schema_name", "table_name", "column_name", "source_column", "pii", "treatment"), "VARCHAR"), [
        (*table.split("."), rule.published_name if kind == "bi" else rule.column, rule.column, rule.pii,
         rule.treatment if kind == "bi" else "kept")
        for table, rule in columns])


def _add_freshness(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Each feed's allowance from its contract, and whether it is within it (the `delivered_recently` check)."""
    allowed = {feed: contract.max_days_without_delivery for feed, contract in load_contracts().items()}
    con.execute(f"ALTER TABLE {table} ADD COLUMN max_days_without_delivery INTEGER")
    con.execute(f"""UPDATE {table} SET max_days_without_delivery = allowed.days
                    FROM (SELECT unnest(?::VARCHAR[]) AS feed, unnest(?::INTEGER[]) AS days) AS allowed
                    WHERE {table}.feed = allowed.feed""", [list(allowed), list(allowed.values())])
    con.execute(f"ALTER TABLE {table} ADD COLUMN is_fresh BOOLEAN")
    con.execute(f"UPDATE {table} SET is_fresh = days_behind_newest_feed <= max_days_without_delivery")


def _has_tables(con: duckdb.DuckDBPyConnection, schema: str, tables: tuple[str, ...]) -> bool:
    found = con.execute("""SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database()
                           AND table_schema = ? AND table_name IN ?""", [schema, list(tables)]).fetchone()[0]
    return found == len(tables)


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], rows: list[tuple]) -> None:
    """Create `table` with `rows`, in one statement (executemany costs a statement per row)."""
    selected = ", ".join(f"unnest(?::{data_type}[]) AS {name}" for name, data_type in columns.items())
    con.execute(f"CREATE TABLE {table} AS SELECT {selected}", [list(values) for values in zip(*rows)] if rows
                else [[] for _ in columns])
