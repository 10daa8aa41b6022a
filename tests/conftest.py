"""Shared fixtures: an isolated data folder and warehouse per session, a parsed dbt manifest, Dagster runs."""

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from dataclasses import dataclass

import dagster as dg
import duckdb
import pandas as pd
import pytest

from scaleout.engine import current_engine

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = REPO / "dbt_project"
FIRST_DAY, LAST_DAY = "2026-06-01", "2026-06-30"


def run_dbt(*args: str, env: dict[str, str] | None = None) -> None:
    """Run the dbt CLI that sits beside this interpreter (the venv's), failing loudly; `env` adds variables."""
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run([str(dbt), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.fixture(scope="session", autouse=True)
def isolated_data(tmp_path_factory):
    """Point every setting at a temporary folder, so tests never touch data/ of the checkout."""
    data = tmp_path_factory.mktemp("data")
    os.environ["CRM_DATA_DIR"] = str(data)
    os.environ["CRM_WAREHOUSE"] = str(data / "warehouse" / "crm.duckdb")
    os.environ["CRM_START_DATE"] = "2024-01-01"
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    run_dbt("parse", "--quiet", "--target", current_engine().dbt_target)  # the runs' target: see `make parse`
    return data


@contextmanager
def restored_environment():
    """Environment variables as they were before the block, whatever it set or removed (module fixtures that
    point the settings at a warehouse of their own)."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_ingest(defs: dg.Definitions, instance: dg.DagsterInstance, first: str, last: str):
    return defs.resolve_job_def("ingest_job").execute_in_process(
        instance=instance,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
    )


def run_transform(defs: dg.Definitions, instance: dg.DagsterInstance):
    return defs.resolve_job_def("transform_job").execute_in_process(instance=instance)


def query(path: Path, sql: str, parameters=None) -> list[tuple]:
    """Rows of `sql` on the DuckDB file at `path`, opened read-only and closed again (a writer may follow)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, parameters or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of the tests' own, started on a free loopback port and stopped at the end."""
    from postgres_server import start_postgres

    server = start_postgres()
    yield server
    server.stop()


@dataclass
class Pipeline:
    defs: dg.Definitions
    instance: dg.DagsterInstance
    written: dict[str, int]  # rows the generator wrote per feed
    settings: object
    clients: object  # serving_clients.Observation: what BI clients saw while the last day was loaded


@pytest.fixture(scope="session")
def pipeline(isolated_data, postgres_server) -> Pipeline:
    """One generated month through Dagster, publishing to DuckDB and PostgreSQL: every day but the last, then
    the last day while a BI connection is held open on the published database and a second process polls it."""
    from ingestion.generator import GeneratorConfig, generate
    from ingestion.settings import get_settings
    from orchestration.definitions import build_definitions
    from serving_clients import HeldClients

    os.environ["CRM_SERVING_POSTGRES_URL"] = postgres_server.url()
    settings = get_settings()
    config = GeneratorConfig(customers=400, days=30, seed=7, end_date=pd.Timestamp(LAST_DAY).date())
    written = generate(config, settings.landing_dir, settings.truth_dir)
    defs = build_definitions()  # under this session's settings (the module's `defs` holds whichever came first)
    instance = dg.DagsterInstance.ephemeral()
    day_before = (pd.Timestamp(LAST_DAY) - pd.Timedelta(days=1)).date().isoformat()
    assert run_ingest(defs, instance, FIRST_DAY, day_before).success
    assert run_transform(defs, instance).success
    con = duckdb.connect(str(settings.warehouse_path))  # keep the ids as they were, to compare after the last day
    con.execute("CREATE TABLE before_last_day AS SELECT * FROM identity.customer_crosswalk")
    con.close()
    with HeldClients(settings.bi_database, isolated_data) as clients:
        assert run_ingest(defs, instance, LAST_DAY, LAST_DAY).success
        assert run_transform(defs, instance).success
    return Pipeline(defs, instance, written, settings, clients)
