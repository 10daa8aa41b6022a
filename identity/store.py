"""The identity tables in the warehouse: crosswalk, id registry, change log and the edges behind each cluster."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from identity.crosswalk import CHANGE_COLUMNS, REGISTRY_COLUMNS, Assignment, assign
from identity.incremental import SPLINK_EDGE_COLUMNS, Outcome, Previous, fingerprint, resolve
from identity.models import for_records, warehouse_model_path
from identity.resolver import RECORD_COLUMNS, Resolution, prepare
from identity.rules import MatchRules

DDL = [
    "CREATE SCHEMA IF NOT EXISTS identity",
    "CREATE TABLE IF NOT EXISTS identity.customer_crosswalk (source VARCHAR, source_record_id VARCHAR, customer_id VARCHAR)",
    "CREATE TABLE IF NOT EXISTS identity.customer_registry (customer_id VARCHAR, created_at TIMESTAMP, "
    "created_run_id VARCHAR, status VARCHAR, merged_into VARCHAR)",
    "CREATE TABLE IF NOT EXISTS identity.customer_id_changes (changed_at TIMESTAMP, run_id VARCHAR, change VARCHAR, "
    "customer_id VARCHAR, related_customer_id VARCHAR, records BIGINT, reason VARCHAR)",
    "CREATE TABLE IF NOT EXISTS identity.match_edges (customer_id VARCHAR, left_source VARCHAR, "
    "left_record_id VARCHAR, right_source VARCHAR, right_record_id VARCHAR, rule VARCHAR, match_weight DOUBLE, "
    "match_probability DOUBLE)",
    # what the next resolution compares with (identity/incremental.py)
    "CREATE TABLE IF NOT EXISTS identity.resolved_records (source VARCHAR, source_record_id VARCHAR, "
    "record_hash UBIGINT)",
    "CREATE TABLE IF NOT EXISTS identity.resolution_runs (resolved_at TIMESTAMP, run_id VARCHAR, mode VARCHAR, "
    "fingerprint VARCHAR, records BIGINT, records_scored BIGINT)",
    # customers after the run (a column added later: warehouses from before it get it empty)
    "ALTER TABLE identity.resolution_runs ADD COLUMN IF NOT EXISTS customers BIGINT",
    # when a run last wrote a crosswalk row: fct_touchpoints re-reads the events of the records it changed (rows
    # from before the column have none; the fact's first build after it reads every event)
    "ALTER TABLE identity.customer_crosswalk ADD COLUMN IF NOT EXISTS changed_at TIMESTAMP",
]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def read_previous(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    ensure_tables(con)
    crosswalk = con.execute("SELECT source, source_record_id, customer_id FROM identity.customer_crosswalk").df()
    registry = con.execute(f"SELECT {', '.join(REGISTRY_COLUMNS)} FROM identity.customer_registry").df()
    return crosswalk, registry


def read_previous_resolution(con: duckdb.DuckDBPyConnection) -> Previous | None:
    """The last resolution's state, or None when there is none (a new warehouse, or a full re-score asked for)."""
    ensure_tables(con)
    last = con.execute("SELECT fingerprint FROM identity.resolution_runs ORDER BY resolved_at DESC LIMIT 1").fetchone()
    if last is None:
        return None
    hashes = con.execute("SELECT source, source_record_id, record_hash FROM identity.resolved_records").df()
    edges = con.execute(f"SELECT {', '.join(SPLINK_EDGE_COLUMNS)} FROM identity.match_edges WHERE rule = 'splink'").df()
    return Previous(last[0], hashes, edges)


def forget_resolution_state(con: duckdb.DuckDBPyConnection) -> None:
    """The next resolution re-scores every record (after retraining, or to check the incremental one)."""
    ensure_tables(con)
    con.execute("DELETE FROM identity.resolution_runs")
    con.execute("DELETE FROM identity.resolved_records")


def edge_table(resolution: Resolution, crosswalk: pd.DataFrame) -> pd.DataFrame:
    records, edges = resolution.records, resolution.edges
    left, right = edges["left_index"].to_numpy(dtype="int64"), edges["right_index"].to_numpy(dtype="int64")
    sources = records["source"].to_numpy()
    record_ids = records["source_record_id"].astype(str).to_numpy()
    return pd.DataFrame({
        "customer_id": crosswalk["customer_id"].to_numpy()[left],
        "left_source": sources[left], "left_record_id": record_ids[left],
        "right_source": sources[right], "right_record_id": record_ids[right],
        "rule": edges["rule"].to_numpy(), "match_weight": edges["match_weight"].astype(float).to_numpy(),
        "match_probability": edges["match_probability"].astype(float).to_numpy(),
    })


# Each identity table's key: a run rewrites only the rows whose content changed under their key.
TABLE_KEYS = {
    "customer_crosswalk": ("source", "source_record_id"),
    "customer_registry": ("customer_id",),
    "match_edges": ("left_source", "left_record_id", "right_source", "right_record_id", "rule"),
    "resolved_records": ("source", "source_record_id"),
}


def _replace_changed(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame,
                     changed_at: datetime | None = None) -> None:
    """Make identity.<table> equal `frame`, writing only the keys whose rows differ: a day changes a few thousand
    of the 390k-record crosswalk's rows at 100k customers, and rewriting them all cost most of the write. With
    `changed_at`, the rows written carry it in the table's `changed_at` column (not compared)."""
    key = TABLE_KEYS[table]
    columns = ", ".join(frame.columns)
    con.register("_frame", frame)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _changed_keys AS
        SELECT {", ".join(key)} FROM (SELECT {columns} FROM identity.{table} EXCEPT SELECT {columns} FROM _frame)
        UNION
        SELECT {", ".join(key)} FROM (SELECT {columns} FROM _frame EXCEPT SELECT {columns} FROM identity.{table})""")
    matches = " AND ".join(f"identity.{table}.{column} = _changed_keys.{column}" for column in key)
    con.execute(f"DELETE FROM identity.{table} USING _changed_keys WHERE {matches}")
    stamp = "" if changed_at is None else ", ?::TIMESTAMP AS changed_at"
    con.execute(f"INSERT INTO identity.{table} BY NAME SELECT *{stamp} FROM _frame SEMI JOIN _changed_keys "
                f"USING ({', '.join(key)})", [] if changed_at is None else [changed_at])
    con.execute("DROP TABLE _changed_keys")
    con.unregister("_frame")


def write(con: duckdb.DuckDBPyConnection, assignment: Assignment, edges: pd.DataFrame, outcome: Outcome,
          run_id: str, fingerprint: str) -> None:
    """Replace crosswalk, registry, edges and the resolution state; append the changes and the run. One
    transaction: readers never see half."""
    con.execute("BEGIN TRANSACTION")
    try:
        # one stamp per run: fct_touchpoints compares the rows stamped after the newest stamp it took in
        _replace_changed(con, "customer_crosswalk", assignment.crosswalk, changed_at=datetime.now())
        for table, frame in (("customer_registry", assignment.registry), ("match_edges", edges),
                             ("resolved_records", outcome.record_hashes)):
            _replace_changed(con, table, frame)
        con.register("_changes", assignment.changes[CHANGE_COLUMNS])
        con.execute("INSERT INTO identity.customer_id_changes BY NAME SELECT * FROM _changes")
        con.unregister("_changes")
        con.execute("INSERT INTO identity.resolution_runs BY NAME SELECT now() AS resolved_at, ? AS run_id, ? AS mode, "
                    "? AS fingerprint, ? AS records, ? AS records_scored, ? AS customers",
                    [run_id, outcome.mode, fingerprint, len(outcome.record_hashes), outcome.records_scored,
                     int(assignment.crosswalk["customer_id"].nunique())])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def resolve_warehouse(con: duckdb.DuckDBPyConnection, run_id: str, id_key: bytes, rules: MatchRules | None = None,
                      full_rescore: bool = False) -> tuple[Outcome, Assignment]:
    """The warehouse's customer records resolved (incrementally from the last resolution unless
    `full_rescore`), given stable ids and written back: what the identity asset does."""
    rules = rules or MatchRules()
    records = con.execute(f"SELECT {', '.join(RECORD_COLUMNS)} FROM intermediate.int_customer_records "
                          "ORDER BY source, source_record_id").df()
    if full_rescore:
        forget_resolution_state(con)
    model = for_records(prepare(records), warehouse_model_path())
    previous, registry = read_previous(con)
    outcome = resolve(records, read_previous_resolution(con), rules, model)
    assignment = assign(outcome.resolution.records, previous, registry, run_id, id_key=id_key)
    write(con, assignment, edge_table(outcome.resolution, assignment.crosswalk), outcome, run_id,
          fingerprint(rules, model))
    return outcome, assignment


LINEAGE_SQL = """
SELECT 'record' AS kind, source, source_record_id AS record, NULL AS joined_to, NULL AS rule,
       NULL::DOUBLE AS match_weight, NULL::DOUBLE AS match_probability
FROM identity.customer_crosswalk WHERE customer_id = $customer_id
UNION ALL
SELECT 'edge', left_source, left_record_id, right_source || ':' || right_record_id, rule, match_weight,
       match_probability
FROM identity.match_edges WHERE customer_id = $customer_id
ORDER BY kind DESC, source, record
"""


def lineage(con: duckdb.DuckDBPyConnection, customer_id: str) -> pd.DataFrame:
    """The records joined under a customer id, and the rule or match weight of every edge that joined them."""
    return con.execute(LINEAGE_SQL, {"customer_id": customer_id}).df()
