"""How runs behave, as configured: one process per run, retried after a crash but not after a data failure,
a time limit per job, monitoring on; and a ranged run plans one event per asset, not one per asset and day."""

from pathlib import Path

import dagster as dg

from conftest import REPO

JOBS = ("ingest_job", "transform_job", "erasure_job")


def test_every_job_runs_in_one_process_with_retries_and_a_time_limit():
    from orchestration.definitions import defs

    for name in JOBS:
        job = defs.resolve_job_def(name)
        assert job.executor_def is dg.in_process_executor, name
        assert int(job.tags["dagster/max_retries"]) >= 1, name
        assert int(job.tags["dagster/max_runtime"]) >= 3600, name


def test_the_instance_retries_crashes_only_and_monitors_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_STORAGE_DIR", str(tmp_path / "storage"))
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.run_retries_enabled and not instance.run_retries_retry_on_asset_or_op_failure
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_start_timeout_seconds == 180
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 60


def test_a_ranged_ingest_plans_one_event_per_asset(tmp_path, monkeypatch):
    from orchestration.definitions import build_definitions

    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_WAREHOUSE", str(tmp_path / "crm.duckdb"))
    monkeypatch.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")  # as the Makefile sets it
    assert "export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS := 1" in (REPO / "Makefile").read_text()
    instance = dg.DagsterInstance.ephemeral()
    result = build_definitions().resolve_job_def("ingest_job").execute_in_process(
        instance=instance, raise_on_error=False,
        tags={"dagster/asset_partition_range_start": "2026-03-01", "dagster/asset_partition_range_end": "2026-03-30"})
    planned = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
    assets = {r.event_log_entry.dagster_event.event_specific_data.asset_key for r in planned.records}
    assert len(planned.records) == len(assets)  # 19, where one per day would be 30 times as many for the feeds
