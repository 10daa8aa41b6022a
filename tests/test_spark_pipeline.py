"""The whole pipeline through Dagster with CRM_ENGINE=spark_local gives the publication DuckDB gives. One landing
(10 days of generated feeds) goes through the ingest and transform jobs twice, each in a data folder of its own:
on DuckDB, and on Spark (ingestion read by Spark, dbt on Spark, the Python steps fed from and written back to
Spark). The two restricted publications are compared table by table: rows as multisets, floats to FLOAT_DIGITS
significant digits, customer ids through their clusters. Both share the pseudonymisation key, as a move from
one engine to the other would.

Skipped only where there is no Java; `make test` installs a JDK where it is missing."""

import dataclasses
import os
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from conftest import restored_environment, run_ingest, run_transform
from engine_compare import FLOAT_DIGITS, snapshot
from warehouse_compare import differences

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (`make java` installs it)")

FIRST, LAST = "2026-03-01", "2026-03-10"


@dataclasses.dataclass
class Runs:
    duckdb: Path  # DuckDB's restricted publication with its crosswalk, as plain tables
    spark: Path  # Spark's, the same way
    spark_data: Path
    schemas: tuple[str, ...]
    relations: int


def _run(data: Path, engine: str) -> None:
    from orchestration.definitions import build_definitions

    os.environ.update(CRM_DATA_DIR=str(data), CRM_WAREHOUSE=str(data / "warehouse" / "crm.duckdb"),
                      CRM_ENGINE=engine)
    os.environ.pop("CRM_SERVING_POSTGRES_URL", None)
    defs = build_definitions()
    instance = dg.DagsterInstance.ephemeral()
    assert run_ingest(defs, instance, FIRST, LAST).success
    assert run_transform(defs, instance).success


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    from ingestion.generator import GeneratorConfig, generate
    from ingestion.settings import get_settings
    from scaleout.spark_session import spark_session
    from scaleout.table_copy import spark_to_duckdb
    from serving.publish import PUBLISHED_SCHEMAS

    root = tmp_path_factory.mktemp("spark-pipeline")
    duck_data, spark_data = root / "duckdb", root / "spark"
    with restored_environment():
        generate(GeneratorConfig(customers=150, days=10, seed=11, end_date=date.fromisoformat(LAST)),
                 duck_data / "landing", root / "truth")
        shutil.copytree(duck_data / "landing", spark_data / "landing")
        _run(duck_data, "duckdb")
        shutil.copytree(duck_data / "secrets", spark_data / "secrets")
        _run(spark_data, "spark_local")
        settings = get_settings()
    duck, spark = root / "duckdb-publication.duckdb", root / "spark-publication.duckdb"
    relations = len(snapshot(duck_data / "serving" / "crm_restricted.duckdb", duck, PUBLISHED_SCHEMAS))
    snapshot(spark_data / "serving" / "crm_restricted.duckdb", spark, PUBLISHED_SCHEMAS)
    for target, source in ((duck, f"'{duck_data / 'warehouse' / 'crm.duckdb'}'"), (spark, None)):
        con = duckdb.connect(str(target))
        try:
            con.execute("CREATE SCHEMA identity")
            if source:
                con.execute(f"ATTACH {source} AS build (READ_ONLY)")
                con.execute("CREATE TABLE identity.customer_crosswalk AS SELECT * FROM build.identity.customer_crosswalk")
            else:
                with spark_session(dataclasses.replace(settings, data_dir=spark_data)) as session:
                    spark_to_duckdb(session, con, ["identity.customer_crosswalk"])
        finally:
            con.close()
    return Runs(duck, spark, spark_data, PUBLISHED_SCHEMAS, relations)


def test_the_pipeline_on_spark_publishes_what_duckdb_publishes(runs):
    tables, found = differences(runs.duckdb, runs.spark, runs.schemas, FLOAT_DIGITS)

    assert found == {}
    assert len(tables) == runs.relations > 30
    con = duckdb.connect(str(runs.spark), read_only=True)
    try:  # the comparison saw a real publication, not two empty ones
        assert con.execute("SELECT count(*) FROM core.dim_customers").fetchone()[0] > 50
        assert con.execute("SELECT count(*) FROM clv.customer_clv").fetchone()[0] >= 10
    finally:
        con.close()


def test_the_spark_warehouse_holds_the_pipelines_tables(runs):
    """Ingestion, identity and CLV wrote into Spark (its warehouse folder), not into a DuckDB file."""
    warehouse = runs.spark_data / "spark" / "warehouse"
    for table in ("raw.db/web_events", "audit.db/load_manifest", "audit.db/load_reconciliation",
                  "identity.db/customer_crosswalk", "clv.db/customer_clv", "core.db/dim_customers"):
        assert any((warehouse / table).rglob("*.parquet")), table
    assert not (runs.spark_data / "warehouse" / "crm.duckdb").exists()
