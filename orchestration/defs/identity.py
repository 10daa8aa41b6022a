"""Identity resolution asset: int_customer_records in; crosswalk, id registry, change log and match edges out."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from identity.crosswalk import assign
from identity.resolver import RECORD_COLUMNS, resolve
from identity.store import edge_table, read_previous, write
from ingestion.settings import get_settings
from orchestration.defs.resources import DUCKDB_POOL
from serving.keys import pii_key

CUSTOMER_RECORDS = dg.AssetKey(["intermediate", "int_customer_records"])
CROSSWALK = dg.AssetKey(["identity", "customer_crosswalk"])


@dg.asset(key=CROSSWALK, deps=[CUSTOMER_RECORDS], group_name="identity", pool=DUCKDB_POOL, kinds={"duckdb", "splink"},
          description="(source, source_record_id) -> stable customer_id, with identity.customer_id_changes (merges, "
                      "splits, new ids), identity.customer_registry and identity.match_edges (why records joined).")
def customer_crosswalk(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as con:
        records = con.execute(f"SELECT {', '.join(RECORD_COLUMNS)} FROM intermediate.int_customer_records "
                              "ORDER BY source, source_record_id").df()
        previous, registry = read_previous(con)
        resolution = resolve(records)
        assignment = assign(resolution.records, previous, registry, context.run_id,
                            id_key=pii_key(get_settings().secrets_dir))
        write(con, assignment, edge_table(resolution, assignment.crosswalk))
    rules = resolution.edges["rule"].value_counts().to_dict()
    changes = assignment.changes["change"].value_counts().to_dict()
    return dg.MaterializeResult(metadata={
        "records": len(assignment.crosswalk),
        "customers": int(assignment.crosswalk["customer_id"].nunique()),
        "edges_by_rule": dg.MetadataValue.json({k: int(v) for k, v in rules.items()}),
        "id_changes": dg.MetadataValue.json({k: int(v) for k, v in changes.items()}),
    })
