"""Identity resolution asset: int_customer_records in, identity.customer_crosswalk out."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from identity.customer_ids import assign_customer_ids
from identity.resolver import RECORD_COLUMNS, resolve
from orchestration.defs.resources import DUCKDB_POOL

CUSTOMER_RECORDS = dg.AssetKey(["intermediate", "int_customer_records"])
CROSSWALK = dg.AssetKey(["identity", "customer_crosswalk"])


@dg.asset(key=CROSSWALK, deps=[CUSTOMER_RECORDS], group_name="identity", pool=DUCKDB_POOL, kinds={"duckdb", "python"},
          description="(source, source_record_id) -> customer_id for every customer-bearing record.")
def customer_crosswalk(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as con:
        records = con.execute(f"SELECT {', '.join(RECORD_COLUMNS)} FROM intermediate.int_customer_records").df()
        resolution = resolve(records)
        crosswalk = assign_customer_ids(resolution.records)
        con.execute("CREATE SCHEMA IF NOT EXISTS identity")
        con.register("_crosswalk", crosswalk)
        con.execute("CREATE OR REPLACE TABLE identity.customer_crosswalk AS SELECT * FROM _crosswalk")
        con.unregister("_crosswalk")
    rules = resolution.edges["rule"].value_counts().to_dict() if len(resolution.edges) else {}
    return dg.MaterializeResult(metadata={
        "records": len(crosswalk),
        "customers": int(crosswalk["customer_id"].nunique()),
        "edges_by_rule": dg.MetadataValue.json({k: int(v) for k, v in rules.items()}),
    })
