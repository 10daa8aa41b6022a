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


def _step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    return {r.event_log_entry.step_key: r.event_log_entry.dagster_event.event_specific_data.duration_ms / 1000
            for r in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS).records}


def _materialisations(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict[str, dict]]:
    """Per step: the assets it materialised, with their metadata."""
    found: dict[str, dict[str, dict]] = {}
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records:
        materialization = record.event_log_entry.asset_materialization
        found.setdefault(record.event_log_entry.step_key, {})[materialization.asset_key.to_user_string()] = {
            k: v.value for k, v in materialization.metadata.items()}
    return found


def stage_lines(instance: dg.DagsterInstance, run_id: str, skip: set[str] = frozenset()) -> dict[str, str]:
    """Per finished step of the run (but those in `skip`), its line: seconds; for a feed's ingestion the rows
    read and quarantined and the files in trouble, for the other steps the assets they materialised."""
    finished = {step: took for step, took in _step_seconds(instance, run_id).items() if step not in skip}
    if not finished:
        return {}
    materialised = _materialisations(instance, run_id)
    lines = {}
    for step, took in finished.items():
        assets = materialised.get(step, {})
        if step.startswith("ingest_"):
            facts = assets.get(f"raw/{step[len('ingest_'):]}", {})
            files = facts.get("files_failed", 0)
            lines[step] = (f"  {step[len('ingest_'):]:<24} {facts.get('rows_read', 0):>9,} rows read "
                           f"{facts.get('rows_quarantined', 0):>7,} quarantined  {took:6.1f}s"
                           + (f"  ({files} file(s) failed or empty: see the quality report)" if files else ""))
        else:
            lines[step] = f"  {step:<34} {len(assets):>3} asset(s)               {took:6.1f}s"
    return lines


class LiveProgress:
    """Prints each stage's line as soon as its step finishes, while a run of `job` executes in this process
    (a ranged ingest of a year takes minutes: the lines are its progress)."""

    def __init__(self, instance: dg.DagsterInstance, job: str, out: TextIO):
        self._instance, self._job, self._out = instance, job, out
        self._since = time.time()
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

    def _print_new(self, run_id: str) -> None:
        for step, line in stage_lines(self._instance, run_id, self._printed).items():
            print(line, file=self._out, flush=True)
            self._printed.add(step)
