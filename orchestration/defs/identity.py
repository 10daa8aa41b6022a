"""Identity resolution asset: int_customer_records in; crosswalk, id registry, change log and match edges out."""


import dagster as dg

from identity.store import resolve_warehouse
from ingestion.settings import get_settings
from orchestration.defs.conditions import AFTER_UPSTREAM
from orchestration.defs.resources import DUCKDB_POOL, StepWarehouse
from scaleout.engine import current_engine
from serving.keys import pii_key

CUSTOMER_RECORDS = dg.AssetKey(["intermediate", "int_customer_records"])
CROSSWALK = dg.AssetKey(["identity", "customer_crosswalk"])


class ResolutionConfig(dg.Config):
    """`full_rescore`: score every record again instead of only the new and changed ones (after retraining the
    model this happens by itself: its fingerprint changed)."""

    full_rescore: bool = False


@dg.asset(key=CROSSWALK, deps=[CUSTOMER_RECORDS], group_name="identity", pool=DUCKDB_POOL,
          kinds={current_engine().kind, "splink"},
          automation_condition=AFTER_UPSTREAM,
          description="(source, source_record_id) -> stable customer_id, with identity.customer_id_changes (merges, "
                      "splits, new ids), identity.customer_registry and identity.match_edges (why records joined).")
def customer_crosswalk(context: dg.AssetExecutionContext, config: ResolutionConfig,
                       warehouse: StepWarehouse) -> dg.MaterializeResult:
    # Splink scores on the driver (DuckDB in-process) on either engine: one row per source record
    with warehouse.step(reads=("intermediate.int_customer_records", "identity"), writes=("identity",)) as con:
        summary = resolve_warehouse(con, context.run_id, pii_key(get_settings().secrets_dir),
                                    full_rescore=config.full_rescore)
    return dg.MaterializeResult(metadata={
        "records": summary.records,
        "resolution_mode": summary.mode,
        "records_scored": summary.records_scored,
        "customers": summary.customers,
        "edges_by_rule": dg.MetadataValue.json(summary.edges_by_rule),
        "id_changes": dg.MetadataValue.json(summary.id_changes),
    })
