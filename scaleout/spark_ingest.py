"""Ingestion on Spark: a feed's landing days read by Spark into raw.<feed>, unparseable records and row-rule failures
into quarantine.<feed> with their reason, the manifest and the reconciliation into audit. The same contract as on
DuckDB: the same file checks (ingestion/file_checks.py), the suite's row rules compiled to Spark SQL
(expectations/row_sql.py), the same reconciliation query (ingestion/audit.py).

Every column is read as text with `_source_file`, `_row_number` (the record's 1-based number in its file,
unparseable records included) and `_load_date`. CSV files are read whole (`multiLine`, so each file is one task and
keeps its order) in PERMISSIVE mode: a record with too many or too few fields lands in `_corrupt_record` and goes to
quarantine as malformed_row. JSON lines are numbered as lines and parsed with from_json; a line that is not an
object is malformed_json. Raw and quarantine are partitioned by `_load_date`: re-loading a day drops and rewrites
its partitions, so re-running a day changes nothing. Without Delta or Iceberg a Spark table has no transaction: a
load that fails half way is repaired by loading the days again.

Not on Spark yet: the erasure suppression list (a landing row carrying an erased identifier is not suppressed
here: privacy runs on DuckDB), and the batch and daily GX checks (row rules only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from expectations.row_sql import SPARK, failures_sql
from expectations.suites import load_suite
from ingestion.audit import RECONCILIATION_DDL, reconciliation_sql
from ingestion.contracts import FeedContract
from ingestion.file_checks import CheckedFile, FileChecks, FileResult
from ingestion.files import list_day_files
from ingestion.warehouse import (MANIFEST_COLUMNS, QUARANTINE_COLUMNS, RAW_METADATA_COLUMNS, ROW_QUARANTINED,
                                 anonymised_table)

SPARK_TYPES = {"VARCHAR": "STRING", "BIGINT": "BIGINT", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP", "BOOLEAN": "BOOLEAN"}
CORRUPT = "_corrupt_record"
REPLACEMENT_CHARACTER = "\ufffd"  # what Spark's decoder makes of bytes that are not UTF-8
NO_NULL_TEXT = "\ue000no-null-text\ue000"  # private-use characters: no feed writes them


def _spark_type(duckdb_type: str) -> str:
    return SPARK_TYPES[duckdb_type.split(" DEFAULT")[0]]


def _columns_ddl(columns: dict[str, str], partition: str) -> str:
    """Spark wants the partition column last."""
    ordered = [name for name in columns if name != partition] + [partition]
    return ", ".join(f"`{name}` {_spark_type(columns[name])}" for name in ordered)


def raw_columns(contract: FeedContract) -> dict[str, str]:
    return {name: "VARCHAR" for name in contract.column_names} | RAW_METADATA_COLUMNS


def ensure_spark_tables(spark, contract: FeedContract) -> None:
    for schema in ("raw", "quarantine", "audit"):
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
    for table in (f"raw.{contract.feed}", anonymised_table(contract.feed)):  # staging reads both (privacy/)
        spark.sql(f"CREATE TABLE IF NOT EXISTS {table} ({_columns_ddl(raw_columns(contract), '_load_date')}) "
                  "USING parquet PARTITIONED BY (_load_date)")
    spark.sql(f"CREATE TABLE IF NOT EXISTS quarantine.{contract.feed} "
              f"({_columns_ddl(QUARANTINE_COLUMNS, '_load_date')}) USING parquet PARTITIONED BY (_load_date)")
    spark.sql("CREATE TABLE IF NOT EXISTS audit.load_manifest ("
              + ", ".join(f"`{n}` {_spark_type(t)}" for n, t in MANIFEST_COLUMNS.items()) + ") USING parquet")
    spark.sql(RECONCILIATION_DDL.replace("VARCHAR", "STRING") + " USING parquet")


@dataclass
class SparkLoad:
    files: list[FileResult]
    balance: list[dict]  # audit.load_reconciliation rows of the days
    failures_by_rule: dict[str, int]

    @property
    def balanced(self) -> bool:
        return all(day["balanced"] for day in self.balance)


class SparkFeedLoader:
    def __init__(self, spark, contract: FeedContract, landing_dir: Path):
        self.spark = spark
        self.contract = contract
        self.landing_dir = landing_dir
        ensure_spark_tables(spark, contract)

    def load_days(self, days: list[date], run_id: str, now: datetime | None = None) -> SparkLoad:
        """Replace these days' rows, quarantine and manifest with what their files hold now; reconcile them."""
        now, loaded_at = now or datetime.now(), datetime.now()
        feed = self.contract.feed
        manifest = [tuple(r) for r in self.spark.sql(
            f"SELECT checksum, file_path, load_date, status, message FROM audit.load_manifest WHERE feed = '{feed}' "
            "ORDER BY loaded_at").collect()]
        checks = FileChecks(self.contract, self.landing_dir, manifest, days)
        files = [f for day in days for f in (checks.check(p, day) for p in list_day_files(self.landing_dir,
                                                                                           self.contract, day))
                 if f.result.status == "loaded"]
        rows, rejects = self._read(files, checks)
        files = [f for f in files if f.result.status == "loaded"]
        self._drop_days(days)
        self._write_raw(rows, files, loaded_at)
        failures = self._quarantine(files, rejects, days, now, loaded_at)
        checks.settle_counts(files)
        self._replace_audit_rows("audit.load_manifest", checks.manifest_rows(loaded_at), days)
        balance = self._reconcile(days, run_id)
        self.spark.catalog.clearCache()
        return SparkLoad([f.result for f in checks.checked], balance, failures)

    # -- reading -----------------------------------------------------------------------------------
    def _read(self, files: list[CheckedFile], checks: FileChecks):
        """The files' records as (contract columns, _extra_columns, _file, _record) and the rejected records as
        (_file, _record, rule, _column, line); `_file` is the path as Spark names it."""
        if not files:
            return None, None
        if self.contract.format == "jsonl":
            return self._read_jsonl(files, checks)
        groups: dict[tuple, list[CheckedFile]] = {}
        for f in files:
            groups.setdefault(self._layout(f), []).append(f)
        rows, rejects = None, None
        for members in groups.values():
            read = self._read_csv if self.contract.format == "csv" else self._read_parquet
            group_rows, group_rejects = read([str(f.path) for f in members], members[0].result.header)
            rows = group_rows if rows is None else rows.unionByName(group_rows)
            if group_rejects is not None:
                rejects = group_rejects if rejects is None else rejects.unionByName(group_rejects)
        return rows, rejects

    def _layout(self, checked: CheckedFile) -> tuple:
        """Files read together: CSV files of one header; Parquet files of one schema, types included (a column
        that is all null in one file may be typed int there and text in the next)."""
        if self.contract.format == "csv":
            return tuple(checked.result.header)
        import pyarrow.parquet as pq

        return tuple((field.name, str(field.type)) for field in pq.read_schema(checked.path))

    def _shape(self, frame, present: list[str], value):
        """Contract columns (absent ones null), unknown columns as one JSON object, then _file and _record."""
        from pyspark.sql import functions as F

        extra = [c for c in present if c not in self.contract.column_names]
        columns = [value(c).alias(c) if c in present else F.lit(None).cast("string").alias(c)
                   for c in self.contract.column_names]
        extra_json = (F.to_json(F.struct(*[value(c).alias(c) for c in extra]), {"ignoreNullFields": "false"})
                      if extra else F.lit(None).cast("string"))
        return frame.select(*columns, extra_json.alias("_extra_columns"), "_file", "_record")

    def _read_csv(self, paths: list[str], header: list[str]):
        from pyspark.sql import Window
        from pyspark.sql import functions as F
        from pyspark.sql.types import StringType, StructField, StructType

        schema = StructType([StructField(c, StringType()) for c in [*header, CORRUPT]])
        # No text reads as null (NO_NULL_TEXT never occurs), so a null field is one the record lacks: the first
        # names the missing column, as DuckDB does. Empty fields are made null below, as DuckDB reads them.
        frame = (self.spark.read.schema(schema)
                 .options(header=True, multiLine=True, mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT,
                          quote='"', escape='"', enforceSchema=True, nullValue=NO_NULL_TEXT, emptyValue="")
                 .csv(paths)
                 .select("*", F.col("_metadata.file_path").alias("_file"), F.monotonically_increasing_id().alias("_at")))
        frame = frame.withColumn("_record", F.row_number().over(Window.partitionBy("_file").orderBy("_at")))
        missing = F.coalesce(*[F.when(F.col(c).isNull(), F.lit(c)) for c in header])
        # the first column holding a byte that was not UTF-8, as DuckDB names it
        undecodable = F.coalesce(*[F.when(F.instr(F.col(c), REPLACEMENT_CHARACTER) > 0, F.lit(c)) for c in header])
        frame = frame.withColumn("_rule", F.when(F.col(CORRUPT).isNotNull(), "malformed_row")
                                 .when(undecodable.isNotNull(), "invalid_encoding"))
        frame = frame.withColumn("_column", F.when(F.col("_rule") == "malformed_row", missing)
                                 .when(F.col("_rule") == "invalid_encoding", undecodable)).cache()
        rejects = frame.where(F.col("_rule").isNotNull()).select(
            "_file", "_record", F.col("_rule").alias("rule"), "_column",
            F.coalesce(F.col(CORRUPT), F.concat_ws(",", *[F.coalesce(F.col(c), F.lit("")) for c in header])).alias("line"))
        rows = self._shape(frame.where(F.col("_rule").isNull()), header, lambda c: F.expr(f"nullif(`{c}`, '')"))
        return rows, rejects

    def _read_parquet(self, paths: list[str], header: list[str]):
        """Parquet values as text, as DuckDB writes them. Spark reads no nanosecond timestamps (pandas writes
        them): those are read as their integer and turned into microsecond timestamps here."""
        import pyarrow as pa
        import pyarrow.parquet as pq
        from pyspark.sql import functions as F

        nanos = {f.name for f in pq.read_schema(paths[0]) if pa.types.is_timestamp(f.type) and f.type.unit == "ns"}

        def as_text(column: str):
            value = F.col(f"`{column}`")
            if column in nanos:
                value = F.timestamp_micros(F.floor(value / 1000)).cast("timestamp_ntz")
            return value.cast("string")

        self.spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
        frame = self.spark.read.parquet(*paths).select(
            "*", F.col("_metadata.file_path").alias("_file"), (F.col("_metadata.row_index") + 1).alias("_record"))
        return self._shape(frame, header, as_text), None

    def _read_jsonl(self, files: list[CheckedFile], checks: FileChecks):
        from pyspark.sql import functions as F
        from pyspark.sql.types import MapType, StringType

        lines = (self.spark.read.text([str(f.path) for f in files], wholetext=True)
                 .select(F.col("_metadata.file_path").alias("_file"),
                         F.posexplode(F.split(F.regexp_replace("value", "^\ufeff|\n$", ""), "\n")).alias("pos", "line"))
                 .where(F.trim("line") != "")
                 .select("_file", (F.col("pos") + 1).alias("_record"), "line",
                         F.from_json("line", MapType(StringType(), StringType())).alias("_map"))
                 .cache())
        keys: dict[str, list[str]] = {}
        for row in lines.where(F.col("_map").isNotNull()).select(
                "_file", F.explode(F.map_keys("_map")).alias("key")).distinct().collect():
            keys.setdefault(row["_file"], []).append(row["key"])
        by_path = self._spark_paths(files, list(keys))
        for spark_path, f in by_path.items():
            checks.check_keys(f, sorted(keys.get(spark_path, [])))
        loaded = [p for p, f in by_path.items() if f.result.status == "loaded"]
        lines = lines.where(F.col("_file").isin(loaded))
        rejects = lines.where(F.col("_map").isNull()).select(
            "_file", "_record", F.lit("malformed_json").alias("rule"), F.lit(None).cast("string").alias("_column"),
            "line")
        by_keys: dict[tuple, list[str]] = {}  # files of one key set: their unknown keys make _extra_columns
        for path in loaded:
            by_keys.setdefault(tuple(by_path[path].result.header), []).append(path)
        rows = None
        for header, paths in by_keys.items():
            group = self._shape(lines.where(F.col("_map").isNotNull() & F.col("_file").isin(paths)), list(header),
                                lambda c: F.col("_map")[c])
            rows = group if rows is None else rows.unionByName(group)
        return rows, rejects

    @staticmethod
    def _spark_paths(files: list[CheckedFile], spark_paths: list[str]) -> dict[str, CheckedFile]:
        """Spark names a file by its URI: each of those names mapped to its checked file."""
        by_local = {str(f.path.absolute()): f for f in files}
        return {p: by_local[unquote(urlparse(p).path)] for p in spark_paths if unquote(urlparse(p).path) in by_local}

    # -- writing -----------------------------------------------------------------------------------
    def _drop_days(self, days: list[date]) -> None:
        partitions = ", ".join(f"PARTITION (_load_date = DATE '{d}')" for d in days)
        for table in (f"raw.{self.contract.feed}", f"quarantine.{self.contract.feed}"):
            self.spark.sql(f"ALTER TABLE {table} DROP IF EXISTS {partitions}")

    def _file_map(self, files: list[CheckedFile], spark_paths: list[str]):
        by_path = self._spark_paths(files, spark_paths)
        return self.spark.createDataFrame(
            [(p, f.result.file, f.day, f.landed.checksum) for p, f in by_path.items()],
            "_file string, _source_file string, _load_date date, _file_checksum string"), by_path

    def _write_raw(self, rows, files: list[CheckedFile], loaded_at: datetime) -> None:
        from pyspark.sql import functions as F

        if rows is None or not files:
            return
        spark_paths = [r["_file"] for r in rows.select("_file").distinct().collect()]
        file_map, by_path = self._file_map(files, spark_paths)
        landed = rows.join(F.broadcast(file_map), "_file").select(
            *self.contract.column_names, "_extra_columns", "_source_file", F.col("_record").alias("_row_number"),
            F.lit(loaded_at).cast("timestamp").alias("_loaded_at"), "_file_checksum", "_load_date")
        landed.write.insertInto(f"raw.{self.contract.feed}")
        counts = dict(rows.groupBy("_file").count().collect())
        for path, f in by_path.items():
            f.result.rows_loaded = counts.get(path, 0)

    def _quarantine(self, files: list[CheckedFile], rejects, days: list[date], now: datetime,
                    loaded_at: datetime) -> dict[str, int]:
        """Unparseable records and row-rule failures of the days into quarantine; failures per rule."""
        feed = self.contract.feed
        table = f"quarantine.{feed}"
        self._write_rejects(files, rejects, loaded_at)
        in_days = ", ".join(f"DATE '{d}'" for d in days)
        self.spark.sql(f"SELECT * FROM raw.{feed} WHERE _load_date IN ({in_days})").createOrReplaceTempView("_landed")
        raw_feeds = [row.tableName for row in self.spark.sql("SHOW TABLES IN raw").collect()]
        # cached: written to quarantine, then counted per rule
        failures = self.spark.sql(failures_sql(self.contract, load_suite(feed), SPARK, now, "_landed", raw_feeds)).cache()
        failures.createOrReplaceTempView("_failures")
        pii = ", ".join(f"'{c.name}'" for c in self.contract.columns if c.pii) or "''"
        # as on DuckDB: a personal value is shown in the message by its length only
        self.spark.sql(f"""
            INSERT INTO {table}
            WITH failed AS (
                SELECT f.rule, f.column_name, f.outcome, r._source_file, r._row_number, r._load_date,
                       to_json(named_struct({", ".join(f"'{c}', r.`{c}`" for c in raw_columns(self.contract)
                                                        if c != "_loaded_at")}, '_loaded_at', CAST(NULL AS TIMESTAMP)),
                               map('ignoreNullFields', 'false')) AS record
                FROM _failures f JOIN _landed r ON r._source_file = f._source_file AND r._row_number = f._row_number
            ), valued AS (
                SELECT *, get_json_object(record, concat('$.', column_name)) AS value FROM failed
            )
            SELECT '{feed}', _source_file, _row_number, rule, column_name, value,
                   concat('[{feed}] ', _source_file, ' row ', _row_number, ': rule ', rule, ' failed on ',
                          column_name, ' = ', CASE
                              WHEN value IS NULL THEN 'null'
                              WHEN array_contains(array({pii}), column_name)
                                  THEN concat('<personal data, ', length(value), ' characters>')
                              ELSE concat('''', value, '''') END,
                          CASE WHEN outcome <> '{ROW_QUARANTINED}'
                               THEN concat(' (row kept, ', column_name, ' nulled)') ELSE '' END),
                   record, TIMESTAMP '{now.isoformat(sep=' ')}', outcome, _load_date
            FROM valued""")
        return {row["rule"]: row["count"] for row in failures.groupBy("rule").count().collect()}

    def _write_rejects(self, files: list[CheckedFile], rejects, loaded_at: datetime) -> None:
        from pyspark.sql import functions as F

        if rejects is None or not files:
            return
        rejects = rejects.cache()
        spark_paths = [r["_file"] for r in rejects.select("_file").distinct().collect()]
        if not spark_paths:
            return
        file_map, by_path = self._file_map(files, spark_paths)
        feed = self.contract.feed
        rejected = rejects.join(F.broadcast(file_map), "_file").select(
            F.lit(feed).alias("feed"), "_source_file", F.col("_record").alias("_row_number"), "rule",
            F.col("_column").alias("column_name"), F.lit(None).cast("string").alias("offending_value"),
            F.concat(F.lit(f"[{feed}] "), "_source_file", F.lit(" row "), "_record", F.lit(": "),
                     F.regexp_replace("rule", "_", " ")).alias("message"),
            F.col("line").alias("record"), F.lit(loaded_at).cast("timestamp").alias("quarantined_at"),
            F.lit(ROW_QUARANTINED).alias("outcome"), "_load_date")
        rejected.write.insertInto(f"quarantine.{feed}")
        for path, count in rejects.groupBy("_file").count().collect():
            if path in by_path:
                by_path[path].result.rows_rejected = count

    def _replace_audit_rows(self, table: str, rows: list[tuple], days: list[date]) -> None:
        """Audit tables are small: rewritten whole from the driver, the feed's days replaced by `rows`."""
        current = self.spark.table(table)
        kept = [tuple(r) for r in current.collect() if not (r["feed"] == self.contract.feed and r["load_date"] in days)]
        self.spark.createDataFrame(kept + rows, current.schema).write.mode("overwrite").insertInto(table)

    def _reconcile(self, days: list[date], run_id: str) -> list[dict]:
        first, last = min(days), max(days)
        rows = [tuple(r) for r in self.spark.sql(reconciliation_sql(
            self.contract, first, last, run_id.replace("'", "''"), datetime.now(), anonymised=None)).collect()
            if r["load_date"] in set(days)]
        self._replace_audit_rows("audit.load_reconciliation", rows, days)
        names = self.spark.table("audit.load_reconciliation").columns
        return [dict(zip(names, row)) for row in sorted(rows, key=lambda r: r[2])]
