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
    # On Spark: ingestion, dbt, identity, CLV, lead scoring and the publish (resources per engine). Kept on DuckDB
    # only so far: the quality report page, erasure and compaction, the last-good copy (docs/scale-out.md).
    duckdb_only = [] if engine.is_spark else [build_quality_report_asset(), build_database_compacted, last_good_build]
    return dg.Definitions(
        assets=[*build_ingestion_assets(), dbt_staging, customer_crosswalk, dbt_marts, customer_clv, dbt_after_clv,
                lead_scores, *build_serving_assets(), audience_exports, *duckdb_only],
        jobs=[ingest_job, transform_job] + ([] if engine.is_spark else [erasure_job]),
        sensors=[automation_sensor, landing_files_sensor, dead_run_sensor, run_failure_alert]
        + ([] if engine.is_spark else [transform_after_erasure]),
        resources=build_resources(engine),
        # one process per run: DuckDB's single writer serialises the steps anyway, and a process per step cost
        # about 20 s of imports each
        executor=dg.in_process_executor,
    )


defs = build_definitions()
