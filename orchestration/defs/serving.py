"""Serving assets: after every successful transform, publish the BI and the restricted database (and PostgreSQL
when CRM_SERVING_POSTGRES_URL is set). A failed publish leaves the previous publication in place and fails an
error-severity check."""

import json
import time

import dagster as dg

from ingestion.settings import get_settings
from orchestration.defs.clv import CUSTOMER_CLV
from orchestration.defs.conditions import AFTER_UPSTREAM
from orchestration.defs.dbt_project import dbt_project
from orchestration.defs.lead_scoring import LEAD_SCORES
from orchestration.defs.resources import DUCKDB_POOL, StepWarehouse
from serving.meta import META_SOURCES
from serving.postgres import postgres_row_counts, publish_postgres
from serving.publish import PUBLISHED_SCHEMAS, count_mismatches, publish_build

SERVING_GROUP = "serving"
BI_DATABASE = dg.AssetKey(["serving", "bi_database"])
RESTRICTED_DATABASE = dg.AssetKey(["serving", "restricted_database"])
POSTGRES = dg.AssetKey(["serving", "postgres"])


def published_models() -> list[dg.AssetKey]:
    """The dbt models and seeds in the published schemas (keyed <schema>/<name> by the dbt translator)."""
    manifest = json.loads(dbt_project.manifest_path.read_text())
    return sorted({dg.AssetKey([node["schema"], node["name"]]) for node in manifest["nodes"].values()
                   if node["resource_type"] in ("model", "seed") and node["schema"] in PUBLISHED_SCHEMAS},
                  key=lambda key: key.to_user_string())


def _failed(check: str, asset: dg.AssetKey, error: Exception) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(check_name=check, asset_key=asset, passed=False,
                               severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"error": dg.MetadataValue.text(f"{type(error).__name__}: {error}")})


def build_serving_assets() -> list[dg.AssetsDefinition]:
    upstream = [*published_models(), CUSTOMER_CLV, LEAD_SCORES]

    @dg.multi_asset(
        name="publish_serving_databases", group_name=SERVING_GROUP, pool=DUCKDB_POOL,
        specs=[dg.AssetSpec(BI_DATABASE, deps=upstream, kinds={"duckdb"}, automation_condition=AFTER_UPSTREAM,
                            description="data/serving/crm.duckdb: the BI database. core, rfm, kpi, clv and "
                                        "reference as tables, personal data pseudonymised; meta says when, from "
                                        "which run, how fresh and how many rows. Mode 0644."),
               dg.AssetSpec(RESTRICTED_DATABASE, deps=upstream, kinds={"duckdb"}, automation_condition=AFTER_UPSTREAM,
                            description="data/serving/crm_restricted.duckdb: the same tables with full personal "
                                        "data, for the CRM team. Mode 0600.")],
        check_specs=[dg.AssetCheckSpec("published", asset=BI_DATABASE, blocking=True,
                                       description="Both databases were written, read back with the build "
                                                   "database's row counts in every table, and moved into place.")],
    )
    def publish_serving_databases(context: dg.AssetExecutionContext, warehouse: StepWarehouse):
        started = time.perf_counter()
        try:
            # on Spark the published schemas are copied out to the driver: marts, one row per customer at most
            with warehouse.step(reads=(*PUBLISHED_SCHEMAS, *META_SOURCES)) as con:
                publication = publish_build(con, get_settings(), dbt_project.manifest_path, context.run_id)
        except Exception as error:
            yield _failed("published", BI_DATABASE, error)
            raise dg.Failure(f"publish failed; the previous publication stays in place: {error}") from error
        seconds = time.perf_counter() - started
        generation, databases = publication.generation, (publication.restricted, publication.bi)
        context.log.info(f"published generation {generation.generation_id} ({publication.mode}) in {seconds:.1f}s: "
                         + ", ".join(f"{db.path} ({db.size_bytes / 2**20:.1f} MiB)" for db in databases))
        # each draft was read back and matched the build database's rows before it was moved into place
        yield dg.AssetCheckResult(check_name="published", asset_key=BI_DATABASE, passed=True,
                                  severity=dg.AssetCheckSeverity.ERROR,
                                  metadata={"tables": len(publication.source_rows),
                                            "generation_id": generation.generation_id})
        for database, key in zip(databases, (RESTRICTED_DATABASE, BI_DATABASE)):
            yield dg.MaterializeResult(asset_key=key, metadata={
                "path": dg.MetadataValue.path(str(database.path)),
                "generation_id": generation.generation_id,
                "size_mib": round(database.size_bytes / 2**20, 2),
                "tables": len(database.row_counts),
                "rows": sum(database.row_counts.values()),
                "publish_seconds": round(seconds, 2),
                "publish_mode": publication.mode,
                "tables_updated_by_key": sum(1 for a in publication.tables.values() if a == "updated"),
                "tables_rewritten": sum(1 for a in publication.tables.values() if a == "rewritten"),
            })

    @dg.asset(
        key=POSTGRES, deps=[BI_DATABASE, RESTRICTED_DATABASE], group_name=SERVING_GROUP, pool=DUCKDB_POOL,
        kinds={"postgres"}, output_required=False, automation_condition=AFTER_UPSTREAM,
        description="The publication in PostgreSQL (CRM_SERVING_POSTGRES_URL): pseudonymised schemas for role "
                    "crm_bi, <schema>_restricted for crm_restricted, swapped in one transaction. Not materialised "
                    "when the URL is not set.")
    def publish_to_postgres(context: dg.AssetExecutionContext):
        settings = get_settings()
        if not settings.serving_postgres_url:
            context.log.info("CRM_SERVING_POSTGRES_URL is not set: PostgreSQL publish skipped")
            return
        started = time.perf_counter()
        published = publish_postgres(settings.serving_postgres_url, settings.bi_database, settings.restricted_database)
        yield dg.Output(None, metadata={
            "tables": len(published.tables), "rows": sum(published.tables.values()),
            "swap_attempts": published.swap_attempts, "publish_seconds": round(time.perf_counter() - started, 2),
        })

    @dg.asset_check(asset=POSTGRES, name="postgres_matches_publication", blocking=True, pool=DUCKDB_POOL,
                    description="PostgreSQL's tables hold the DuckDB BI publication's row counts.")
    def postgres_matches_publication() -> dg.AssetCheckResult:
        settings = get_settings()
        mismatched = count_mismatches(settings.bi_database, postgres_row_counts(settings.serving_postgres_url))
        return dg.AssetCheckResult(passed=not mismatched, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata={"mismatched_tables": dg.MetadataValue.json(mismatched)})

    return [publish_serving_databases, publish_to_postgres, postgres_matches_publication]

