"""Incremental identity resolution: Splink scores only what is new, against what was resolved before.

A record is new when its (source, source_record_id) was not resolved before or its content changed (a changed
record is a delete plus a new record). The Splink edges between unchanged records are kept from the last
resolution; the new records are scored against the unchanged ones (`predict_between`) and among themselves
(`predict_within`), with the model frozen. Deterministic edges are recomputed over every record: they are
cheap, and whether a value is shared by a crowd depends on every record. Components are then taken over all
edges, which re-clusters exactly the components that new or lost edges touch.

The result equals a full resolution of the same records (tests/test_identity_incremental.py): every blocking
rule and comparison is symmetric and the model uses no term frequencies, so a pair's score depends on the two
records alone (the warehouse's model is fitted once and then frozen: identity/models.py). A new model or
threshold makes the previous edges meaningless: the fingerprint below then forces a full resolution.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from identity.clustering import cluster_labels
from identity.deterministic import deterministic_edges
from identity.models import SHIPPED, Model
from identity.probabilistic import new_record_edges, probabilistic_edges
from identity.resolver import RECORD_COLUMNS, Resolution, prepare
from identity.rules import MatchRules

SPLINK_EDGE_COLUMNS = ["left_source", "left_record_id", "right_source", "right_record_id", "match_weight",
                       "match_probability"]


@dataclass(frozen=True)
class Previous:
    """What the last resolution kept: its model's fingerprint, each record's content hash and the Splink edges
    between records (by record key)."""
    fingerprint: str
    record_hashes: pd.DataFrame  # source, source_record_id, record_hash
    splink_edges: pd.DataFrame  # SPLINK_EDGE_COLUMNS


@dataclass
class Outcome:
    resolution: Resolution
    record_hashes: pd.DataFrame  # source, source_record_id, record_hash: the state the next run compares with
    mode: str  # full | incremental
    records_scored: int  # records Splink scored as new (all of them in a full resolution)


def fingerprint(rules: MatchRules, model: Model = SHIPPED) -> str:
    """What the edges depend on besides the records: the model, its threshold and the match rules."""
    body = model.source if isinstance(model.source, dict) else json.loads(Path(model.source).read_text())
    threshold = rules.threshold_for(model.threshold)
    return hashlib.sha256(json.dumps([body, threshold, rules.canonical()], sort_keys=True, default=str).encode()).hexdigest()


def record_hashes(prepared: pd.DataFrame) -> pd.Series:
    """A hash of each record's content (every column the resolver reads)."""
    content = prepared[RECORD_COLUMNS].astype("string")
    return pd.util.hash_pandas_object(content, index=False).astype("uint64")


def resolve(records: pd.DataFrame, previous: Previous | None, rules: MatchRules | None = None,
            model: Model = SHIPPED) -> Outcome:
    """Resolve `records`, incrementally from `previous` when it was made with this model and these rules."""
    rules = rules or MatchRules()
    threshold = rules.threshold_for(model.threshold)
    prepared = prepare(records)
    hashes = record_hashes(prepared)
    state = pd.DataFrame({"source": prepared["source"], "source_record_id": prepared["source_record_id"].astype(str),
                          "record_hash": hashes})
    deterministic = deterministic_edges(prepared, rules).assign(match_probability=1.0)
    if previous is None or previous.fingerprint != fingerprint(rules, model):
        splink, mode, scored = probabilistic_edges(prepared, threshold, model.source), "full", len(prepared)
    else:
        unchanged = _unchanged(state, previous.record_hashes)
        kept = _kept_edges(state, unchanged, previous.splink_edges)
        scored_now = new_record_edges(prepared, ~unchanged, threshold, model.source)
        splink, mode, scored = pd.concat([kept, scored_now], ignore_index=True), "incremental", int((~unchanged).sum())
    edges = pd.concat([deterministic, splink], ignore_index=True)
    prepared["cluster"] = cluster_labels(len(prepared), edges)
    return Outcome(Resolution(prepared, edges), state, mode, scored)


def _unchanged(state: pd.DataFrame, before: pd.DataFrame) -> np.ndarray:
    """Per record: resolved before with the same content."""
    # an inner join on key and hash (a left join would turn the 64-bit hashes into floats)
    same = state.reset_index(names="position").merge(before, on=["source", "source_record_id", "record_hash"])
    unchanged = np.zeros(len(state), dtype=bool)
    unchanged[same["position"].to_numpy()] = True
    return unchanged


def _kept_edges(state: pd.DataFrame, unchanged: np.ndarray, edges: pd.DataFrame) -> pd.DataFrame:
    """The previous Splink edges whose two records are unchanged, as indices into this run's records."""
    index = pd.Series(np.arange(len(state)), index=pd.MultiIndex.from_frame(state[["source", "source_record_id"]]))
    index = index[unchanged]
    left = index.reindex(pd.MultiIndex.from_frame(edges[["left_source", "left_record_id"]].astype(str)))
    right = index.reindex(pd.MultiIndex.from_frame(edges[["right_source", "right_record_id"]].astype(str)))
    keep = left.notna().to_numpy() & right.notna().to_numpy()
    low = np.minimum(left.to_numpy()[keep], right.to_numpy()[keep]).astype("int64")
    high = np.maximum(left.to_numpy()[keep], right.to_numpy()[keep]).astype("int64")
    return pd.DataFrame({"left_index": low, "right_index": high, "rule": "splink",
                         "match_weight": edges["match_weight"].to_numpy(dtype=float)[keep],
                         "match_probability": edges["match_probability"].to_numpy(dtype=float)[keep]})
