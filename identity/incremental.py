"""Incremental identity resolution: a run resolves again only the customers its changed records touch.

`identity.resolved_records` holds the content of every record as the last resolution saw it. A record is
*changed* when it is new, its content differs, or it is gone (a changed record is a delete plus a new record).
From the changed records a run derives what can move, and resolves only that:

- **Splink edges**: the new and changed records are scored against the others (`predict_between`) and among
  themselves (`predict_within`), the model frozen; the old edges of a changed record go. Every blocking rule and
  comparison is symmetric and the model uses no term frequencies, so a pair's score depends on its two records
  alone and the edges between unchanged records stand.
- **Deterministic edges**: an identifier value joins the records that hold it unless it is junk or shared by a
  crowd, which depends only on the records holding that value. The values a changed record held or holds are
  judged again over the records holding them; the edges of every other value stand.
- **Components**: every cluster is one customer id and its edges lie within it. The customers that held a
  changed record or an edge that went, and those a new edge reaches, are the *affected* customers: their
  records and the new ones are clustered again over their kept and new edges, and given ids (identity/crosswalk.py)
  as a full run would give them. No other customer can change.

The result equals a full resolution of the same records (tests/test_identity_incremental.py). A new model,
threshold or rule set makes the previous edges meaningless: its fingerprint then forces a full resolution, as
`python -m identity rescore` and the asset's `full_rescore` do.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from identity.clustering import cluster_labels
from identity.crosswalk import REGISTRY_COLUMNS
from identity.deterministic import identifier_edges
from identity.models import SHIPPED, Model
from identity.probabilistic import SPLINK_COLUMNS, could_pair, new_record_edges, splink_input
from identity.resolver import RECORD_COLUMNS, prepare
from identity.rules import MatchRules

RECORDS = "intermediate.int_customer_records"
EDGE_COLUMNS = ["left_source", "left_record_id", "right_source", "right_record_id", "rule", "match_weight",
                "match_probability"]
# A record's content as the state keeps it: text throughout, so a date compares the same whichever frame or
# table it came from.
CONTENT = ", ".join(f'"{column}"::VARCHAR AS "{column}"' for column in RECORD_COLUMNS)
# identity.splink_records: each named record in Splink's layout, so a run cleans only the records that arrived
LAYOUT_COLUMNS = ["source", "source_record_id", *SPLINK_COLUMNS]


def fingerprint(rules: MatchRules, model: Model = SHIPPED) -> str:
    """What the edges depend on besides the records: the model, its threshold and the match rules."""
    body = model.source if isinstance(model.source, dict) else json.loads(Path(model.source).read_text())
    threshold = rules.threshold_for(model.threshold)
    return hashlib.sha256(json.dumps([body, threshold, rules.canonical()], sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Scope:
    """What a run resolves again: records (source, source_record_id, cluster: the affected customers' current
    records and the new ones), their edges (EDGE_COLUMNS by record key, and `left_index` into records), and the
    affected customers' crosswalk and registry rows."""
    records: pd.DataFrame
    edges: pd.DataFrame
    crosswalk: pd.DataFrame
    registry: pd.DataFrame


def find_changes(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Temp tables `_arrived` (content of records new or changed), `_departed` (last content of records changed
    or gone) and `_changed_records` (their keys). Returns how many arrived and departed."""
    state = ", ".join(f'"{column}"' for column in RECORD_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _arrived AS SELECT {CONTENT} FROM {RECORDS} "
                f"EXCEPT SELECT {state} FROM identity.resolved_records")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _departed AS SELECT {state} FROM identity.resolved_records "
                f"EXCEPT SELECT {CONTENT} FROM {RECORDS}")
    con.execute("CREATE OR REPLACE TEMP TABLE _changed_records AS SELECT source, source_record_id FROM _arrived "
                "UNION SELECT source, source_record_id FROM _departed")
    return (con.execute("SELECT count(*) FROM _arrived").fetchone()[0],
            con.execute("SELECT count(*) FROM _departed").fetchone()[0])


def _records(con: duckdb.DuckDBPyConnection, where: str = "true") -> pd.DataFrame:
    """Current records in the layout and order a full resolution reads them (identity/store.py)."""
    columns = ", ".join(RECORD_COLUMNS)
    return prepare(con.execute(f"SELECT {columns} FROM {RECORDS} WHERE {where} ORDER BY source, source_record_id").df())


def _by_key(records: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """Edges between record positions as edges between record keys, the smaller key on the left (as a full
    resolution, which numbers the records in key order, writes them)."""
    left, right = edges["left_index"].to_numpy(dtype="int64"), edges["right_index"].to_numpy(dtype="int64")
    sources, ids = records["source"].to_numpy(), records["source_record_id"].astype(str).to_numpy()
    swap = (sources[left] > sources[right]) | ((sources[left] == sources[right]) & (ids[left] > ids[right]))
    left, right = np.where(swap, right, left), np.where(swap, left, right)
    return pd.DataFrame({"left_source": sources[left], "left_record_id": ids[left], "right_source": sources[right],
                         "right_record_id": ids[right], "rule": edges["rule"].to_numpy(),
                         "match_weight": edges["match_weight"].astype(float).to_numpy(),
                         "match_probability": edges["match_probability"].astype(float).to_numpy()})


def _new_edges(con: duckdb.DuckDBPyConnection, rules: MatchRules, model: Model) -> tuple[pd.DataFrame, int]:
    """The deterministic edges of every identifier value a changed record held or holds, and the Splink edges of
    the records that arrived; with how many records Splink scored. Leaves temp table `_arrived_layout` (the
    arrived records in Splink's layout, with their keys) for the write."""
    found = []
    for identifier in rules.identifiers:
        values = (f'SELECT "{identifier}" FROM _arrived UNION SELECT "{identifier}" FROM _departed')
        holders = _records(con, f'"{identifier}"::VARCHAR IN ({values})')
        found.append(_by_key(holders, identifier_edges(holders, identifier, rules).assign(match_probability=1.0)))
    arrived = _records(con, "(source, source_record_id) IN (SELECT (source, source_record_id) FROM _arrived)")
    first_id = con.execute("SELECT coalesce(max(unique_id), -1) + 1 FROM identity.splink_records").fetchone()[0]
    layout = with_keys(arrived, splink_input(arrived), first_id)
    con.register("_arrived_layout_frame", layout)
    con.execute("CREATE OR REPLACE TEMP TABLE _arrived_layout AS SELECT * FROM _arrived_layout_frame")
    con.unregister("_arrived_layout_frame")
    if len(layout):
        # Splink scores them against the existing records some blocking rule pairs them with: the others cannot
        # get an edge to them
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _candidates AS {could_pair(
            "(SELECT * FROM identity.splink_records ANTI JOIN _changed_records USING (source, source_record_id))",
            "_arrived_layout", model.source)}""")
        scored = pd.concat([con.execute("SELECT * FROM _candidates").df(), layout], ignore_index=True)
        is_new = np.arange(len(scored)) >= len(scored) - len(layout)
        edges = new_record_edges(scored[SPLINK_COLUMNS], is_new, rules.threshold_for(model.threshold), model.source)
        # edges name records by unique id: as positions in `scored`
        position = pd.Series(np.arange(len(scored)), index=scored["unique_id"].to_numpy())
        edges["left_index"] = position.reindex(edges["left_index"].to_numpy()).to_numpy()
        edges["right_index"] = position.reindex(edges["right_index"].to_numpy()).to_numpy()
        found.append(_by_key(scored, edges))
    return pd.concat(found, ignore_index=True)[EDGE_COLUMNS], len(layout)


def with_keys(records: pd.DataFrame, layout: pd.DataFrame, first_id: int = 0) -> pd.DataFrame:
    """The Splink layout of `records` (`splink_input`: its unique ids are positions in `records`) with each
    record's key, and unique ids counted on from `first_id`: the layout `identity.splink_records` keeps."""
    positions = layout["unique_id"].to_numpy(dtype="int64")
    return layout.assign(source=records["source"].to_numpy()[positions],
                         source_record_id=records["source_record_id"].astype(str).to_numpy()[positions],
                         unique_id=first_id + np.arange(len(layout), dtype="int64"))[LAYOUT_COLUMNS]


def scope(con: duckdb.DuckDBPyConnection, rules: MatchRules, model: Model) -> tuple[Scope, int]:
    """What `find_changes` found, taken to the customers it affects, clustered again; with how many records Splink
    scored. Leaves temp table `_affected` (the affected customers' ids) for the write."""
    new_edges, scored = _new_edges(con, rules, model)
    con.register("_new_edges_frame", new_edges)
    con.execute("CREATE OR REPLACE TEMP TABLE _new_edges AS SELECT * FROM _new_edges_frame")
    con.unregister("_new_edges_frame")
    # the edges that go: Splink's touching a changed record, and those of every value judged again (a star
    # edge's left record is the value's anchor: the value is its last content's)
    judged = " UNION ALL ".join(
        f"""SELECT e.left_source, e.left_record_id, e.right_source, e.right_record_id, e.rule, e.customer_id
            FROM identity.match_edges e JOIN identity.resolved_records s
              ON s.source = e.left_source AND s.source_record_id = e.left_record_id
            WHERE e.rule = 'same_{identifier}' AND s."{identifier}" IN (
                SELECT "{identifier}" FROM _arrived UNION SELECT "{identifier}" FROM _departed)"""
        for identifier in rules.identifiers)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _dropped_edges AS
        SELECT left_source, left_record_id, right_source, right_record_id, rule, customer_id
        FROM identity.match_edges
        WHERE rule = 'splink' AND ((left_source, left_record_id) IN (SELECT (source, source_record_id) FROM _changed_records)
                                OR (right_source, right_record_id) IN (SELECT (source, source_record_id) FROM _changed_records))
        UNION ALL {judged}""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _affected AS
        SELECT customer_id FROM identity.customer_crosswalk SEMI JOIN _changed_records USING (source, source_record_id)
        UNION SELECT customer_id FROM _dropped_edges
        UNION SELECT c.customer_id FROM identity.customer_crosswalk c
              JOIN _new_edges n ON c.source = n.left_source AND c.source_record_id = n.left_record_id
        UNION SELECT c.customer_id FROM identity.customer_crosswalk c
              JOIN _new_edges n ON c.source = n.right_source AND c.source_record_id = n.right_record_id""")
    records = con.execute(f"""
        SELECT source, source_record_id FROM {RECORDS}
        WHERE (source, source_record_id) IN (
            SELECT (source, source_record_id) FROM identity.customer_crosswalk SEMI JOIN _affected USING (customer_id)
            UNION SELECT (source, source_record_id) FROM _arrived)
        ORDER BY source, source_record_id""").df()
    edges = con.execute(f"""
        SELECT {", ".join(EDGE_COLUMNS)} FROM identity.match_edges SEMI JOIN _affected USING (customer_id)
        ANTI JOIN _dropped_edges USING (left_source, left_record_id, right_source, right_record_id, rule)
        UNION ALL SELECT {", ".join(EDGE_COLUMNS)} FROM _new_edges""").df()
    position = pd.Series(np.arange(len(records)), index=pd.MultiIndex.from_frame(records.astype(str)))
    left = position.reindex(pd.MultiIndex.from_arrays([edges["left_source"], edges["left_record_id"]])).to_numpy()
    right = position.reindex(pd.MultiIndex.from_arrays([edges["right_source"], edges["right_record_id"]])).to_numpy()
    if np.isnan(left).any() or np.isnan(right).any():  # an edge leaving the affected customers: a broken state
        raise RuntimeError("identity state is inconsistent: an edge reaches a record outside its customer; run "
                           "`python -m identity rescore`")
    edges["left_index"] = left.astype("int64")
    records["cluster"] = cluster_labels(len(records), pd.DataFrame({"left_index": edges["left_index"],
                                                                   "right_index": right.astype("int64")}))
    crosswalk = con.execute("SELECT source, source_record_id, customer_id FROM identity.customer_crosswalk "
                            "SEMI JOIN _affected USING (customer_id)").df()
    registry = con.execute(f"SELECT {', '.join(REGISTRY_COLUMNS)} FROM identity.customer_registry "
                           "SEMI JOIN _affected USING (customer_id)").df()
    return Scope(records, edges, crosswalk, registry), scored
