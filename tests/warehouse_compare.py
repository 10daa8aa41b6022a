"""Compare two warehouses table by table, with customer ids compared through their clusters (a merge keeps the
older id, a rebuild derives one afresh) and the columns that say when or by which run a row was made left out."""

from pathlib import Path

import duckdb

RUN_COLUMNS = {"computed_at", "scored_at", "fitted_at", "_loaded_at", "loaded_at", "run_id", "quarantined_at",
               "reconciled_at", "resolved_at", "_resolved_at", "checked_at", "created_at", "created_run_id", "changed_at"}
CUSTOMER_ID_COLUMNS = ("customer_id", "merged_into")  # column names ending so hold customer ids
# values drawn from the customer id itself (the audience holdout, `md5(customer_id | audience)`): where a merge kept
# the older id and the rebuild derived another, the draws legitimately differ, so they are compared where the
# two warehouses gave the customer the same id
ID_DRAWN_COLUMNS = {"is_holdout"}
# tables that log the runs themselves (one row per run): a crashed run legitimately adds a row
RUN_LOG_TABLES = {("identity", "resolution_runs")}


def _canonical(con, catalog: str) -> None:
    """`{catalog}_ids`: each customer id with its cluster's smallest record key, the same in both warehouses."""
    con.execute(f"""CREATE TEMP TABLE {catalog}_ids AS SELECT customer_id, min(source || ':' || source_record_id) AS cluster
                    FROM {catalog}.identity.customer_crosswalk GROUP BY 1""")


def _rounded(column: str, digits: int) -> str:
    """The float to `digits` significant digits."""
    return (f"CASE WHEN {column} = 0 OR NOT isfinite({column}) THEN {column} "
            f"ELSE round({column}, {digits - 1} - floor(log10(abs({column})))::INTEGER) END")


def _comparable(con, catalog: str, schema: str, table: str, float_digits: int | None) -> str:
    columns = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
                          "AND schema_name = ? AND table_name = ? ORDER BY column_index",
                          [catalog, schema, table]).fetchall()
    selected, joins = [], []
    has_customer_id = "customer_id" in {column for column, _ in columns}
    for n, (column, data_type) in enumerate(columns):
        if column in RUN_COLUMNS:
            continue
        if column in ID_DRAWN_COLUMNS:
            selected.append(f't."{column}" AS "{column}"' if not has_customer_id else
                            f'CASE WHEN t.customer_id IN (SELECT customer_id FROM same_ids) THEN t."{column}" END '
                            f'AS "{column}"')
            continue
        if column.endswith(CUSTOMER_ID_COLUMNS):
            joins.append(f'LEFT JOIN {catalog}_ids i{n} ON i{n}.customer_id = t."{column}"')
            selected.append(f'coalesce(i{n}.cluster, t."{column}") AS "{column}"')
        elif float_digits and data_type in ("DOUBLE", "FLOAT"):
            selected.append(f'{_rounded(f"t.{column}", float_digits)} AS "{column}"')
        else:
            selected.append(f't."{column}"')
    return f'SELECT {", ".join(selected)} FROM {catalog}."{schema}"."{table}" t {" ".join(joins)}'


def differences(left: Path, right: Path, schemas: tuple[str, ...],
                float_digits: int | None = None) -> tuple[set, dict[str, tuple[int, int]]]:
    """The tables of `schemas` found in either warehouse, and per differing table the rows only in left and only
    in right (as multisets); floats compared to `float_digits` significant digits when given, else exactly."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{left}' AS l (READ_ONLY)")
        con.execute(f"ATTACH '{right}' AS r (READ_ONLY)")
        for catalog in ("l", "r"):
            _canonical(con, catalog)
        con.execute("CREATE TEMP TABLE same_ids AS SELECT customer_id FROM l_ids JOIN r_ids USING (customer_id, cluster)")
        tables = {(s, t) for catalog in ("l", "r") for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name IN "
            f"({', '.join('?' for _ in schemas)})", [catalog, *schemas]).fetchall()} - RUN_LOG_TABLES
        found = {}
        for schema, table in sorted(tables):
            ours, theirs = (_comparable(con, c, schema, table, float_digits) for c in ("l", "r"))
            only_left = con.execute(f"SELECT count(*) FROM ({ours} EXCEPT ALL {theirs})").fetchone()[0]
            only_right = con.execute(f"SELECT count(*) FROM ({theirs} EXCEPT ALL {ours})").fetchone()[0]
            if only_left or only_right:
                found[f"{schema}.{table}"] = (only_left, only_right)
        return tables, found
    finally:
        con.close()
