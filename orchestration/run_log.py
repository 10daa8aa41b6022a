"""What `make demo` shows of a Dagster run: one line per stage (per feed for ingestion) with rows and seconds,
and the run's full event log appended to a file instead of the terminal; and the tag that files the run under
the code location the UI loads."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TextIO

import dagster as dg
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG  # the tag the UI's job pages filter runs on

CODE_LOCATION = "customer_single_view"  # workspace.yaml's location_name
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def code_location_tags() -> dict[str, str]:
    """A run executed in this process is filed under no code location; this files it under the UI's one."""
    return {REPOSITORY_LABEL_TAG: f"__repository__@{CODE_LOCATION}"}


def append_run_log(instance: dg.DagsterInstance, run_id: str, path: Path) -> None:
    """Every event of the run, one line each, as Dagster's console logger would have printed it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        for record in instance.get_records_for_run(run_id).records:
            entry = record.event_log_entry
            event = entry.dagster_event
            kind = event.event_type_value if event else "LOG"
            message = entry.message or (event.message if event else "") or ""
            log.write(f"{datetime.fromtimestamp(entry.timestamp):%Y-%m-%d %H:%M:%S} {entry.job_name} "
                      f"{run_id[:8]} {entry.step_key or '-'} {kind} {message}\n")


def stage_line(step: str, seconds: float, assets: dict[str, dict]) -> str:
    """A finished step's line: seconds; for a feed's ingestion the rows read and quarantined and the files in
    trouble, for the other steps the assets it materialised (`assets`: key -> metadata)."""
    if step.startswith("ingest_"):
        facts = assets.get(f"raw/{step[len('ingest_'):]}", {})
        files = facts.get("files_failed", 0)
        return (f"  {step[len('ingest_'):]:<24} {facts.get('rows_read', 0):>9,} rows read "
                f"{facts.get('rows_quarantined', 0):>7,} quarantined  {seconds:6.1f}s"
                + (f"  ({files} file(s) failed or empty: see the quality report)" if files else ""))
    return f"  {step:<34} {len(assets):>3} asset(s)               {seconds:6.1f}s"


class LiveProgress:
    """Prints each stage's line as soon as its step finishes, while a run of `job` executes in this process
    (a ranged ingest of a year takes minutes: the lines are its progress). Reads only the events that are new
    since its last look, so that watching does not slow the run."""

    def __init__(self, instance: dg.DagsterInstance, job: str, out: TextIO, steps: int | None = None):
        """`steps`: how many steps the run has, when every one of them runs (a backfill's): each line then
        starts with a progress bar."""
        self._instance, self._job, self._out, self._steps = instance, job, out, steps
        self._since = time.time()
        self._cursors: dict[dg.DagsterEventType, str | None] = {}
        self._seconds: dict[str, float] = {}
        self._assets: dict[str, dict[str, dict]] = {}
        self._printed: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> "LiveProgress":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def finish(self, run_id: str) -> None:
        """Print what the watcher had not printed yet (the last steps)."""
        self._print_new(run_id)

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            runs = self._instance.get_run_records(dg.RunsFilter(job_name=self._job), limit=1)
            if runs and runs[0].create_timestamp.timestamp() >= self._since - 1:
                self._print_new(runs[0].dagster_run.run_id)

    def _new_records(self, run_id: str, kind: dg.DagsterEventType):
        connection = self._instance.get_records_for_run(run_id, cursor=self._cursors.get(kind), of_type=kind)
        self._cursors[kind] = connection.cursor
        return connection.records

    def _print_new(self, run_id: str) -> None:
        # successes first: a step's materialisations are all written before its success
        for record in self._new_records(run_id, dg.DagsterEventType.STEP_SUCCESS):
            entry = record.event_log_entry
            self._seconds[entry.step_key] = entry.dagster_event.event_specific_data.duration_ms / 1000
        for record in self._new_records(run_id, dg.DagsterEventType.ASSET_MATERIALIZATION):
            materialization = record.event_log_entry.asset_materialization
            self._assets.setdefault(record.event_log_entry.step_key, {})[
                materialization.asset_key.to_user_string()] = {k: v.value for k, v in materialization.metadata.items()}
        for step, seconds in self._seconds.items():
            if step not in self._printed:
                self._printed.add(step)
                print(self._bar() + stage_line(step, seconds, self._assets.get(step, {})), file=self._out, flush=True)

    def _bar(self) -> str:
        if not self._steps:
            return ""
        done = min(len(self._printed), self._steps)
        return f"[{'#' * done}{'.' * (self._steps - done)}] {done:>2}/{self._steps}"
