"""A run whose process is killed (kill -9 of its whole process tree, as an OOM kill of a container or a reboot
does) must not block the runs after it, and the next ordinary run must give the warehouse a clean run gives.

Killed once in the middle of an ingest and once in the middle of the dbt marts build. Each time the dead run
still holds the `duckdb` pool slot (so every later run would wait for it for ever); the dead-run check fails
it, frees the slot, and the next run of the same job completes. The warehouse is then compared with one built
by clean runs of the same landing files: every table's rows are equal."""

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from conftest import REPO, restored_environment, run_ingest, run_transform
from operations.dead_runs import fail_dead_runs
from warehouse_compare import differences

FIRST, LAST = "2026-03-01", "2026-03-10"
COMPARED_SCHEMAS = ("raw", "quarantine", "staging", "intermediate", "core", "rfm", "kpi", "clv", "service", "loyalty",
                    "activation", "sales", "analytics", "identity")
POOL_LIMITS = "concurrency:\n  pools:\n    default_limit: 1\n"


def _environment(root: Path) -> dict[str, str]:
    return {"CRM_DATA_DIR": str(root / "data"), "CRM_WAREHOUSE": str(root / "data" / "warehouse" / "crm.duckdb"),
            "DAGSTER_HOME": str(root / "dagster")}


def _kill_during(instance: dg.DagsterInstance, env: dict, job: str, step_prefix: str, *days: str) -> str:
    """Start `job` in its own process tree; once a step whose key starts with `step_prefix` has run a moment and
    the run holds the `duckdb` pool's slot, kill the tree with SIGKILL. Returns the run id."""
    worker = subprocess.Popen([sys.executable, str(REPO / "tests" / "job_process.py"), job, *days],
                              env={**os.environ, **env}, cwd=REPO, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    started_at: dict[str, float] = {}  # run id -> when its first such step was seen
    try:
        while time.monotonic() < deadline:
            assert worker.poll() is None, "the job finished before it could be killed"
            for record in instance.get_run_records(dg.RunsFilter(job_name=job, statuses=[dg.DagsterRunStatus.STARTED])):
                starts = instance.get_records_for_run(record.dagster_run.run_id,
                                                      of_type=dg.DagsterEventType.STEP_START).records
                run_id = record.dagster_run.run_id
                # inside the step (files being read, or dbt writing models) and holding the pool's slot: between
                # two short steps the run holds none for a moment, and a kill there is not the crash tested here
                if (any(r.event_log_entry.step_key.startswith(step_prefix) for r in starts)
                        and time.monotonic() - started_at.setdefault(run_id, time.monotonic()) > 1.5
                        and run_id in _slot_holders(instance)):
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait()
                    return run_id
            time.sleep(0.2)
        raise AssertionError(f"{job} never reached a {step_prefix} step")
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)


def _slot_holders(instance: dg.DagsterInstance) -> set[str]:
    return {slot.run_id for slot in instance.event_log_storage.get_concurrency_info("duckdb").claimed_slots}


def _recover(instance: dg.DagsterInstance, run_id: str) -> None:
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED  # the crash left it "running"
    assert run_id in _slot_holders(instance)  # ... holding the only slot of the duckdb pool
    failed = fail_dead_runs(instance)
    assert [r.run_id for r in failed] == [run_id] and failed[0].slots_freed >= 1
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    assert run_id not in _slot_holders(instance)
    assert fail_dead_runs(instance) == []  # nothing else is dead: a live or finished run is left alone


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    from ingestion.generator import GeneratorConfig, generate
    from orchestration.definitions import build_definitions

    root = tmp_path_factory.mktemp("crash")
    crashed, clean = root / "crashed", root / "clean"
    with restored_environment():
        os.environ.pop("CRM_SERVING_POSTGRES_URL", None)
        generate(GeneratorConfig(customers=150, days=10, seed=11, end_date=date.fromisoformat(LAST)),
                 crashed / "data" / "landing", root / "truth")
        shutil.copytree(crashed / "data" / "landing", clean / "data" / "landing")
        for home in (crashed, clean):
            (home / "dagster").mkdir(parents=True)
            (home / "dagster" / "dagster.yaml").write_text(POOL_LIMITS)

        env = _environment(crashed)
        os.environ.update(env)
        with dg.DagsterInstance.get() as instance:
            defs = build_definitions()
            killed_ingest = _kill_during(instance, env, "ingest_job", "ingest_", FIRST, LAST)
            _recover(instance, killed_ingest)
            assert run_ingest(defs, instance, FIRST, LAST).success
            killed_transform = _kill_during(instance, env, "transform_job", "dbt_marts")
            _recover(instance, killed_transform)
            assert run_transform(defs, instance).success
        shutil.copytree(crashed / "data" / "secrets", clean / "data" / "secrets")  # the same installation's key

        os.environ.update(_environment(clean))
        with dg.DagsterInstance.get() as instance:
            defs = build_definitions()
            assert run_ingest(defs, instance, FIRST, LAST).success
            assert run_transform(defs, instance).success
        yield crashed / "data" / "warehouse" / "crm.duckdb", clean / "data" / "warehouse" / "crm.duckdb"


def test_after_two_crashes_the_next_runs_give_the_clean_warehouse(warehouses):
    tables, found = differences(*warehouses, COMPARED_SCHEMAS)
    assert ("raw", "crm_contacts") in tables and ("core", "dim_customers") in tables and len(tables) >= 30
    assert found == {}
