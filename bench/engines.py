"""`make bench ENGINE=spark_local`: the dbt project on Spark beside DuckDB, on the sources of the bench's own
warehouse. Both build every seed, model and dbt test from scratch (`dbt build`, DuckDB with --full-refresh);
the Spark figure includes its JVM start, as every scheduled run would. On one machine this measures Spark's
overhead, not a speed-up: Spark pays for planning and shuffles that only pay off across many machines."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.measure import measured
from ingestion.settings import get_settings
from scaleout.spark_conf import write_spark_conf
from scaleout.table_copy import copy_sources_to_spark

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


def _dbt_build(engine: str, target_path: Path, env: dict[str, str], *args: str) -> None:
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run([str(dbt), "build", *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir",
                           str(DBT_PROJECT), "--target-path", str(target_path)],
                          env={**os.environ, **env, "CRM_ENGINE": engine}, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"dbt build on {engine} failed:\n{done.stdout[-3000:]}")


def measure_dbt_on_spark(engine: str = "spark_local") -> dict:
    """Copy the warehouse's sources into Spark, then time `dbt build` on DuckDB and on `engine`."""
    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="bench-dbt-") as folder:
        with measured() as copy:
            copied = copy_sources_to_spark(settings.warehouse_path, settings)
        with measured() as on_duckdb:
            _dbt_build("duckdb", Path(folder) / "duckdb", {}, "--full-refresh")
        with measured() as on_spark:
            _dbt_build(engine, Path(folder) / engine, {"SPARK_CONF_DIR": str(write_spark_conf(settings))})
    rows = sum(copied.values())
    cores = os.cpu_count() or 1
    return {"engine": engine, "source_tables": len(copied), "source_rows": rows,
            "copy_seconds": round(copy.seconds, 2),
            "duckdb_seconds": round(on_duckdb.seconds, 2), "duckdb_peak_rss_mib": round(on_duckdb.peak_rss_mib),
            "spark_seconds": round(on_spark.seconds, 2), "spark_peak_rss_mib": round(on_spark.peak_rss_mib),
            "overhead": round(on_spark.seconds / on_duckdb.seconds, 1),
            "spark_rows_per_core_second": round(rows / (on_spark.seconds * cores))}
