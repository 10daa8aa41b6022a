"""A warehouse kept on disk, to measure a day on it again and again without generating and building each time.

    python -m bench.kept build SCALE FOLDER   # generate 365 days, build every day but the last (as `make bench`)
    python -m bench.kept day FOLDER           # land the last day, transform; then transform again, nothing new

`day` changes the folder (the day is then in it): copy the folder first to measure the same day again. It prints
each run's seconds, its steps' and the dbt steps' slowest nodes, as `make bench` measures them.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from pathlib import Path

from bench.run import DAYS, END, _ingest_tags, _parse_dbt_project, _point_settings_at, _run, dbt_node_seconds


def build(scale: int, folder: Path) -> None:
    from ingestion.generator import GeneratorConfig, generate

    _point_settings_at(folder)
    _parse_dbt_project()
    started = time.perf_counter()
    generate(GeneratorConfig(scale, DAYS, 42, end_date=END), folder / "landing", folder / "truth")
    print(f"generate {time.perf_counter() - started:.2f} s", flush=True)
    ingest = _run("ingest_job", _ingest_tags(END - timedelta(days=DAYS - 1), END - timedelta(days=1)))
    print(f"ingest {ingest['run'].seconds:.2f} s", flush=True)
    _report("transform (full build)", _run("transform_job"), since=None)


def day(folder: Path) -> None:
    _point_settings_at(folder)
    _parse_dbt_project()
    ingest = _run("ingest_job", _ingest_tags(END, END))
    print(f"ingest of the day {ingest['run'].seconds:.2f} s", flush=True)
    for name in ("transform (the day)", "transform (nothing new)"):
        started = time.time()
        _report(name, _run("transform_job"), since=started)


def _report(name: str, outcome: dict, since: float | None) -> None:
    steps = {step: round(seconds, 2) for step, seconds in outcome["step_seconds"].items() if seconds < 1e6}
    print(f"{name} {outcome['run'].seconds:.2f} s, peak RSS {outcome['run'].peak_rss_mib:.0f} MiB: {steps}", flush=True)
    for step, nodes in (dbt_node_seconds(since) if since else {}).items():
        slowest = ", ".join(f"{node['node']} {node['seconds']}" for node in nodes["slowest"])
        print(f"  {step}: models {nodes['models_seconds']} s, tests {nodes['tests_seconds']} s; {slowest}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.kept", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    building = commands.add_parser("build", help="generate and build every day but the last")
    building.add_argument("scale", type=int)
    building.add_argument("folder", type=Path)
    measuring = commands.add_parser("day", help="land the last day and transform, then transform again")
    measuring.add_argument("folder", type=Path)
    args = parser.parse_args()
    if args.command == "build":
        build(args.scale, args.folder.resolve())
    else:
        day(args.folder.resolve())


if __name__ == "__main__":  # the runs' processes come from a forkserver, which imports this module again
    main()
