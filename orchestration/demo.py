"""`make demo`: generate demo feeds, materialise every asset through Dagster, print the headline results."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
from pathlib import Path

import dagster as dg

from analytics.cdnow_feed import START_DATE as CDNOW_START
from analytics.cdnow_feed import write_cdnow_landing
from ingestion.files import landing_days
from ingestion.contracts import load_contracts
from ingestion.generator import GeneratorConfig, generate
from ingestion.settings import get_settings
from orchestration.run_log import QUIET_CONSOLE, LiveProgress, append_run_log, code_location_tags
from orchestration.scorecard import scorecard_lines


def landed_range() -> tuple[str, str]:
    settings = get_settings()
    days = sorted({d for feed in load_contracts() for d in landing_days(settings.landing_dir, feed)})
    if not days:
        raise SystemExit(f"no landing files under {settings.landing_dir}")
    return days[0].isoformat(), days[-1].isoformat()


def run_job(defs: dg.Definitions, instance: dg.DagsterInstance, job: str, log_path: Path,
            tags: dict | None = None, bar: bool = False) -> str:
    """Run a job in this process, filed under the UI's code location; print a line per stage (after a progress
    bar with `bar`, for a job whose steps all run); return the run id."""
    started = time.perf_counter()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # dbt's own output (dagster-dbt echoes it to stdout) goes to the log; the stage lines to the terminal
    steps = len(defs.resolve_job_def(job).nodes_in_topological_order) if bar else None
    with LiveProgress(instance, job, out=sys.stdout, steps=steps) as progress, log_path.open("a", encoding="utf-8") as log, \
            contextlib.redirect_stdout(log):
        result = defs.resolve_job_def(job).execute_in_process(instance=instance, raise_on_error=False,
                                                              run_config=QUIET_CONSOLE,
                                                              tags={**code_location_tags(), **(tags or {})})
    progress.finish(result.run_id)
    append_run_log(instance, result.run_id, log_path)
    if not result.success:
        raise SystemExit(f"{job} failed (run {result.run_id}): the log is in {log_path}; `make dev` shows the run")
    print(f"{job} done in {time.perf_counter() - started:.0f}s")
    return result.run_id


def materialise_everything(instance: dg.DagsterInstance, log_path: Path) -> tuple[str, str]:
    from orchestration.definitions import defs

    first, last = landed_range()
    print(f"ingest_job: landing days {first} .. {last} in one run (Dagster's log: {log_path})")
    run_job(defs, instance, "ingest_job", log_path,
            {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}, bar=True)
    print("transform_job: staging, identity, marts, CLV, publish")
    run_job(defs, instance, "transform_job", log_path)
    return first, last


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", choices=["synthetic", "cdnow"], default="synthetic",
                        help="synthetic: generated feeds; cdnow: the CDNOW master transactions (lifetimes) as POS")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    settings = get_settings()
    started = time.perf_counter()
    shutil.rmtree(settings.landing_dir, ignore_errors=True)
    shutil.rmtree(settings.truth_dir, ignore_errors=True)
    settings.warehouse_path.unlink(missing_ok=True)
    if args.dataset == "cdnow":
        os.environ["CRM_START_DATE"] = CDNOW_START  # the partitions must reach back to 1997
        rows = write_cdnow_landing(settings.landing_dir)
        print(f"landed {rows:,} CDNOW transactions (23,570 customers, 1997-98) as the pos_transactions feed")
    else:
        counts = generate(GeneratorConfig(args.customers, args.days, args.seed), settings.landing_dir,
                          settings.truth_dir)
        print(f"generated {sum(counts.values()):,} rows for {args.customers:,} customers over {args.days} days "
              f"in {time.perf_counter() - started:.1f}s")
    log_path = settings.data_dir / "logs" / "demo.log"
    log_path.unlink(missing_ok=True)
    first, last = materialise_everything(dg.DagsterInstance.get(), log_path)
    print("\n".join(scorecard_lines(settings.bi_database)))
    print(f"\nquality report: {settings.reports_dir / f'quality_{first}_{last}.html'}")
    print(f"\nBI database (personal data pseudonymised, for BI tools): {settings.bi_database}")
    print(f"  open it:  .venv/bin/duckdb -readonly {settings.bi_database}")
    print(f"restricted database (full personal data, owner only):  {settings.restricted_database}")
    print(f"build database (the pipeline's own; BI tools stay out): {settings.warehouse_path}")
    print("  browse:   make dev   (Dagster UI with these runs, checks and lineage)")
    print("dashboard: make dashboard   (http://127.0.0.1:8501, on the BI database)")
    print(f"done in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    sys.exit(main())
