"""Runs whose process died: found, marked failed, and their pool slots released.

Dagster's default run launcher cannot check a run worker's health, so a run whose process is killed (OOM, kill -9,
a reboot) stays STARTED and keeps its `duckdb` pool slot, and every later run waits for that slot for ever. Each
run's worker announces its pid in an engine event; a run is dead when no process with that pid is alive, or the
process holding the pid started after the run did (the pid was reused). Both only hold when the runs execute on
the machine that checks them, as the default launcher does.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
import psutil

# A pid's process may start a moment before the run's start time is stamped.
CLOCK_SLACK_SECONDS = 5.0


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    job_name: str
    pid: int
    slots_freed: int = 0


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the process that executes the run: the first engine event that names one."""
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records:
        metadata = record.event_log_entry.dagster_event.engine_event_data.metadata or {}
        pid = metadata.get("pid")
        if pid is not None:
            return int(pid.value)
    return None


def _alive(pid: int, run_started: float) -> bool:
    try:
        return psutil.Process(pid).create_time() <= run_started + CLOCK_SLACK_SECONDS
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # another user's process: it exists, and we cannot tell more
        return True


def find_dead_runs(instance: dg.DagsterInstance) -> list[DeadRun]:
    dead = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        run = record.dagster_run
        pid = worker_pid(instance, run.run_id)
        if pid is not None and not _alive(pid, record.start_time or record.create_timestamp.timestamp()):
            dead.append(DeadRun(run.run_id, run.job_name, pid))
    return dead


def _slots_held(instance: dg.DagsterInstance, run_id: str) -> int:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return 0
    return sum(slot.run_id == run_id for pool in storage.get_concurrency_keys()
               for slot in storage.get_concurrency_info(pool).claimed_slots)


def fail_dead_runs(instance: dg.DagsterInstance) -> list[DeadRun]:
    """Mark every dead run failed and release its concurrency slots; return what was done."""
    failed = []
    for run in find_dead_runs(instance):
        dagster_run = instance.get_run_by_id(run.run_id)
        if dagster_run is None or dagster_run.status != dg.DagsterRunStatus.STARTED:
            continue  # finished while we looked
        held = _slots_held(instance, run.run_id)
        instance.report_run_failed(dagster_run, message=(
            f"The run's process (pid {run.pid}) is gone: it was killed or crashed. Marked failed so that its pool "
            "slots are released; re-run the partitions it held (a re-run replaces them)."))
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)  # when the failure did not already
        failed.append(DeadRun(run.run_id, run.job_name, run.pid, held))
    return failed
