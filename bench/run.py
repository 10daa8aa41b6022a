"""`make bench [SCALE=n]`: the pipeline through Dagster at a chosen scale (days fixed at 365), timed per stage
with peak memory and rows per second, beside what a user would otherwise reach for, in the same bench run.

Writes bench/results/bench-<scale>.json and .md (and latest.md) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import tempfile
import time
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import dagster as dg
import duckdb
import psutil

from bench import compare
from bench.engines import measure_dbt_on_spark
from bench.measure import Measurement, measured
from bench.report import markdown
from identity.evaluation import febrl_records, generator_records
from scaleout.engine import current_engine

RESULTS = Path(__file__).parent / "results"
DAYS = 365
END = date(2026, 6, 30)
TRANSFORM_STAGES = {  # Dagster step -> stage name
    "dbt_staging": "dbt staging",
    "identity__customer_crosswalk": "resolve identities",
    "dbt_marts": "dbt marts",
    "clv__customer_clv": "CLV",
    "dbt_after_clv": "dbt after CLV",
    "publish_serving_databases": "publish (BI + restricted)",
}


SETTINGS = ("CRM_DATA_DIR", "CRM_WAREHOUSE", "CRM_START_DATE")


def _point_settings_at(root: Path) -> None:
    os.environ["CRM_DATA_DIR"] = str(root)
    os.environ["CRM_WAREHOUSE"] = str(root / "warehouse" / "crm.duckdb")
    os.environ["CRM_START_DATE"] = "2024-01-01"


def _parse_dbt_project() -> None:
    """`dbt parse` under this run's settings and for the target the runs name, as `make parse` does at deploy
    time: dbt's partial parse is keyed on the profile (the warehouse path) and the --target flag, and without a
    current one every run's first dbt step parses the project anew (4-5 s)."""
    compare.run_dbt("parse", "--no-partial-parse", "--target", current_engine().dbt_target)


def _ingest_tags(first: date, last: date) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat()}


@cache
def _run_processes() -> multiprocessing.context.BaseContext:
    """Fresh processes forked from a server that has imported the definitions once (17 s of imports, GX's
    most), so a run's process starts in well under a second and holds nothing of earlier runs."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["bench.fork_main", "orchestration.definitions"])
    return context


def _execute(job: str, tags: dict[str, str], settings: dict[str, str], run_config: dict | None = None) -> dict:
    """In the run's own process: execute one job and report what the bench needs of it."""
    from orchestration.definitions import build_definitions

    os.environ.update(settings)  # the fork server's environment is that of its start, not this scale's
    defs = build_definitions()
    instance = dg.DagsterInstance.ephemeral()
    with measured() as run:
        result = defs.resolve_job_def(job).execute_in_process(instance=instance, tags=tags, raise_on_error=False,
                                                              run_config=run_config)
    return {"success": result.success, "run": run, "validate_seconds": _validate_seconds(result),
            "step_seconds": _step_seconds(instance, result.run_id), "publish_mode": _publish_mode(result)}


def _publish_mode(result) -> str | None:
    """"full" or "incremental", as the run's publish of the BI database reported it (None: no publish)."""
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key.path == ["serving", "bi_database"]:
            return materialization.metadata["publish_mode"].value
    return None


def _run(job: str, tags: dict[str, str] | None = None, run_config: dict | None = None) -> dict:
    """One Dagster run in a process of its own, as a deployment's run launcher starts every run: what a run's
    process held is returned before the next starts (a million customers' ingest and transform do not fit in
    one process together). Its seconds and peak memory are measured in that process, around the run."""
    settings = {key: os.environ[key] for key in SETTINGS}
    pool = _run_processes().Pool(1)
    try:
        outcome = pool.apply(_execute, (job, tags or {}, settings, run_config))
    finally:
        # close + join lets the worker leave its loop; terminate's SIGTERM can meet the signal handler a Dagster
        # run left installed, and the join then waits for ever (seen after an erasure's rebuild)
        pool.close()
        pool.join()
    assert outcome["success"], f"{job} failed"
    return outcome


def _validate_seconds(result) -> float:
    """Sum of the validation time each ingestion asset reported (one materialization per partition: take one)."""
    total = 0.0
    for node in result.job_def.nodes:
        events = [e for e in result.asset_materializations_for_node(node.name)
                  if "validate_seconds" in e.metadata]
        if events:
            total += float(events[0].metadata["validate_seconds"].value)
    return total


def _step_seconds(instance, run_id: str) -> dict[str, float]:
    return {s.step_key: (s.end_time or 0) - (s.start_time or 0) for s in instance.get_run_step_stats(run_id)}


def dbt_node_seconds(since: float, slowest: int = 12) -> dict:
    """The dbt invocations started after `since` (one per dbt step of a run; dagster-dbt keeps each one's
    target folder): per step, its models' and its tests' summed seconds, and its slowest nodes."""
    steps = {}
    for folder in (compare.DBT_PROJECT / "target").glob("dbt_*-*"):
        results = folder / "run_results.json"
        if folder.name.split("-")[0] not in TRANSFORM_STAGES or not results.exists() or folder.stat().st_mtime < since:
            continue
        nodes = [(node["unique_id"], node["execution_time"]) for node in json.loads(results.read_text())["results"]]
        steps[folder.name.split("-")[0]] = {
            "models_seconds": round(sum(s for uid, s in nodes if not uid.startswith("test.")), 2),
            "tests_seconds": round(sum(s for uid, s in nodes if uid.startswith("test.")), 2),
            "nodes": len(nodes),
            "slowest": [{"node": uid.split(".")[2], "seconds": round(s, 2)}
                        for uid, s in sorted(nodes, key=lambda node: -node[1])[:slowest]]}
    return steps


def run_pipeline(scale: int, root: Path, days: int = DAYS, seed: int = 42) -> dict:
    """Generate, ingest and transform one scale in its own folder and Dagster instance; return stage figures."""
    from ingestion.generator import GeneratorConfig, generate

    _point_settings_at(root)  # the runs' processes inherit these settings
    _parse_dbt_project()  # before any run: @dbt_assets reads the manifest
    first = END - timedelta(days=days - 1)
    stages: dict[str, Measurement] = {}
    with measured() as stages["generate"]:
        counts = generate(GeneratorConfig(scale, days, seed, end_date=END), root / "landing", root / "truth")
    rows = sum(counts.values())
    # the full build takes every day but the last; the last then arrives as a new landing day, as each day will
    ingest = _run("ingest_job", _ingest_tags(first, END - timedelta(days=1)))
    stages["ingest (load + validate)"] = ingest["run"]
    validate = ingest["validate_seconds"]
    full = _run("transform_job")
    transform = full["run"]
    steps = full["step_seconds"]
    incremental_ingest = _run("ingest_job", _ingest_tags(END, END))
    day_started = time.time()
    incremental_transform = _run("transform_job")
    again_steps = incremental_transform["step_seconds"]
    day_nodes = dbt_node_seconds(day_started)
    # the same run again with nothing new landed: what a day costs whatever its data (the daily floor)
    nothing_new = _run("transform_job")
    records = generator_records(root / "warehouse" / "crm.duckdb", root / "truth")
    serving = root / "serving"
    publish = {"full_seconds": round(steps.get("publish_serving_databases", 0.0), 2),
               "one_day_seconds": round(again_steps.get("publish_serving_databases", 0.0), 2),
               "full_mode": full["publish_mode"], "one_day_mode": incremental_transform["publish_mode"],
               "bi_mib": round((serving / "crm.duckdb").stat().st_size / 2**20, 1),
               "restricted_mib": round((serving / "crm_restricted.duckdb").stat().st_size / 2**20, 1),
               "build_mib": round((root / "warehouse" / "crm.duckdb").stat().st_size / 2**20, 1)}
    table = [{"stage": "generate", "seconds": stages["generate"].seconds, "peak_rss_mib": stages["generate"].peak_rss_mib,
              "rows": rows}]
    ingest_m = stages["ingest (load + validate)"]
    table.append({"stage": "ingest: load", "seconds": ingest_m.seconds - validate, "peak_rss_mib": ingest_m.peak_rss_mib,
                  "rows": rows})
    table.append({"stage": "ingest: validate", "seconds": validate, "peak_rss_mib": ingest_m.peak_rss_mib, "rows": rows})
    for step, name in TRANSFORM_STAGES.items():
        table.append({"stage": name, "seconds": steps.get(step, 0.0), "peak_rss_mib": transform.peak_rss_mib,
                      "rows": len(records) if name == "resolve identities" else rows})
    total = stages["generate"].seconds + ingest_m.seconds + transform.seconds
    table.append({"stage": "total", "seconds": total,
                  "peak_rss_mib": max(m.peak_rss_mib for m in (stages["generate"], ingest_m, transform)), "rows": rows})
    for row in table:
        row["rows_per_second"] = round(row["rows"] / row["seconds"]) if row["seconds"] else None
        row["seconds"] = round(row["seconds"], 2)
        row["peak_rss_mib"] = round(row["peak_rss_mib"])
    return {
        "scale": scale, "days": days, "rows": rows, "customer_records": len(records), "stages": table,
        "pipeline_seconds": round(ingest_m.seconds + transform.seconds, 2),
        "ingest_seconds": round(ingest_m.seconds, 2),
        "publish": publish,
        "incremental": {"one_day_ingest_seconds": round(incremental_ingest["run"].seconds, 2),
                        "transform_seconds": round(incremental_transform["run"].seconds, 2),
                        "total_seconds": round(incremental_ingest["run"].seconds + incremental_transform["run"].seconds,
                                               2),
                        "full_rebuild_seconds": round(ingest_m.seconds + transform.seconds, 2),
                        "nothing_new_seconds": round(nothing_new["run"].seconds, 2),
                        "transform_stages": [{"stage": name, "full_seconds": round(steps.get(step, 0.0), 2),
                                              "one_day_seconds": round(again_steps.get(step, 0.0), 2),
                                              "nothing_new_seconds": round(nothing_new["step_seconds"].get(step, 0.0),
                                                                           2)}
                                             for step, name in TRANSFORM_STAGES.items()],
                        "dbt_nodes": day_nodes},
        "records": records,
    }


def machine() -> dict:
    return {"cores": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=100_000, help="customers (days are fixed at 365)")
    parser.add_argument("--growth", default="", help="other scales to run for the growth table, e.g. 10000,1000000")
    parser.add_argument("--add-growth", default="", help="run only the pipeline at these scales and add them to the "
                        "saved results of --scale (a large scale on its own, after the full run)")
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", "spark_local"],
                        help="spark_local: also build the dbt project on Spark beside DuckDB, at each scale")
    parser.add_argument("--days", type=int, default=DAYS, help=argparse.SUPPRESS)  # the tests' small run only
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--identity-sample", type=int, default=20_000,
                        help="generated records compared with recordlinkage (it scales quadratically in blocks)")
    args = parser.parse_args(argv)
    stem = f"bench-{args.scale}"
    saved = args.out / f"{stem}.json"
    if args.add_growth:
        results = json.loads(saved.read_text())
        scales = sorted({int(s) for s in args.add_growth.split(",")})
    else:
        # scales added on their own earlier (--add-growth) stay in the growth table, with their dates
        earlier = json.loads(saved.read_text())["growth"] if saved.exists() else []
        results = {"started_at": datetime.now().isoformat(timespec="seconds"), "machine": machine(),
                   "growth": [g for g in earlier if "measured_at" in g],
                   "growth_scales": args.growth, "engine": args.engine if args.engine != "duckdb" else None}
        scales = sorted({args.scale, *(int(s) for s in args.growth.split(",") if s)})
    saved_env = {k: os.environ.get(k) for k in SETTINGS}
    work = Path(tempfile.mkdtemp(prefix="crm-bench-"))
    try:
        for scale in scales:
            print(f"[bench] pipeline at {scale:,} customers x {args.days} days", flush=True)
            run = run_pipeline(scale, work / str(scale), args.days)
            records = run.pop("records")
            if args.engine != "duckdb":
                print(f"[bench] dbt project on {args.engine} at {scale:,} customers", flush=True)
                run["engines"] = measure_dbt_on_spark(args.engine)
            run["measured_at"] = datetime.now().isoformat(timespec="seconds")
            results["growth"] = [g for g in results["growth"] if g["scale"] != scale] + [run]
            if scale == args.scale and not args.add_growth:
                results["main"] = run
                _compare(results, work / str(scale), records, args.identity_sample)
                print("[bench] erasure", flush=True)
                results["erasure"] = measure_erasure(work / str(scale))
            shutil.rmtree(work / str(scale), ignore_errors=True)  # a large scale's files are gigabytes
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for key, value in saved_env.items():  # the settings point back where they pointed before
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    table = markdown(results)
    (args.out / f"{stem}.md").write_text(table)
    (args.out / "latest.md").write_text(table)
    print(table)
    return results


def measure_erasure(root: Path, batch: int = 100) -> dict:
    """Forget one person, then `batch` people in one run, each followed by the rebuild (transform, full publish,
    compaction), as `python -m privacy forget` runs them."""
    con = duckdb.connect(str(root / "warehouse" / "crm.duckdb"), read_only=True)
    emails = [e for (e,) in con.execute("SELECT email FROM core.dim_customers WHERE email IS NOT NULL "
                                        "ORDER BY customer_id LIMIT ?", [batch + 1]).fetchall()]
    con.close()
    figures = {}
    for label, people in (("one", emails[:1]), ("batch", emails[1:])):
        requests = root / "secrets" / f"erasure-{label}.csv"
        requests.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        requests.write_text("email,reason\n" + "".join(f"{email},bench\n" for email in people))
        forget = _run("erasure_job", run_config={"ops": {"forget_people": {"config": {"from_file": str(requests)}}}})
        requests.unlink()
        rebuild = _run("transform_job")
        steps = rebuild["step_seconds"]
        figures[label] = {"people": len(people), "forget_seconds": round(forget["run"].seconds, 2),
                          "rebuild_seconds": round(rebuild["run"].seconds, 2),
                          "publish_seconds": round(steps.get("publish_serving_databases", 0.0), 2),
                          "compaction_seconds": round(steps.get("privacy__build_database_compacted", 0.0), 2),
                          "publish_mode": rebuild["publish_mode"]}
    figures["measured_at"] = datetime.now().isoformat(timespec="seconds")
    return figures


def _compare(results: dict, root: Path, records, identity_sample: int) -> None:
    """The side-by-side comparisons, on the main scale's files and warehouse."""
    print("[bench] comparisons", flush=True)
    run = results["main"]
    results["floor"] = compare.floor(root / "landing")
    results["lead_scores"] = compare.lead_scores(root / "warehouse" / "crm.duckdb")
    results["affinity"] = compare.affinity(root / "warehouse" / "crm.duckdb")
    results["campaign_lift"] = compare.campaign_lift(root / "warehouse" / "crm.duckdb", root / "truth")
    for part in ("pipeline", "ingest"):
        results["floor"][f"{part}_over_floor"] = round(run[f"{part}_seconds"] / results["floor"]["seconds"], 1)
    results["rfm"] = compare.rfm(root / "warehouse" / "crm.duckdb")
    results["ingestion"] = compare.ingestion(root / "landing", "email_events", root)
    sample = records.drop_duplicates("person_id").sample(frac=1.0, random_state=1)["person_id"]
    people = set(sample.head(max(1, identity_sample * len(sample) // max(len(records), 1))))
    generated = records[records["person_id"].isin(people)].reset_index(drop=True)
    # every dataset through the default path: a model fitted on its records, as on a new warehouse
    results["identity"] = compare.identity({
        "febrl1": (febrl_records(1), "entity", {}),
        "febrl2": (febrl_records(2), "entity", {}),
        f"generated ({len(generated):,} records)": (generated, "person_id", {}),
    })


if __name__ == "__main__":
    main()
