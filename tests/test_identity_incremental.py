"""Incremental identity resolution equals a full one. A warehouse holds FEBRL 2's records (with emails and
phones added, so deterministic edges and a crowded value take part) and is resolved; then records arrive, change
and go, and an incremental run resolves only the customers they affect. Its crosswalk, registry, edges and state
must equal what a full re-score of the same records writes."""

import os
import shutil
import subprocess
import sys
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd
import pytest

from conftest import restored_environment
from identity.evaluation import febrl_records
from identity.resolver import RECORD_COLUMNS, prepare
from identity.rules import MatchRules
from identity.store import _replace_changed, ensure_tables, resolve_warehouse

KEY = b"k" * 32
CROWD = [f"crowd-{n}" for n in range(5)]  # records sharing one email, each with its own phone: a crowd


def _records() -> pd.DataFrame:
    febrl = prepare(febrl_records(2))
    entity = febrl_records(2)["entity"].astype(int).to_numpy()
    febrl["email"] = np.where(entity % 3 == 0, "p" + entity.astype(str) + "@mail.test", None)
    febrl["phone"] = np.where(entity % 5 == 0, "+44 7700 " + (100000 + entity).astype(str), None)
    crowd = pd.DataFrame({"source": "crowd", "source_record_id": CROWD, "first_name": ["ann", "bo", "cy", "di", "ed"],
                          "last_name": ["x", "y", "z", "w", "v"], "email": "family@mail.test",
                          "phone": [f"+44 7700 90000{n}" for n in range(5)]})
    return prepare(pd.concat([febrl, crowd], ignore_index=True))[RECORD_COLUMNS].astype("string")


def _write_records(path, records: pd.DataFrame) -> None:
    con = duckdb.connect(str(path))
    con.register("records", records)
    con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
    con.execute("CREATE OR REPLACE TABLE intermediate.int_customer_records AS SELECT * FROM records")
    con.close()


def _resolve(path, run_id: str, full_rescore: bool = False):
    con = duckdb.connect(str(path))
    try:
        return resolve_warehouse(con, run_id, KEY, full_rescore=full_rescore)
    finally:
        con.close()


def _tables(path) -> dict[str, set]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {table: set(con.execute(f"SELECT {columns} FROM identity.{table}").fetchall()) for table, columns in (
            ("customer_crosswalk", "source, source_record_id, customer_id"),
            ("customer_registry", "customer_id, status, merged_into"),
            ("match_edges", "customer_id, left_source, left_record_id, right_source, right_record_id, rule, "
                            "round(match_weight, 9)"),
            ("resolved_records", "*"),
            ("splink_records", "* EXCLUDE (unique_id)"))}
    finally:
        con.close()


@pytest.fixture
def warehouse(tmp_path):
    data = tmp_path / "data"
    (data / "warehouse").mkdir(parents=True)
    with restored_environment():
        os.environ.update(CRM_DATA_DIR=str(data), CRM_WAREHOUSE=str(data / "warehouse" / "crm.duckdb"))
        os.environ.pop("CRM_MATCH_THRESHOLD", None)
        yield data / "warehouse" / "crm.duckdb"


def test_resolving_only_the_affected_customers_equals_a_full_resolution(warehouse, tmp_path):
    everything = _records()
    order = np.random.default_rng(3).permutation(len(everything) - len(CROWD))
    first = everything.drop(index=order[:1000])  # 1000 FEBRL records arrive later
    _write_records(warehouse, first)
    assert _resolve(warehouse, "run-1").mode == "full"
    before = _tables(warehouse)
    assert not any(row[5] == "same_email" and row[1] == "crowd" for row in before["match_edges"])  # a crowd joins none

    after = everything.drop(index=order[1000:1030]).copy()  # 30 records gone (an erasure), 1000 new
    changed = after.index[after["source"] != "crowd"][:20]
    after.loc[changed, "last_name"] = after.loc[changed, "last_name"].fillna("") + "e"  # corrected in the source
    after = after[~after["source_record_id"].isin(CROWD[:2])]  # the crowd shrinks to three: its email now joins
    merging = after.iloc[[0]].copy()  # a new record with the email of one customer and the name and phone of another
    febrl = after[after["source"] != "crowd"]
    emailed = febrl[febrl["email"].notna()].iloc[-1]
    phoned = febrl[febrl["phone"].notna() & febrl["email"].isna()].iloc[-1]
    merging[["source_record_id", "email", "phone", "first_name", "last_name"]] = [
        "bridge", emailed["email"], phoned["phone"], phoned["first_name"], phoned["last_name"]]
    _write_records(warehouse, pd.concat([after, merging]).sample(frac=1.0, random_state=2))

    step = _resolve(warehouse, "run-2")
    assert step.mode == "incremental"
    assert 1000 < step.records_scored <= 1001 + len(changed)  # the new, the bridge and the changed ones
    assert step.id_changes.get("merge", 0) >= 1
    incremental = _tables(warehouse)
    assert any(row[5] == "same_email" and row[1] == "crowd" for row in incremental["match_edges"])

    rescored = tmp_path / "rescored.duckdb"
    shutil.copyfile(warehouse, rescored)
    full = _resolve(rescored, "run-3", full_rescore=True)
    assert full.mode == "full" and full.id_changes == {}  # nothing the incremental run wrote differs
    assert _tables(rescored) == incremental
    assert len(incremental["match_edges"]) > 2000 and incremental != before


def test_a_run_with_no_changed_record_writes_nothing_but_the_run(warehouse):
    _write_records(warehouse, _records().head(800))
    _resolve(warehouse, "run-1")
    before = _tables(warehouse)
    again = _resolve(warehouse, "run-2")
    assert (again.mode, again.records_scored, again.id_changes) == ("incremental", 0, {})
    assert _tables(warehouse) == before


def test_another_threshold_scores_everything_again(warehouse):
    _write_records(warehouse, _records().head(800))
    _resolve(warehouse, "run-1")
    os.environ["CRM_MATCH_THRESHOLD"] = "0.999"
    con = duckdb.connect(str(warehouse))
    try:
        again = resolve_warehouse(con, "run-2", KEY, rules=MatchRules(match_threshold=0.999))
    finally:
        con.close()
    assert again.mode == "full" and again.records_scored == 800


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
