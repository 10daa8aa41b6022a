"""Stable customer ids: known records keep their id; merges keep the oldest; splits leave the id with the
larger part; every change is logged with its reason."""

from datetime import datetime

import pandas as pd

from identity.crosswalk import REGISTRY_COLUMNS, assign

T0, T1, T2 = datetime(2026, 1, 1), datetime(2026, 2, 1), datetime(2026, 3, 1)


def records(clusters: dict[str, int]) -> pd.DataFrame:
    keys = list(clusters)
    return pd.DataFrame({"source": [k.split(":")[0] for k in keys],
                         "source_record_id": [k.split(":")[1] for k in keys],
                         "cluster": [clusters[k] for k in keys]})


def run(clusters, previous=None, now=T0, run_id="r"):
    previous = previous or (pd.DataFrame(columns=["source", "source_record_id", "customer_id"]),
                            pd.DataFrame(columns=REGISTRY_COLUMNS))
    return assign(records(clusters), previous[0], previous[1], run_id, id_key=b"test-key", now=now)


def ids(assignment) -> dict[str, str]:
    frame = assignment.crosswalk
    return dict(zip(frame["source"] + ":" + frame["source_record_id"], frame["customer_id"]))


def state(assignment):
    return assignment.crosswalk, assignment.registry


def test_a_rerun_keeps_every_id_and_logs_nothing():
    first = run({"crm:1": 0, "web:1": 0, "crm:2": 1})
    assert list(first.changes["change"]) == ["new", "new"]
    again = run({"crm:1": 5, "web:1": 5, "crm:2": 9}, state(first), T1)  # labels differ, clusters do not
    assert ids(again) == ids(first) and again.changes.empty


def test_a_new_record_joins_its_cluster_without_touching_other_ids():
    first = run({"crm:1": 0, "crm:2": 1})
    later = run({"crm:1": 0, "web:7": 0, "crm:2": 1, "crm:3": 2}, state(first), T1)
    assert ids(later)["web:7"] == ids(first)["crm:1"] == ids(later)["crm:1"]
    assert ids(later)["crm:2"] == ids(first)["crm:2"]
    assert list(later.changes["change"]) == ["new"] and later.changes["records"].tolist() == [1]


def test_a_merge_keeps_the_oldest_id_and_records_the_other():
    first = run({"crm:1": 0}, now=T0)
    second = run({"crm:1": 0, "web:2": 1}, state(first), T1)
    older, younger = ids(first)["crm:1"], ids(second)["web:2"]
    merged = run({"crm:1": 0, "web:2": 0}, state(second), T2)
    assert set(ids(merged).values()) == {older}
    [change] = merged.changes.to_dict("records")
    assert (change["change"], change["customer_id"], change["related_customer_id"]) == ("merge", younger, older)
    assert change["reason"] == f"records of {younger} and {older} now match; kept the older id {older}"
    registry = merged.registry.set_index("customer_id")
    assert registry.loc[younger, "status"] == "merged" and registry.loc[younger, "merged_into"] == older


def test_a_split_leaves_the_id_with_the_larger_part():
    first = run({"crm:1": 0, "web:1": 0, "pos:1": 0})
    original = ids(first)["crm:1"]
    split = run({"crm:1": 0, "web:1": 0, "pos:1": 1}, state(first), T1)
    assert ids(split)["crm:1"] == ids(split)["web:1"] == original
    assert ids(split)["pos:1"] != original
    [change] = split.changes.to_dict("records")
    assert (change["change"], change["related_customer_id"], change["records"]) == ("split", original, 1)


def test_ids_do_not_depend_on_run_order_when_built_from_scratch():
    a = run({"crm:1": 0, "web:1": 0, "crm:2": 1})
    b = run({"crm:2": 7, "web:1": 3, "crm:1": 3})
    assert ids(a) == ids(b)


def test_the_crosswalk_keeps_the_order_of_the_records():
    """The identity asset maps edges to ids by position, so the output rows must follow the input rows."""
    clusters = {"web:9": 0, "crm:1": 1, "crm:0": 0, "pos:5": 2}
    assert list(run(clusters).crosswalk["source_record_id"]) == ["9", "1", "0", "5"]
