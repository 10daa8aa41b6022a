"""The commands README shows, run as written from the repository root (on copies, so the checkout's data/
stays untouched)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import DBT_DIR

BIN = Path(sys.executable).parent


def test_duckdb_cli_reads_the_bi_database(pipeline):
    done = subprocess.run([str(BIN / "duckdb"), "-readonly", str(pipeline.settings.bi_database),
                           "select segment, count(*) from rfm.customer_rfm group by 1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Champions" in done.stdout and "Hibernating" in done.stdout


def test_analysts_dbt_build_from_the_repository_root_finds_the_warehouse_without_settings(pipeline, tmp_path):
    """`.venv/bin/dbt build --project-dir dbt_project --profiles-dir dbt_project` with no CRM_* variables: the
    profile's default path resolves from the project (data/ beside it), not from where dbt was started."""
    root = tmp_path / "checkout"
    shutil.copytree(DBT_DIR, root / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    (root / "data" / "warehouse").mkdir(parents=True)
    warehouse = root / "data" / "warehouse" / "crm.duckdb"
    shutil.copy(pipeline.settings.warehouse_path, warehouse)
    built_before = warehouse.stat().st_mtime_ns
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    done = subprocess.run([str(BIN / "dbt"), "build", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project"],
                          cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Completed successfully" in done.stdout
    assert warehouse.stat().st_mtime_ns > built_before  # it built into data/ beside the project


def test_forget_as_written_from_the_repository_root(pipeline, tmp_path):
    """README's `.venv/bin/python -m privacy forget ...` runs from the root; an identifier nobody has changes
    nothing (the full erasure is tests/test_erasure.py)."""
    data = tmp_path / "data"
    shutil.copytree(pipeline.settings.data_dir, data, ignore=shutil.ignore_patterns("landing", "truth", "serving"))
    env = {**os.environ, "CRM_DATA_DIR": str(data), "CRM_WAREHOUSE": str(data / "warehouse" / "crm.duckdb")}
    env.pop("DAGSTER_HOME", None)
    env.pop("CRM_SERVING_POSTGRES_URL", None)
    done = subprocess.run([str(BIN / "python"), "-m", "privacy", "forget", "--email", "nobody@example.com",
                           "--reason", "ticket 4711"], cwd=Path(__file__).resolve().parents[1], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "not found - no customer has this email: nothing changed" in done.stdout
    assert "nobody@example.com" not in done.stdout + done.stderr


def test_identity_rescore_as_written_makes_the_next_resolution_full(pipeline, tmp_path):
    """README's `.venv/bin/python -m identity rescore`: the resolution state is gone, so the next transform
    scores every record; on a checkout with no warehouse it says so and creates none."""
    import duckdb

    data = tmp_path / "data"
    (data / "warehouse").mkdir(parents=True)
    warehouse = data / "warehouse" / "crm.duckdb"
    shutil.copy(pipeline.settings.warehouse_path, warehouse)
    env = {**os.environ, "CRM_DATA_DIR": str(data), "CRM_WAREHOUSE": str(warehouse)}
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([str(BIN / "python"), "-m", "identity", "rescore"], cwd=root, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM identity.resolution_runs").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM identity.customer_crosswalk").fetchone()[0] > 0  # ids stay
    finally:
        con.close()
    missing = {**env, "CRM_WAREHOUSE": str(tmp_path / "none" / "crm.duckdb")}
    done = subprocess.run([str(BIN / "python"), "-m", "identity", "rescore"], cwd=root, env=missing,
                          capture_output=True, text=True)
    assert done.returncode != 0 and "no warehouse" in done.stderr
    assert not (tmp_path / "none").exists()
