"""Incremental identity resolution equals a full one: FEBRL 2 resolved in part, then with new, changed and
deleted records, scoring only what is new; the Splink edges and the clusters must equal a full resolution's."""

import os
import subprocess
import sys
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd
import pytest

from identity import incremental
from identity.evaluation import febrl_records
from identity.rules import MatchRules
from identity.store import _replace_changed, ensure_tables


def _state(outcome: incremental.Outcome, rules: MatchRules) -> incremental.Previous:
    """What identity.store keeps of a resolution, by record key."""
    records, edges = outcome.resolution.records, outcome.resolution.edges
    splink = edges[edges["rule"] == "splink"]
    left, right = splink["left_index"].to_numpy(), splink["right_index"].to_numpy()
    keys = records["source_record_id"].astype(str).to_numpy()
    return incremental.Previous(incremental.fingerprint(rules), outcome.record_hashes, pd.DataFrame({
        "left_source": records["source"].to_numpy()[left], "left_record_id": keys[left],
        "right_source": records["source"].to_numpy()[right], "right_record_id": keys[right],
        "match_weight": splink["match_weight"].to_numpy(), "match_probability": splink["match_probability"].to_numpy()}))


def _splink_pairs(outcome: incremental.Outcome) -> set[tuple[str, str]]:
    records, edges = outcome.resolution.records, outcome.resolution.edges
    splink = edges[edges["rule"] == "splink"]
    keys = records["source_record_id"].to_numpy()
    return {tuple(sorted(pair)) for pair in zip(keys[splink["left_index"]], keys[splink["right_index"]])}


def _partition(outcome: incremental.Outcome) -> set[frozenset[str]]:
    records = outcome.resolution.records
    return {frozenset(group) for group in records.groupby("cluster")["source_record_id"].agg(list)}


@pytest.fixture(scope="module")
def febrl():
    return febrl_records(2)


def test_scoring_only_what_is_new_equals_a_full_resolution(febrl):
    rules = MatchRules()
    order = np.random.default_rng(3).permutation(len(febrl))
    before = febrl.iloc[np.sort(order[:4000])].reset_index(drop=True)
    first = incremental.resolve(before, None, rules)
    assert first.mode == "full"

    after = febrl.drop(febrl.index[order[:30]]).copy()  # 30 records gone (an erasure), 970 new
    changed = after.index[:20]
    after.loc[changed, "last_name"] = after.loc[changed, "last_name"].fillna("") + "e"  # corrected in the source
    after = after.sample(frac=1.0, random_state=2).reset_index(drop=True)  # another order: indices differ

    step = incremental.resolve(after, _state(first, rules), rules)
    full = incremental.resolve(after, None, rules)
    assert step.mode == "incremental" and full.mode == "full"
    new = len(after) - len(set(after["source_record_id"]) & set(before["source_record_id"]))
    assert new + 1 <= step.records_scored <= new + len(changed)  # the new and the changed that were there before
    assert _splink_pairs(step) == _splink_pairs(full) and len(_splink_pairs(full)) > 1000
    assert _partition(step) == _partition(full)


def test_another_model_or_threshold_scores_everything_again(febrl):
    rules = MatchRules()
    first = incremental.resolve(febrl.head(500), None, rules)
    stricter = MatchRules(match_threshold=0.999)
    again = incremental.resolve(febrl.head(600), _state(first, rules), stricter)
    assert again.mode == "full" and again.records_scored == 600


def test_the_fingerprint_is_the_same_in_every_process():
    """Each run is a new process: were the fingerprint to follow Python's per-process hash seed (a set's order),
    every run would re-score every record."""
    script = ("from identity.incremental import fingerprint; from identity.rules import MatchRules; "
              "print(fingerprint(MatchRules()))")
    prints = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout
              for seed in ("1", "2", "3")}
    assert len(prints) == 1 and len(prints.pop()) == 65


def test_the_crosswalk_stamps_only_the_rows_a_run_changed():
    """fct_touchpoints re-reads the events of the records whose crosswalk row carries a newer changed_at: a run
    must stamp the rows it moved or added, and leave the others' stamps alone."""
    first, second = datetime(2026, 1, 1), datetime(2026, 1, 2)
    before = pd.DataFrame({"source": ["crm", "crm", "pos"], "source_record_id": ["a", "b", "c"],
                           "customer_id": ["CU-1", "CU-2", "CU-2"]})
    after = pd.DataFrame({"source": ["crm", "crm", "pos"], "source_record_id": ["a", "b", "d"],
                          "customer_id": ["CU-1", "CU-1", "CU-2"]})  # b merged into CU-1, c gone, d new
    with duckdb.connect() as con:
        ensure_tables(con)
        _replace_changed(con, "customer_crosswalk", before, changed_at=first)
        _replace_changed(con, "customer_crosswalk", after, changed_at=second)
        stamped = con.execute("SELECT source_record_id, customer_id, changed_at FROM identity.customer_crosswalk "
                              "ORDER BY 1").fetchall()
    assert stamped == [("a", "CU-1", first), ("b", "CU-1", second), ("d", "CU-2", second)]
