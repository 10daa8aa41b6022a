"""Tables copied between a DuckDB file and the Spark warehouse through Parquet: how an existing DuckDB warehouse's
sources move onto Spark (`python -m scaleout copy-sources`, the bench), and how Spark's marts reach a DuckDB file
to be compared (the parity tests); a Python step's written tables go back to Spark this way (step_tables.py)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import duckdb

from ingestion.settings import Settings

# The schemas the dbt project reads as sources (dbt_project/models/staging/_sources.yml) and the Python steps write.
SOURCE_SCHEMAS = ("raw", "quarantine", "identity", "clv", "sales")


def duckdb_to_spark(con: duckdb.DuckDBPyConnection, spark, tables: list[str]) -> dict[str, int]:
    """Copy `schema.table` names from DuckDB into Spark tables of the same names; returns rows per table."""
    copied = {}
    with tempfile.TemporaryDirectory(prefix="duckdb-to-spark-") as folder:
        for name in tables:
            schema, _ = name.split(".")
            path = Path(folder) / f"{name}.parquet"
            con.execute(f"COPY (SELECT {_spark_readable_columns(con, name)} FROM {name}) TO '{path}' (FORMAT parquet)")
            spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
            frame = spark.read.parquet(str(path))
            frame.write.mode("overwrite").format("parquet").saveAsTable(name)
            copied[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    return copied


def _spark_readable_columns(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """Spark reads no nanosecond timestamps (pandas writes them): those become microseconds, as DuckDB's own."""
    columns = con.execute(f"DESCRIBE {name}").fetchall()
    return ", ".join(f'"{column}"::TIMESTAMP AS "{column}"' if kind in ("TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE")
                     else f'"{column}"' for column, kind, *_ in columns)


def spark_to_duckdb(spark, con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
    """Copy Spark tables into DuckDB tables of the same `schema.table` names (replacing them)."""
    copied = {}
    folder = Path(tempfile.mkdtemp(prefix="spark-to-duckdb-"))
    try:
        for name in tables:
            schema, _ = name.split(".")
            path = folder / name
            spark.table(name).write.mode("overwrite").parquet(str(path))
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet('{path}/*.parquet')")
            copied[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return copied


def copy_sources_to_spark(warehouse: Path, settings: Settings) -> dict[str, int]:
    """Every table of the source schemas of the DuckDB file `warehouse` into the Spark warehouse of `settings`."""
    from scaleout.spark_session import spark_session

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [f"{schema}.{name}" for schema, name in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN "
            f"({', '.join(repr(schema) for schema in SOURCE_SCHEMAS)}) ORDER BY 1, 2").fetchall()]
        with spark_session(settings) as spark:
            return duckdb_to_spark(con, spark, tables)
    finally:
        con.close()
