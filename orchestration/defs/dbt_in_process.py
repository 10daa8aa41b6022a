"""dbt run inside the Dagster run's process, shaped like the `subprocess.Popen` dagster-dbt reads its events from.

A dbt process spends ~3 s importing dbt and ~1.5 s loading the parsed project before its first model; a daily
transform starts three. Here dbt is imported once per process and the project parsed once per process and
settings (`dbtRunner(manifest=...)`), so the second and third invocations start at once. dagster-dbt keeps doing
the rest (selection, events, asset checks): it reads the JSON log lines dbt would print from `stdout`.
"""

from __future__ import annotations

import gc
import json
import os
import queue
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from dagster_dbt.core import dbt_cli_invocation
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.adapters.factory import reset_adapters
from dbt.cli.main import dbtRunner
from dbt.contracts.graph.manifest import Manifest
from dbt_common.events.base_types import EventMsg
from dbt_common.events.functions import msg_to_json

_DONE = object()
_manifests: dict[tuple, Manifest] = {}
_invocation_lock = threading.Lock()  # dbt's flags and adapters are process-wide: one invocation at a time


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """dbt reads its flags (target path, log format, profiles dir) from the environment, as its CLI would."""
    before = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(before)


def _as_started_in(cwd: Path, env: dict[str, str]) -> dict[str, str]:
    """The environment with what the CLI, started in `cwd`, resolves from there: relative target and log paths
    (dagster-dbt's per-invocation folders), and profiles.yml when no folder is given."""
    paths = {name: str(cwd / env[name]) for name in ("DBT_TARGET_PATH", "DBT_LOG_PATH") if name in env}
    if "DBT_PROFILES_DIR" not in env and (cwd / "profiles.yml").exists():
        paths["DBT_PROFILES_DIR"] = str(cwd)
    return {**env, **paths}


def _manifest_key(profile_args: list[str], env: dict[str, str]) -> tuple:
    # what the parse depends on besides the project's files, which do not change under a running process
    return (env.get("DBT_PROJECT_DIR"), env.get("DBT_PROFILES_DIR"), tuple(profile_args),
            tuple(sorted((k, v) for k, v in env.items() if k.startswith("CRM_"))))


class _Lines:
    """The `stdout` of the invocation: JSON log lines (bytes) until dbt returns."""

    def __init__(self, lines: queue.Queue):
        self._lines = lines
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        while (line := self._lines.get()) is not _DONE:
            yield line

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True


class InProcessDbt:
    """`Popen(args, stdout=PIPE, stderr=STDOUT, env=env, cwd=cwd)` for a dbt command, run by `dbtRunner` on a
    thread of this process. Events at info level and above become the JSON lines `dbt --log-format json`
    prints; the return code is dbt's (0 success, 1 failed nodes, 2 dbt itself failed)."""

    def __init__(self, args: Sequence[str], env: dict[str, str], cwd: str, **_popen_options):
        self.args = list(args)
        env = _as_started_in(Path(cwd), env)
        self.returncode: int | None = None
        self._lines: queue.Queue = queue.Queue()
        self.stdout = _Lines(self._lines)
        self._thread = threading.Thread(target=self._invoke, args=(self.args[1:], env), name="dbt", daemon=True)
        self._thread.start()

    def _emit(self, event: EventMsg) -> None:
        if event.info.level != "debug":  # dbt's stdout shows info and above
            self._lines.put(msg_to_json(event).encode())

    def _invoke(self, dbt_args: list[str], env: dict[str, str]) -> None:
        try:
            with _invocation_lock, _environment(env):
                profile = _profile_args(dbt_args)
                key = _manifest_key(profile, env)
                if key not in _manifests:
                    parsed = dbtRunner().invoke(["parse", "--quiet", *profile])
                    if not parsed.success:
                        raise RuntimeError(f"dbt parse failed: {parsed.exception}")
                    _manifests[key] = parsed.result
                result = dbtRunner(manifest=_manifests[key], callbacks=[self._emit]).invoke(["--quiet", *dbt_args])
            self.returncode = 0 if result.success else (2 if result.exception else 1)
            if result.exception:
                self._lines.put(_error_line(f"dbt failed: {result.exception}"))
        except Exception as error:  # noqa: BLE001 - reported as dbt's own failures are, through the log lines
            self.returncode = 2
            self._lines.put(_error_line(f"dbt failed: {error!r}"))
        finally:
            _release_warehouse()
            self._lines.put(_DONE)

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        return self.returncode

    def send_signal(self, _signal: int) -> None:
        """A thread cannot be interrupted: the invocation finishes its nodes, and the run stops after it."""


def _release_warehouse() -> None:
    """Close what dbt holds of the warehouse when it returns, as its process's end would: the next step opens the
    file with its own configuration, which DuckDB refuses while another connection of this process is open.
    dbt-duckdb keeps its database in a class-wide environment that outlives the invocation's connections."""
    reset_adapters()
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None
    gc.collect()


def _profile_args(dbt_args: list[str]) -> list[str]:
    return [arg for flag in ("--profile", "--target") if flag in dbt_args
            for arg in (flag, dbt_args[dbt_args.index(flag) + 1])]


def _error_line(message: str) -> bytes:
    return json.dumps({"info": {"level": "error", "msg": message, "name": "InProcessDbtError"},
                       "data": {}}).encode()


@contextmanager
def dbt_in_this_process() -> Iterator[None]:
    """While dagster-dbt starts an invocation, its `subprocess.Popen` is `InProcessDbt` (its only use of the
    module there); the invocation then streams from it as from a process."""
    original = dbt_cli_invocation.subprocess
    dbt_cli_invocation.subprocess = SimpleNamespace(Popen=InProcessDbt, PIPE=subprocess.PIPE,
                                                    STDOUT=subprocess.STDOUT)
    try:
        yield
    finally:
        dbt_cli_invocation.subprocess = original
