"""Pruning of the per-invocation target folders dagster-dbt leaves behind. Kept apart from the dbt assets so it
can be used (and tested) without a parsed manifest."""

import shutil
from pathlib import Path

DBT_ASSETS = ("dbt_staging", "dbt_marts", "dbt_after_clv")
# dagster-dbt gives every invocation its own target/<asset>-<run>-<id> folder (manifest, run results, dbt.log,
# ~4 MB). Kept forever, a daily schedule's three invocations pile up gigabytes a year; the newest are enough
# to debug a run.
KEEP_INVOCATIONS = 30


def prune_invocation_targets(target_dir: Path, keep: int = KEEP_INVOCATIONS) -> list[Path]:
    """Delete all but the `keep` newest invocation folders of this project's dbt assets; returns the deleted."""
    folders = [path for path in target_dir.iterdir()
               if path.is_dir() and path.name.startswith(tuple(f"{name}-" for name in DBT_ASSETS))]
    stale = sorted(folders, key=lambda path: path.stat().st_mtime, reverse=True)[keep:]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return stale
