"""Resources: the DuckDB warehouse, the dbt CLI, and per engine (CRM_ENGINE) the step warehouse and feed ingestion
the pipeline's Python steps use: the seam where DuckDB and Spark differ for them."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from importlib import metadata
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource
from packaging import version
from pydantic import PrivateAttr

from expectations.validator import BatchCheck, validate_days
from ingestion.audit import newest_delivery, newest_delivery_sql, reconcile, record_checks
from ingestion.contracts import FeedContract
from ingestion.file_checks import FileResult
from ingestion.loader import FeedLoader
from ingestion.settings import get_settings
from ingestion.warehouse import connection_config, log_raw_changes, span_days
from operations.last_good import restore_if_damaged
from orchestration.defs.dbt_in_process import dbt_in_this_process
from orchestration.defs.dbt_project import dbt_project
from scaleout.engine import Engine, current_engine
from serving.keys import pii_key

# Every asset that writes the warehouse takes this pool; dagster.yaml limits pools to one slot.
DUCKDB_POOL = "duckdb"


class WarehouseResource(DuckDBResource):
    """DuckDBResource that creates the warehouse folder on first use (a fresh clone has no data/ yet) and closes
    the connection when the asset fails too: DuckDBResource closes it only on success, and a failed step's
    traceback would otherwise keep the build database open in the process (the next open with another
    configuration is refused). A damaged warehouse is replaced by the last good build first, and a successful
    use ends with a checkpoint, so that a crash later never leaves this step's work to a WAL replay (DuckDB
    1.5 has open WAL-replay bugs)."""

    @contextmanager
    def get_connection(self):
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        restore_if_damaged(Path(self.database))
        connection = super().get_connection().__enter__()
        try:
            yield connection
            connection.execute("CHECKPOINT")
        finally:
            connection.close()


class ProjectDbtResource(DbtCliResource):
    """DbtCliResource without two costs of every invocation that this project does not need: it learns the dbt
    version by running `dbt --version` (a second dbt process: 4.5 s at each step here) where the dbt beside this
    interpreter is the installed dbt-core package, and it loads dbt's macros into an in-process adapter (3.4 s)
    that serves only column and row-count metadata, which these assets do not fetch. Measured on a 20k-customer
    warehouse, a run's first dbt step is ~5 s shorter (later steps reuse the resource's cached version)."""

    # dbt in the run's process (orchestration/defs/dbt_in_process.py) on DuckDB; Spark's dbt session would start a
    # second Spark driver beside the step warehouse's, so there dbt keeps its own process.
    in_process: bool = False

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None

    def cli(self, args, **kwargs):
        if not self.in_process:
            return super().cli(args, **kwargs)
        with dbt_in_this_process():
            return super().cli(args, **kwargs)


class StepWarehouse(dg.ConfigurableResource):
    """The tables of a Python step: `step(reads, queries, writes)` gives a DuckDB connection holding what the step
    reads (`reads`: tables, or schemas for all their tables; `queries`: name -> SQL in DuckDB's dialect that the
    engine runs, so an aggregation happens where the data is) and keeps what it writes (`writes`: tables or
    schemas). The step's own code is the same program on every engine."""

    def step(self, reads: tuple[str, ...] = (), queries: dict[str, str] | None = None,
             writes: tuple[str, ...] = ()):
        raise NotImplementedError


class DuckDBStepWarehouse(StepWarehouse):
    """On DuckDB the step works in the warehouse itself; a query is a temporary view."""

    database: str
    connection_config: dict[str, str] = {}

    @contextmanager
    def step(self, reads: tuple[str, ...] = (), queries: dict[str, str] | None = None,
             writes: tuple[str, ...] = ()) -> Iterator[duckdb.DuckDBPyConnection]:
        with WarehouseResource(database=self.database, connection_config=self.connection_config).get_connection() as con:
            for name, sql in (queries or {}).items():
                con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
            yield con


class SparkStepWarehouse(StepWarehouse):
    """On Spark the step works in an in-process DuckDB: what it reads is copied out of Spark (a query is run by
    Spark, translated from DuckDB's dialect by sqlglot), what it writes is copied back, replacing those tables.
    One Spark session per step, stopped at its end: a local Derby metastore admits one JVM at a time."""

    @contextmanager
    def step(self, reads: tuple[str, ...] = (), queries: dict[str, str] | None = None,
             writes: tuple[str, ...] = ()) -> Iterator[duckdb.DuckDBPyConnection]:
        import sqlglot

        from scaleout.spark_session import spark_session
        from scaleout.step_tables import read_into_duckdb, write_from_duckdb

        with spark_session(get_settings()) as spark:
            con = duckdb.connect()
            try:
                read_into_duckdb(spark, con, reads)
                for name, sql in (queries or {}).items():
                    frame = spark.sql(sqlglot.transpile(sql, read="duckdb", write="spark")[0]).toArrow()  # noqa: F841
                    con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
                yield con
                write_from_duckdb(con, spark, writes)
            finally:
                con.close()


@dataclass
class FeedIngest:
    """What ingesting a feed's days did, on either engine, for the asset's metadata and checks."""
    files: list[FileResult]
    balance: list[dict]  # audit.load_reconciliation rows of the days
    failures_by_rule: dict[str, int]
    batch_checks: list[BatchCheck]  # GX batch and daily checks (DuckDB; not run on Spark yet)
    rows_checked: int
    validate_seconds: float
    newest_delivery: date | None


class FeedIngestion(dg.ConfigurableResource):
    """Load, validate and reconcile a feed's landing days into the engine's raw, quarantine and audit tables."""

    def ingest(self, contract: FeedContract, days: list[date], run_id: str) -> FeedIngest:
        raise NotImplementedError


class DuckDBFeedIngestion(FeedIngestion):
    database: str
    connection_config: dict[str, str] = {}

    def ingest(self, contract: FeedContract, days: list[date], run_id: str) -> FeedIngest:
        settings = get_settings()
        first, last = min(days), max(days)
        with WarehouseResource(database=self.database, connection_config=self.connection_config).get_connection() as con:
            loader = FeedLoader(con, contract, settings.landing_dir, pii_key(settings.secrets_dir))
            files = [f for load in loader.load_days(days) for f in load.files]
            started = time.perf_counter()
            validation = validate_days(con, contract, first, last)
            seconds = time.perf_counter() - started
            # the validation rewrote the quarantine of every day in the span: log those between the days loaded
            log_raw_changes(con, contract.feed, [d for d in span_days(first, last) if d not in days], "validation")
            balance = reconcile(con, contract, first, last, run_id)
            record_checks(con, contract.feed, first, last, run_id, validation.batch_checks)
            return FeedIngest(files, balance, validation.failures_by_rule, validation.batch_checks,
                              validation.rows_checked, seconds, newest_delivery(con, contract.feed, last))


class SparkFeedIngestion(FeedIngestion):
    """Spark reads the files and runs the suite's row rules as SQL (scaleout/spark_ingest.py). The feeds of a run
    share one Spark session, started by the first and stopped when the run ends (a JVM and its metastore take
    longer to start than a day of a feed takes to load); an ingest run holds no dbt step that would need the
    metastore meanwhile."""

    _session: ExitStack | None = PrivateAttr(default=None)
    _spark: object = PrivateAttr(default=None)

    def ingest(self, contract: FeedContract, days: list[date], run_id: str) -> FeedIngest:
        from scaleout.spark_ingest import SparkFeedLoader

        spark = self._started()
        started = time.perf_counter()
        load = SparkFeedLoader(spark, contract, get_settings().landing_dir).load_days(days, run_id)
        seconds = time.perf_counter() - started
        newest = spark.sql(newest_delivery_sql(contract.feed, max(days))).collect()[0][0]
        return FeedIngest(load.files, load.balance, load.failures_by_rule, [],
                          sum(day["rows_read"] for day in load.balance), seconds, newest)

    def _started(self):
        from scaleout.spark_session import spark_session

        if self._session is None:
            self._session = ExitStack()
            self._spark = self._session.enter_context(spark_session(get_settings()))
        return self._spark

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._session is not None:
            self._session.close()
            self._session = self._spark = None


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (the venv's), so runs work without an activated venv."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def build_resources(engine: Engine | None = None) -> dict[str, dg.ConfigurableResource]:
    """The resources of the engine (CRM_ENGINE when not given)."""
    engine = engine or current_engine()
    settings = get_settings()
    dbt = ProjectDbtResource(project_dir=dbt_project, target=engine.dbt_target, dbt_executable=dbt_executable(),
                             in_process=not engine.is_spark)
    if engine.is_spark:
        return {"warehouse": SparkStepWarehouse(), "ingestion": SparkFeedIngestion(), "dbt": dbt}
    database = {"database": str(settings.warehouse_path), "connection_config": connection_config()}
    return {
        "duckdb": WarehouseResource(**database),
        "warehouse": DuckDBStepWarehouse(**database),
        "ingestion": DuckDBFeedIngestion(**database),
        "dbt": dbt,
    }
