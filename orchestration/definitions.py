"""Dagster entry point: `make dev` (`dagster dev -w workspace.yaml`) loads `defs` as code location customer_single_view."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.activation import audience_exports
from orchestration.defs.automation import automation_sensor, ingest_job, landing_files_sensor, transform_job
from orchestration.defs.clv import customer_clv
from orchestration.defs.dbt import dbt_after_clv, dbt_marts, dbt_staging
from orchestration.defs.identity import customer_crosswalk
from orchestration.defs.ingestion import build_ingestion_assets
from orchestration.defs.lead_scoring import lead_scores
from orchestration.defs.operations import dead_run_sensor, last_good_build, run_failure_alert
from orchestration.defs.quality import build_quality_report_asset
from orchestration.defs.privacy import build_database_compacted, erasure_job, transform_after_erasure
from orchestration.defs.resources import build_resources
from orchestration.defs.serving import build_serving_assets
from scaleout.engine import current_engine


def build_definitions() -> dg.Definitions:
    engine = current_engine()
    if engine.is_spark:
        raise RuntimeError(
            f"CRM_ENGINE={engine.value}: the dbt project runs on Spark (`dbt build --target {engine.value}`, "
            "docs/scale-out.md), but the pipeline's Python steps (ingestion, identity, CLV, publishing) run on "
            "DuckDB only so far; unset CRM_ENGINE to run the pipeline")
    return dg.Definitions(
        assets=[*build_ingestion_assets(), build_quality_report_asset(), dbt_staging, customer_crosswalk, dbt_marts,
                customer_clv, dbt_after_clv, lead_scores, *build_serving_assets(), audience_exports, build_database_compacted,
                last_good_build],
        jobs=[ingest_job, transform_job, erasure_job],
        sensors=[automation_sensor, landing_files_sensor, transform_after_erasure, dead_run_sensor, run_failure_alert],
        resources=build_resources(),
        # one process per run: DuckDB's single writer serialises the steps anyway, and a process per step cost
        # about 20 s of imports each
        executor=dg.in_process_executor,
    )


defs = build_definitions()
