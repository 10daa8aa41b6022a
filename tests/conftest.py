"""Shared fixtures: an isolated data folder and warehouse per session, a parsed dbt manifest, Dagster runs."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = REPO / "dbt_project"
FIRST_DAY, LAST_DAY = "2026-06-01", "2026-06-30"


def run_dbt(*args: str) -> None:
    """Run the dbt CLI that sits beside this interpreter (the venv's), failing loudly."""
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run([str(dbt), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.fixture(scope="session", autouse=True)
def isolated_data(tmp_path_factory):
    """Point every setting at a temporary folder, so tests never touch data/ of the checkout."""
    data = tmp_path_factory.mktemp("data")
    os.environ["CRM_DATA_DIR"] = str(data)
    os.environ["CRM_WAREHOUSE"] = str(data / "warehouse" / "crm.duckdb")
    os.environ["CRM_START_DATE"] = "2024-01-01"
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    run_dbt("parse", "--quiet")
    return data


def run_ingest(defs: dg.Definitions, instance: dg.DagsterInstance, first: str, last: str):
    return defs.resolve_job_def("ingest_job").execute_in_process(
        instance=instance,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
    )


def run_transform(defs: dg.Definitions, instance: dg.DagsterInstance):
    return defs.resolve_job_def("transform_job").execute_in_process(instance=instance)
