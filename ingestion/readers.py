"""Read many landing files of one format into one DuckDB temp table, in one scan where possible.

Every staged row carries `_file` (the path it came from) and `_record` (its 1-based record number in that
file, counting records the reader rejected). Rejected records come back as Reject tuples for quarantine.
Files that share a header (CSV), a schema (Parquet) or a key set (JSON lines) are read together: the per-call
cost of DuckDB's readers, not the rows, dominates a day of small files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Reject:
    path: str
    record: int
    kind: str  # DuckDB's error type, or MALFORMED JSON
    column: str
    line: str


@dataclass
class StagedGroup:
    table: str
    columns: list[str]  # the files' own columns, in their order
    paths: list[str]


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _paths_sql(paths: list[str]) -> str:
    return "[" + ", ".join(sql_str(p) for p in paths) + "]"


def read_csv_group(con: duckdb.DuckDBPyConnection, paths: list[str], header: list[str], table: str) -> list[Reject]:
    """CSV files with the same header; the header is given, so DuckDB does not sniff each file."""
    columns = "{" + ", ".join(f"{sql_str(name)}: 'VARCHAR'" for name in header) + "}"
    for name in ("reject_errors", "reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _parsed AS SELECT *, row_number() OVER () AS _global FROM "
        f"read_csv({_paths_sql(paths)}, header = true, auto_detect = false, columns = {columns}, delim = ',', "
        f"quote = '\"', escape = '\"', ignore_errors = true, store_rejects = true, filename = '_file', "
        f"hive_partitioning = false)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rejected AS SELECT s.file_path AS _file, e.line - 1 AS n, e.error_type, "
        "coalesce(e.column_name, '') AS column_name, e.csv_line FROM reject_errors e "
        "JOIN reject_scans s USING (scan_id, file_id) "
        "QUALIFY row_number() OVER (PARTITION BY s.file_path, e.line ORDER BY e.column_idx) = 1"
    )
    # The reader skips rejected records: number each file's parsed rows, then map the k-th parsed row to the
    # k-th record number that was not rejected.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        WITH parsed AS (
            SELECT *, row_number() OVER (PARTITION BY _file ORDER BY _global) AS _ordinal FROM _parsed
        ), totals AS (
            SELECT _file, count(*) AS records FROM (
                SELECT _file FROM _parsed UNION ALL SELECT _file FROM _rejected) GROUP BY _file
        ), records AS (
            SELECT totals._file, r.n AS _record, row_number() OVER (PARTITION BY totals._file ORDER BY r.n) AS _ordinal
            FROM totals, range(1, totals.records + 1) r(n)
            WHERE NOT EXISTS (SELECT 1 FROM _rejected x WHERE x._file = totals._file AND x.n = r.n)
        )
        SELECT parsed.* EXCLUDE (_global, _ordinal), records._record
        FROM parsed JOIN records USING (_file, _ordinal)""")
    rejects = [Reject(*row) for row in con.execute(
        "SELECT _file, n, error_type, column_name, csv_line FROM _rejected ORDER BY _file, n").fetchall()]
    con.execute("DROP TABLE _parsed")
    con.execute("DROP TABLE _rejected")
    return rejects


def read_parquet_group(con: duckdb.DuckDBPyConnection, paths: list[str], table: str) -> list[Reject]:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * EXCLUDE (file_row_number), "
                f"file_row_number + 1 AS _record FROM read_parquet({_paths_sql(paths)}, file_row_number = true, "
                f"filename = '_file', hive_partitioning = false)")
    return []


def read_jsonl_lines(con: duckdb.DuckDBPyConnection, paths: list[str]) -> tuple[dict[str, list[str]], list[Reject]]:
    """Split the files into lines (temp table _lines); return each file's keys and the malformed lines."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _lines AS SELECT _file, line, n AS _record, "
        f"  CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END AS is_object FROM ("
        f"  SELECT filename AS _file, unnest(string_split(rtrim(content, chr(10)), chr(10))) AS line,"
        f"         generate_subscripts(string_split(rtrim(content, chr(10)), chr(10)), 1) AS n"
        f"  FROM read_text({_paths_sql(paths)})) WHERE trim(line) <> ''"
    )
    keys: dict[str, list[str]] = {p: [] for p in paths}
    for path, key in con.execute("SELECT DISTINCT _file, unnest(json_keys(line)) FROM _lines WHERE is_object "
                                 "ORDER BY 1, 2").fetchall():
        keys[path].append(key)
    rejects = [Reject(*row) for row in con.execute(
        "SELECT _file, _record, 'MALFORMED JSON', '', line FROM _lines WHERE NOT is_object ORDER BY _file, _record"
    ).fetchall()]
    return keys, rejects


def stage_jsonl_group(con: duckdb.DuckDBPyConnection, paths: list[str], keys: list[str], table: str) -> None:
    """Rows of files that share a key set, one column per key (as text)."""
    fields = "".join(f"json_extract_string(line, {sql_str('$.' + json.dumps(k))}) AS \"{k}\", " for k in keys)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {fields}_file, _record FROM _lines "
                f"WHERE is_object AND _file IN (SELECT unnest(?::VARCHAR[]))", [paths])


def csv_header(path: Path) -> list[str]:
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return next(csv.reader(handle), [])


def parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)
