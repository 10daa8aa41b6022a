"""The same dbt project on Spark gives the marts DuckDB gives. One warehouse of the generated month (the session's
pipeline): its sources (raw feeds, quarantine, identity, CLV and lead scores) are copied into a Spark warehouse,
every seed, model and dbt test is built there with CRM_ENGINE=spark_local, then again through a Spark Thrift
Server (spark_thrift), and each time every mart is compared with DuckDB's build of the same sources: as sorted
multisets of rows, floats to FLOAT_DIGITS significant digits, customer ids through their clusters.

Skipped only where there is no Java; `make test` installs a JDK where it is missing, so CI never skips it."""

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import run_dbt
from engine_compare import FLOAT_DIGITS, snapshot
from warehouse_compare import differences

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (`make java` installs it)")

MART_SCHEMAS = ("staging", "intermediate", "core", "rfm", "kpi", "service", "loyalty", "activation", "analytics")


@dataclasses.dataclass
class Engines:
    settings: object  # the Spark side's settings: its warehouse and metastore under their own data folder
    duckdb_marts: Path  # DuckDB's build, every relation as a table
    relations: int  # how many relations the mart schemas hold in it
    work: Path


def _export_spark(settings, target: Path) -> None:
    from scaleout.spark_session import spark_session
    from scaleout.table_copy import spark_to_duckdb

    con = duckdb.connect(str(target))
    try:
        with spark_session(settings) as spark:
            tables = [f"{schema}.{row.tableName}" for schema in MART_SCHEMAS
                      for row in spark.sql(f"SHOW TABLES IN {schema}").collect()]
            spark_to_duckdb(spark, con, [*tables, "identity.customer_crosswalk"])
    finally:
        con.close()


@pytest.fixture(scope="module")
def engines(pipeline, tmp_path_factory) -> Engines:
    from scaleout.table_copy import copy_sources_to_spark

    work = tmp_path_factory.mktemp("engines")
    warehouse = work / "duckdb" / "crm.duckdb"
    warehouse.parent.mkdir()
    con = duckdb.connect(str(pipeline.settings.warehouse_path))
    con.execute("CHECKPOINT")
    con.close()
    shutil.copy(pipeline.settings.warehouse_path, warehouse)
    # DuckDB's marts rebuilt whole from the sources as they are now (other tests may have changed them since)
    run_dbt("run", "--full-refresh", "--target-path", str(work / "target-duckdb"), env={"CRM_WAREHOUSE": str(warehouse)})
    duckdb_marts = work / "duckdb-marts.duckdb"
    relations = sum(name.split(".")[0] in MART_SCHEMAS for name in snapshot(warehouse, duckdb_marts, MART_SCHEMAS))

    settings = dataclasses.replace(pipeline.settings, data_dir=work / "spark-data")
    copied = copy_sources_to_spark(warehouse, settings)
    assert copied["raw.web_events"] > 0 and copied["identity.customer_crosswalk"] > 0
    return Engines(settings, duckdb_marts, relations, work)


def _spark_env(engines: Engines, engine: str, **extra: str) -> dict[str, str]:
    from scaleout.spark_conf import write_spark_conf

    return {"CRM_ENGINE": engine, "SPARK_CONF_DIR": str(write_spark_conf(engines.settings)), **extra}


def test_every_model_and_dbt_test_builds_on_spark_local_and_the_marts_equal_duckdbs(engines):
    run_dbt("build", "--target-path", str(engines.work / "target-spark_local"), env=_spark_env(engines, "spark_local"))
    exported = engines.work / "spark_local-marts.duckdb"
    _export_spark(engines.settings, exported)

    tables, found = differences(engines.duckdb_marts, exported, MART_SCHEMAS, FLOAT_DIGITS)

    assert found == {}
    assert len(tables) == engines.relations
    con = duckdb.connect(str(exported), read_only=True)
    try:  # the comparison saw real marts, not two empty warehouses
        assert con.execute("SELECT count(*) FROM core.dim_customers").fetchone()[0] > 100
        assert con.execute("SELECT count(*) FROM kpi.kpi_customers_daily").fetchone()[0] >= 28
    finally:
        con.close()


def test_the_models_run_through_a_spark_thrift_server_and_give_the_same_marts(engines):
    from scaleout.thrift_server import ThriftServer, free_port

    port = free_port()
    env = _spark_env(engines, "spark_thrift", CRM_SPARK_THRIFT_PORT=str(port))
    with ThriftServer(engines.settings, port):
        run_dbt("run", "--full-refresh", "--target-path", str(engines.work / "target-spark_thrift"), env=env)
    exported = engines.work / "spark_thrift-marts.duckdb"
    _export_spark(engines.settings, exported)

    tables, found = differences(engines.duckdb_marts, exported, MART_SCHEMAS, FLOAT_DIGITS)

    assert found == {}
    assert len(tables) == engines.relations
