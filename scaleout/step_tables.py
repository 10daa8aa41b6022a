"""The tables a Python step reads and writes, moved between the Spark warehouse and the step's own in-process
DuckDB: the step's code (identity, CLV, lead scoring, publishing) stays one program on both engines, and reads
only what it names. Each of these steps works on one row per record or per customer, which fits a driver up to
tens of millions of rows (docs/scale-out.md says where that ends and what to do then)."""

from __future__ import annotations

import duckdb

from scaleout.table_copy import duckdb_to_spark


def spark_tables(spark, names: tuple[str, ...]) -> list[str]:
    """`schema.table` names as they are; a bare schema name stands for each table it holds (none if absent)."""
    tables = []
    databases = {row.namespace for row in spark.sql("SHOW DATABASES").collect()}
    for name in names:
        if "." in name:
            schema, table = name.split(".")
            exists = schema in databases and spark.catalog.tableExists(table, schema)
            tables += [name] if exists else []
        elif name in databases:
            tables += [f"{name}.{row.tableName}" for row in spark.sql(f"SHOW TABLES IN {name}").collect()
                       if not row.isTemporary]
    return tables


def read_into_duckdb(spark, con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> list[str]:
    """Copy the named Spark tables into `con` under the same names. Spark has no unsigned 64-bit integer (a
    UBIGINT travels as DECIMAL(20,0)): such a column comes back as UBIGINT."""
    tables = spark_tables(spark, names)
    for name in tables:
        frame = spark.table(name).toArrow()  # noqa: F841  (DuckDB reads the local Arrow table by its name)
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {name.split('.')[0]}")
        columns = ", ".join(f'"{field.name}"::UBIGINT AS "{field.name}"' if str(field.type) == "decimal128(20, 0)"
                            else f'"{field.name}"' for field in frame.schema)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {columns} FROM frame")
    return tables


def write_from_duckdb(con: duckdb.DuckDBPyConnection, spark, names: tuple[str, ...]) -> dict[str, int]:
    """Copy the named tables of `con` (a bare schema: each of its tables) into Spark, replacing them."""
    tables = []
    for name in names:
        if "." in name:
            tables.append(name)
        else:
            tables += [f"{name}.{t}" for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1", [name]).fetchall()]
    return duckdb_to_spark(con, spark, tables)
