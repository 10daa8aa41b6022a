"""The warehouse's own Splink model: fitted on its records by the first resolution, saved under data/identity/,
reused (so later runs stay incremental), and fitted again only by `python -m identity train`. The warehouse here
holds FEBRL 1's records as its customer records."""

import json
import os

import duckdb
import pandas as pd
import pytest

from conftest import restored_environment
from identity.__main__ import main
from identity.evaluation import febrl_records
from identity.models import FITTED_THRESHOLD, MIN_RECORDS_TO_FIT, SHIPPED, for_records
from identity.probabilistic import splink_input
from identity.resolver import RECORD_COLUMNS, prepare
from identity.store import resolve_warehouse

KEY = b"k" * 32


@pytest.fixture
def warehouse(tmp_path):
    data = tmp_path / "data"
    (data / "warehouse").mkdir(parents=True)
    path = data / "warehouse" / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.register("records", prepare(febrl_records(1))[RECORD_COLUMNS].astype("string"))
    con.execute("CREATE SCHEMA intermediate")
    con.execute("CREATE TABLE intermediate.int_customer_records AS SELECT * FROM records")
    con.close()
    with restored_environment():
        os.environ.update(CRM_DATA_DIR=str(data), CRM_WAREHOUSE=str(path))
        os.environ.pop("CRM_MATCH_THRESHOLD", None)
        yield path, data / "identity" / "splink_model.json"


def _resolve(path, run_id: str) -> None:
    con = duckdb.connect(str(path))
    try:
        resolve_warehouse(con, run_id, KEY)
    finally:
        con.close()


def test_the_first_resolution_fits_and_saves_a_model_the_next_reuses(warehouse):
    path, model = warehouse
    _resolve(path, "run-1")
    assert model.exists()
    assert json.loads(model.read_text()) != json.loads(SHIPPED.source.read_text())  # fitted here, not copied
    saved_at = model.stat().st_mtime_ns
    _resolve(path, "run-2")
    assert model.stat().st_mtime_ns == saved_at  # not fitted again
    con = duckdb.connect(str(path), read_only=True)
    runs = con.execute("SELECT mode, fingerprint FROM identity.resolution_runs ORDER BY resolved_at").fetchall()
    con.close()
    assert [mode for mode, _ in runs] == ["full", "incremental"] and runs[0][1] == runs[1][1]


def test_train_refits_from_the_warehouse_and_repeats_the_same_fit(warehouse):
    """On unchanged records the fit repeats exactly (seeded samples, one thread), so retraining without new data
    changes no edge; `--out` saves elsewhere."""
    path, model = warehouse
    _resolve(path, "run-1")
    fitted = lambda file: {k: v for k, v in json.loads(file.read_text()).items() if k != "linker_uid"}
    first = fitted(model)
    main(["train"])
    assert fitted(model) == first
    main(["train", "--out", str(model.with_name("elsewhere.json"))])
    assert fitted(model.with_name("elsewhere.json")) == first


def test_too_few_records_to_fit_use_the_shipped_model():
    few = prepare(pd.DataFrame({"source": ["crm"] * 3, "source_record_id": ["1", "2", "3"],
                                "first_name": ["Ann", "Bob", "Cat"], "last_name": ["Ames", "Burr", "Cole"]}))
    assert len(splink_input(few)) < MIN_RECORDS_TO_FIT
    assert for_records(few, None) == SHIPPED and SHIPPED.threshold > FITTED_THRESHOLD
