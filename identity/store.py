"""The identity tables in the warehouse: crosswalk, id registry, change log, the edges behind each cluster and
the state the next incremental resolution starts from (identity/incremental.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from identity import incremental
from identity.crosswalk import CHANGE_COLUMNS, REGISTRY_COLUMNS, Assignment, assign
from identity.incremental import CONTENT, EDGE_COLUMNS, RECORDS, fingerprint, with_keys
from identity.models import Model, for_records, saved, warehouse_model_path
from identity.probabilistic import SPLINK_COLUMNS, splink_input
from identity.resolver import RECORD_COLUMNS, Resolution, prepare, resolve
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
    "CREATE TABLE IF NOT EXISTS identity.resolution_runs (resolved_at TIMESTAMP, run_id VARCHAR, mode VARCHAR, "
    "fingerprint VARCHAR, records BIGINT, records_scored BIGINT)",
    # customers after the run (a column added later: warehouses from before it get it empty)
    "ALTER TABLE identity.resolution_runs ADD COLUMN IF NOT EXISTS customers BIGINT",
    # when a run last wrote a crosswalk row: fct_touchpoints re-reads the events of the records it changed (rows
    # from before the column have none; the fact's first build after it reads every event)
    "ALTER TABLE identity.customer_crosswalk ADD COLUMN IF NOT EXISTS changed_at TIMESTAMP",
]
# each record's content as the last resolution saw it: what the next one compares with (identity/incremental.py)
RESOLVED_RECORDS = ("CREATE TABLE IF NOT EXISTS identity.resolved_records ("
                    + ", ".join(f'"{column}" VARCHAR' for column in RECORD_COLUMNS) + ")")
# and each named record in Splink's layout: a run cleans only the records that arrived
SPLINK_RECORDS = ("CREATE TABLE IF NOT EXISTS identity.splink_records (source VARCHAR, source_record_id VARCHAR, "
                  "unique_id BIGINT, " + ", ".join(f'"{column}" VARCHAR' for column in SPLINK_COLUMNS[1:]) + ")")


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)
    held = {name for (name,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
        "AND table_schema = 'identity' AND table_name = 'resolved_records'").fetchall()}
    if "record_hash" in held:  # the state of an older version (a hash per record): the next resolution is full
        con.execute("DROP TABLE identity.resolved_records")
    con.execute(RESOLVED_RECORDS)
    con.execute(SPLINK_RECORDS)


def read_previous(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    ensure_tables(con)
    crosswalk = con.execute("SELECT source, source_record_id, customer_id FROM identity.customer_crosswalk").df()
    registry = con.execute(f"SELECT {', '.join(REGISTRY_COLUMNS)} FROM identity.customer_registry").df()
    return crosswalk, registry


def forget_resolution_state(con: duckdb.DuckDBPyConnection) -> None:
    """The next resolution re-scores every record (after retraining, or to check the incremental one)."""
    ensure_tables(con)
    con.execute("DELETE FROM identity.resolution_runs")
    con.execute("DELETE FROM identity.resolved_records")
    con.execute("DELETE FROM identity.splink_records")


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
}
# An incremental run's rows: those of the customers it affected (and the new ones, which only its frames hold).
AFFECTED = "customer_id IN (SELECT customer_id FROM _affected)"


def _replace_changed(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame,
                     changed_at: datetime | None = None, scope: str = "true") -> None:
    """Make the rows of identity.<table> within `scope` (a condition on them) equal `frame`, writing only the
    keys whose rows differ: a day changes a few thousand of the 390k-record crosswalk's rows at 100k customers,
    and rewriting them all cost most of the write. With `changed_at`, the rows written carry it in the table's
    `changed_at` column (not compared)."""
    key = TABLE_KEYS[table]
    columns = ", ".join(frame.columns)
    con.register("_frame", frame)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _changed_keys AS
        SELECT {", ".join(key)} FROM (SELECT {columns} FROM identity.{table} WHERE {scope}
                                     EXCEPT SELECT {columns} FROM _frame)
        UNION
        SELECT {", ".join(key)} FROM (SELECT {columns} FROM _frame
                                     EXCEPT SELECT {columns} FROM identity.{table} WHERE {scope})""")
    matches = " AND ".join(f"identity.{table}.{column} = _changed_keys.{column}" for column in key)
    con.execute(f"DELETE FROM identity.{table} USING _changed_keys WHERE {matches}")
    stamp = "" if changed_at is None else ", ?::TIMESTAMP AS changed_at"
    con.execute(f"INSERT INTO identity.{table} BY NAME SELECT *{stamp} FROM _frame SEMI JOIN _changed_keys "
                f"USING ({', '.join(key)})", [] if changed_at is None else [changed_at])
    con.execute("DROP TABLE _changed_keys")
    con.unregister("_frame")


@dataclass
class RunSummary:
    """What a resolution did, for the asset's metadata: counts only, never a record's values."""
    mode: str  # full | incremental
    records: int
    records_scored: int  # records Splink scored (all of them in a full resolution)
    customers: int
    edges_by_rule: dict[str, int]
    id_changes: dict[str, int]


def _write(con: duckdb.DuckDBPyConnection, assignment: Assignment | None, edges: pd.DataFrame | None, mode: str,
           scored: int, run_id: str, fingerprint_: str, layout: pd.DataFrame | None = None) -> RunSummary:
    """Write a resolution in one transaction (readers never see half): the crosswalk, registry and edges it
    covers (everything in a full one, the affected customers' in an incremental one; nothing when no record
    changed: `assignment` None), the records' state (a full one's Splink `layout` with keys), the id changes and
    the run."""
    scope = "true" if mode == "full" else AFFECTED
    con.execute("BEGIN TRANSACTION")
    try:
        if assignment is not None:
            # one stamp per run: fct_touchpoints compares the rows stamped after the newest stamp it took in
            _replace_changed(con, "customer_crosswalk", assignment.crosswalk, changed_at=datetime.now(), scope=scope)
            _replace_changed(con, "customer_registry", assignment.registry, scope=scope)
            _replace_changed(con, "match_edges", edges, scope=scope)
            con.register("_changes", assignment.changes[CHANGE_COLUMNS])
            con.execute("INSERT INTO identity.customer_id_changes BY NAME SELECT * FROM _changes")
            con.unregister("_changes")
        if mode == "full":
            con.execute("DELETE FROM identity.resolved_records")
            con.execute(f"INSERT INTO identity.resolved_records SELECT {CONTENT} FROM {RECORDS}")
            con.execute("DELETE FROM identity.splink_records")
            con.register("_layout", layout)
            con.execute("INSERT INTO identity.splink_records BY NAME SELECT * FROM _layout")
            con.unregister("_layout")
        else:
            for table in ("resolved_records", "splink_records"):
                con.execute(f"DELETE FROM identity.{table} WHERE (source, source_record_id) IN "
                            "(SELECT (source, source_record_id) FROM _changed_records)")
            con.execute("INSERT INTO identity.resolved_records SELECT * FROM _arrived")
            if assignment is not None:
                con.execute("INSERT INTO identity.splink_records BY NAME SELECT * FROM _arrived_layout")
        summary = _summary(con, mode, scored, assignment)
        con.execute("INSERT INTO identity.resolution_runs BY NAME SELECT now() AS resolved_at, ? AS run_id, ? AS mode, "
                    "? AS fingerprint, ? AS records, ? AS records_scored, ? AS customers",
                    [run_id, mode, fingerprint_, summary.records, scored, summary.customers])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return summary


def _summary(con: duckdb.DuckDBPyConnection, mode: str, scored: int, assignment: Assignment | None) -> RunSummary:
    records, customers = con.execute("SELECT count(*), count(DISTINCT customer_id) FROM identity.customer_crosswalk"
                                     ).fetchone()
    edges = dict(con.execute("SELECT rule, count(*) FROM identity.match_edges GROUP BY rule ORDER BY rule").fetchall())
    return RunSummary(mode, records, scored, customers, edges,
                      {} if assignment is None else
                      {change: int(n) for change, n in assignment.changes["change"].value_counts().items()})


def _all_records(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return prepare(con.execute(f"SELECT {', '.join(RECORD_COLUMNS)} FROM {RECORDS} ORDER BY source, source_record_id").df())


def _model(con: duckdb.DuckDBPyConnection) -> Model:
    """The warehouse's saved model; without one, the model `for_records` gives its records (fitted and saved now
    once there are enough of them, the shipped one until then)."""
    path = warehouse_model_path()
    return saved(path) if path.exists() else for_records(_all_records(con), path)


def _resolve_whole(con: duckdb.DuckDBPyConnection, run_id: str, id_key: bytes, rules: MatchRules,
                   model: Model) -> RunSummary:
    """Every record resolved and scored: a new warehouse, a new model or rules, or a re-score asked for."""
    prepared = _all_records(con)
    layout = splink_input(prepared)
    resolution = resolve(prepared, rules, model, layout)
    previous, registry = read_previous(con)
    assignment = assign(resolution.records, previous, registry, run_id, id_key=id_key)
    return _write(con, assignment, edge_table(resolution, assignment.crosswalk), "full", len(layout), run_id,
                  fingerprint(rules, model), with_keys(prepared, layout))


def _resolve_changes(con: duckdb.DuckDBPyConnection, run_id: str, id_key: bytes, rules: MatchRules, model: Model,
                     fingerprint_: str) -> RunSummary:
    """Only the customers the changed records affect, resolved again (identity/incremental.py)."""
    if incremental.find_changes(con) == (0, 0):
        return _write(con, None, None, "incremental", 0, run_id, fingerprint_)
    scope, scored = incremental.scope(con, rules, model)
    issued = {customer_id for (customer_id,) in con.execute("SELECT customer_id FROM identity.customer_registry").fetchall()}
    assignment = assign(scope.records, scope.crosswalk, scope.registry, run_id, id_key=id_key, issued=issued)
    edges = scope.edges.drop(columns="left_index").assign(
        customer_id=assignment.crosswalk["customer_id"].to_numpy()[scope.edges["left_index"].to_numpy()])
    return _write(con, assignment, edges[["customer_id", *EDGE_COLUMNS]], "incremental", scored, run_id, fingerprint_)


def resolve_warehouse(con: duckdb.DuckDBPyConnection, run_id: str, id_key: bytes, rules: MatchRules | None = None,
                      full_rescore: bool = False) -> RunSummary:
    """The warehouse's customer records resolved (incrementally from the last resolution unless `full_rescore`,
    a new model or new rules), given stable ids and written back: what the identity asset does."""
    rules = rules or MatchRules()
    ensure_tables(con)
    if full_rescore:
        forget_resolution_state(con)
    model = _model(con)
    last = con.execute("SELECT fingerprint FROM identity.resolution_runs ORDER BY resolved_at DESC LIMIT 1").fetchone()
    # kept by this version (an older one kept no layout)
    state_kept = con.execute("SELECT (SELECT count(*) FROM identity.resolved_records) > 0 "
                             "AND (SELECT count(*) FROM identity.splink_records) > 0").fetchone()[0]
    if last is None or not state_kept or last[0] != fingerprint(rules, model):
        return _resolve_whole(con, run_id, id_key, rules, model)
    return _resolve_changes(con, run_id, id_key, rules, model, last[0])


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
