"""dbt run in the Dagster run's process (orchestration/defs/dbt_in_process.py) behaves as its CLI process did for
dagster-dbt: node events stream, a failure fails the invocation with dbt's own message, and when dbt returns
the warehouse file is free for the next step's connection of another configuration."""

import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.dbt_project import DBT_PROJECT_DIR
from orchestration.defs.resources import ProjectDbtResource, dbt_executable


@pytest.fixture
def in_process_dbt(tmp_path, monkeypatch) -> tuple[ProjectDbtResource, Path]:
    warehouse = tmp_path / "crm.duckdb"
    monkeypatch.setenv("CRM_WAREHOUSE", str(warehouse))
    return ProjectDbtResource(project_dir=str(DBT_PROJECT_DIR), target="duckdb", dbt_executable=dbt_executable(),
                              in_process=True), warehouse


def test_nodes_stream_as_events_and_the_warehouse_is_released(in_process_dbt):
    dbt, warehouse = in_process_dbt

    invocation = dbt.cli(["seed"], raise_on_error=False, target_path=warehouse.parent / "seed")
    finished = [event.raw_event["data"]["node_info"]["unique_id"] for event in invocation.stream_raw_events()
                if event.is_result_event]

    assert invocation.is_successful() and invocation.process.returncode == 0
    assert "seed.customer_single_view.rfm_segments" in finished
    # what the next asset does: its own connection, another configuration (DuckDB refuses one while dbt's is open)
    with duckdb.connect(str(warehouse), config={"threads": 1}) as con:
        assert con.execute("SELECT count(*) FROM reference.rfm_segments").fetchone()[0] > 0


def test_a_failing_command_fails_with_dbts_message(in_process_dbt):
    dbt, warehouse = in_process_dbt

    invocation = dbt.cli(["run-operation", "no_such_macro"], raise_on_error=False,
                         target_path=warehouse.parent / "operation")

    assert not invocation.is_successful()
    assert invocation.process.returncode != 0
    assert "no_such_macro" in str(invocation.get_error())


def test_relative_invocation_folders_are_the_projects_as_for_the_cli(in_process_dbt, tmp_path, monkeypatch):
    """dagster-dbt names an invocation's folder relative to the project, where its dbt process started."""
    dbt, _ = in_process_dbt
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the run's working directory is not the project
    folder = Path("target") / f"in-process-test-{tmp_path.name}"
    try:
        assert dbt.cli(["seed"], target_path=folder).is_successful()
        assert (DBT_PROJECT_DIR / folder / "dbt.log").exists()
        assert (DBT_PROJECT_DIR / folder / "run_results.json").exists()
        assert list(elsewhere.iterdir()) == []
    finally:
        shutil.rmtree(DBT_PROJECT_DIR / folder, ignore_errors=True)
