"""Identity resolution asset: int_customer_records in; crosswalk, id registry, change log and match edges out."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from identity.crosswalk import assign
from identity.incremental import fingerprint, resolve
from identity.resolver import RECORD_COLUMNS
from identity.rules import MatchRules
from identity.store import edge_table, forget_resolution_state, read_previous, read_previous_resolution, write
from ingestion.settings import get_settings
from orchestration.defs.resources import DUCKDB_POOL
from serving.keys import pii_key

CUSTOMER_RECORDS = dg.AssetKey(["intermediate", "int_customer_records"])
CROSSWALK = dg.AssetKey(["identity", "customer_crosswalk"])


class ResolutionConfig(dg.Config):
    """`full_rescore`: score every record again instead of only the new and changed ones (after retraining the
    model this happens by itself: its fingerprint changed)."""

    full_rescore: bool = False


@dg.asset(key=CROSSWALK, deps=[CUSTOMER_RECORDS], group_name="identity", pool=DUCKDB_POOL, kinds={"duckdb", "splink"},
          description="(source, source_record_id) -> stable customer_id, with identity.customer_id_changes (merges, "
                      "splits, new ids), identity.customer_registry and identity.match_edges (why records joined).")
def customer_crosswalk(context: dg.AssetExecutionContext, config: ResolutionConfig,
                       duckdb: DuckDBResource) -> dg.MaterializeResult:
    rules = MatchRules()
    with duckdb.get_connection() as con:
        records = con.execute(f"SELECT {', '.join(RECORD_COLUMNS)} FROM intermediate.int_customer_records "
                              "ORDER BY source, source_record_id").df()
        if config.full_rescore:
            forget_resolution_state(con)
        previous, registry = read_previous(con)
        outcome = resolve(records, read_previous_resolution(con), rules)
        resolution = outcome.resolution
        assignment = assign(resolution.records, previous, registry, context.run_id,
                            id_key=pii_key(get_settings().secrets_dir))
        write(con, assignment, edge_table(resolution, assignment.crosswalk), outcome, context.run_id,
              fingerprint(rules))
    edges_by_rule = resolution.edges["rule"].value_counts().to_dict()
    changes = assignment.changes["change"].value_counts().to_dict()
    return dg.MaterializeResult(metadata={
        "records": len(assignment.crosswalk),
        "resolution_mode": outcome.mode,
        "records_scored": outcome.records_scored,
        "customers": int(assignment.crosswalk["customer_id"].nunique()),
        "edges_by_rule": dg.MetadataValue.json({k: int(v) for k, v in edges_by_rule.items()}),
        "id_changes": dg.MetadataValue.json({k: int(v) for k, v in changes.items()}),
    })
