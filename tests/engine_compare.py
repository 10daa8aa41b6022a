"""Compare the marts one engine built with another's: each relation (table or view) is copied into a file of
plain tables, and the two files are compared with warehouse_compare, floats to a stated number of digits."""

from pathlib import Path

import duckdb

# Spark and DuckDB sum and average in other orders, and Spark's percentile interpolates in another way: floats
# agree to about 1e-15 relative, and are compared to 9 significant digits.
FLOAT_DIGITS = 9


def snapshot(warehouse: Path, target: Path, schemas: tuple[str, ...]) -> dict[str, int]:
    """Every table and view of `schemas` (and the crosswalk, which the comparison reads) copied as a table."""
    con = duckdb.connect(str(target))
    try:
        # attached under its own name: a DuckDB view names the catalog of the file it was made in
        con.execute(f"ATTACH '{warehouse}' AS \"{warehouse.stem}\" (READ_ONLY)")
        relations = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? UNION ALL "
            "SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal",
            [warehouse.stem, warehouse.stem]).fetchall()
        copied = {}
        for schema, name in relations:
            if schema in schemas or (schema, name) == ("identity", "customer_crosswalk"):
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                con.execute(f'CREATE TABLE "{schema}"."{name}" AS SELECT * FROM "{warehouse.stem}"."{schema}"."{name}"')
                copied[f"{schema}.{name}"] = con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0]
        return copied
    finally:
        con.close()
