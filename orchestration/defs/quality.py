"""The per-run data-quality report: an HTML page over the landing days the run ingested."""


from datetime import date

import dagster as dg
from dagster_duckdb import DuckDBResource

from expectations.report import write_report
from ingestion.contracts import load_contracts
from ingestion.settings import get_settings
from orchestration.defs.ingestion import INGESTION_GROUP, feed_asset_key, quarantine_asset_key
from orchestration.defs.conditions import after_days_landed
from orchestration.defs.partitions import landing_days
from orchestration.defs.resources import DUCKDB_POOL

QUALITY_REPORT = dg.AssetKey(["audit", "quality_report"])


def build_quality_report_asset() -> dg.AssetsDefinition:
    feeds = list(load_contracts())

    @dg.asset(
        key=QUALITY_REPORT, group_name=INGESTION_GROUP, kinds={"html"}, pool=DUCKDB_POOL,
        deps=[key for feed in feeds for key in (feed_asset_key(feed), quarantine_asset_key(feed))],
        partitions_def=landing_days(), backfill_policy=dg.BackfillPolicy.single_run(),
        automation_condition=after_days_landed(dg.AssetSelection.keys(*(feed_asset_key(f) for f in feeds))),
        description="HTML page per run: reconciliation, file problems, check results, quarantine by rule.",
    )
    def quality_report(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        window = context.partition_time_window
        first, last = window.start.date(), date.fromordinal(window.end.date().toordinal() - 1)
        with duckdb.get_connection() as con:
            settings = get_settings()
            path = write_report(con, first, last, feeds, settings.reports_dir,
                                run_url=f"{settings.ui_url.rstrip('/')}/runs/{context.run_id}")
        context.log.info(f"quality report: {path}")
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)),
                                              "url": dg.MetadataValue.url(path.as_uri())})

    return quality_report
