"""Read many landing files of one format into DuckDB temp objects, in one scan where possible.

The rows are read once into a temp table and reach `raw` through a temp view (StagedGroup.table), so they are
copied once more only when written. Every staged row carries `_file` (the path it came from) and `_record` (its 1-based record number in that
file, counting records the reader rejected). Rejected records come back as Reject tuples for quarantine.
Files that share a header (CSV), a schema (Parquet) or a key set (JSON lines) are read together: the per-call
cost of DuckDB's readers, not the rows, dominates a day of small files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Reject:
    path: str
    record: int
    kind: str  # DuckDB's error type, or MALFORMED JSON
    column: str
    line: str
    offset: int | None = None  # where the record starts in the file, in bytes (CSV only)


@dataclass
class StagedGroup:
    table: str  # a view of the rows with `_file` and `_record`
    columns: list[str]  # the files' own columns, in their order
    paths: list[str]
    rows: str  # the cheapest relation with one row per staged record and `_file`, for counting


def drop_staged(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every temp view and table the readers made (all named _staged...), views first."""
    objects = con.execute(
        "SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND starts_with(view_name, '_staged') "
        "UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, '_staged') "
        "ORDER BY 1 DESC").fetchall()
    for kind, name in objects:
        con.execute(f"DROP {kind} IF EXISTS {name}")


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _paths_sql(paths: list[str]) -> str:
    return "[" + ", ".join(sql_str(p) for p in paths) + "]"


def read_csv_group(con: duckdb.DuckDBPyConnection, paths: list[str], header: list[str],
                   table: str) -> tuple[StagedGroup, list[Reject]]:
    """CSV files with the same header; the header is given, so DuckDB does not sniff each file. The rows land in
    `<table>_rows` (in file order, so rowid follows the files); `<table>` is a view that adds `_record`."""
    columns = "{" + ", ".join(f"{sql_str(name)}: 'VARCHAR'" for name in header) + "}"
    for name in ("reject_errors", "reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}_rows AS SELECT * FROM "
        f"read_csv({_paths_sql(paths)}, header = true, auto_detect = false, columns = {columns}, delim = ',', "
        f"quote = '\"', escape = '\"', ignore_errors = true, store_rejects = true, filename = '_file', "
        f"hive_partitioning = false)"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}_rejected AS SELECT s.file_path AS _file, e.line - 1 AS n, "
        f"e.error_type, coalesce(e.column_name, '') AS column_name, e.csv_line, e.line_byte_position - 1 AS line_start "
        f"FROM reject_errors e "
        f"JOIN reject_scans s USING (scan_id, file_id) "
        f"QUALIFY row_number() OVER (PARTITION BY s.file_path, e.line ORDER BY e.column_idx) = 1"
    )
    # The reader skips rejected records, so the k-th parsed row of a file is record k plus the number of records
    # rejected before it. A rejected record i (in order, n its record number) has n - i parsed rows before it.
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW {table} AS
        WITH starts AS (
            SELECT _file, min(rowid) AS first_rowid FROM {table}_rows GROUP BY _file
        ), rejected AS (
            SELECT _file, n - row_number() OVER w AS parsed_before, row_number() OVER w AS rejected_so_far
            FROM {table}_rejected WINDOW w AS (PARTITION BY _file ORDER BY n)
        ), shifts AS (
            SELECT _file, parsed_before, max(rejected_so_far) AS shift FROM rejected GROUP BY ALL
        ), parsed AS (
            SELECT r.*, r.rowid - s.first_rowid + 1 AS _ordinal FROM {table}_rows r JOIN starts s USING (_file)
        )
        SELECT parsed.* EXCLUDE (_ordinal), _ordinal + coalesce(shifts.shift, 0) AS _record
        FROM parsed ASOF LEFT JOIN shifts ON parsed._file = shifts._file AND parsed._ordinal > shifts.parsed_before""")
    rejects = [Reject(*row) for row in con.execute(
        f"SELECT _file, n, error_type, column_name, csv_line, line_start FROM {table}_rejected ORDER BY _file, n").fetchall()]
    return StagedGroup(table, header, paths, rows=f"{table}_rows"), rejects


def read_parquet_group(con: duckdb.DuckDBPyConnection, paths: list[str], columns: list[str],
                       table: str) -> tuple[StagedGroup, list[Reject]]:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_rows AS SELECT * FROM read_parquet({_paths_sql(paths)}, "
                f"file_row_number = true, filename = '_file', hive_partitioning = false)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * EXCLUDE (file_row_number), "
                f"file_row_number + 1 AS _record FROM {table}_rows")
    return StagedGroup(table, columns, paths, rows=f"{table}_rows"), []


def read_jsonl_lines(con: duckdb.DuckDBPyConnection, paths: list[str]) -> tuple[dict[str, list[str]], list[Reject]]:
    """Split the files into numbered lines (temp table _staged_lines); return each file's keys and the malformed
    lines. Blank lines are skipped but counted, so `_record` is the line number."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _staged_lines AS SELECT _file, line, n AS _record, "
        f"  CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END AS is_object FROM ("
        f"  SELECT filename AS _file, unnest(lines) AS line, generate_subscripts(lines, 1) AS n FROM ("
        f"    SELECT filename, string_split(rtrim(ltrim(content, chr(65279)), chr(10)), chr(10)) AS lines "
        f"    FROM read_text({_paths_sql(paths)}))) WHERE trim(line) <> ''"
    )
    keys: dict[str, list[str]] = {p: [] for p in paths}
    for path, key in con.execute("SELECT DISTINCT _file, unnest(json_keys(line)) FROM _staged_lines WHERE is_object "
                                 "ORDER BY 1, 2").fetchall():
        keys[path].append(key)
    rejects = [Reject(*row) for row in con.execute(
        "SELECT _file, _record, 'MALFORMED JSON', '', line FROM _staged_lines WHERE NOT is_object "
        "ORDER BY _file, _record").fetchall()]
    return keys, rejects


def stage_jsonl_group(con: duckdb.DuckDBPyConnection, paths: list[str], keys: list[str], table: str) -> StagedGroup:
    """Rows of files that share a key set, one column per key (as text); a view, so each value is extracted once,
    while it is written."""
    fields = "".join(f"json_extract_string(line, {sql_str('$.' + json.dumps(k))}) AS \"{k}\", " for k in keys)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT {fields}_file, _record FROM _staged_lines "
                f"WHERE is_object AND _file IN (SELECT unnest({_paths_sql(paths)}))")
    return StagedGroup(table, keys, paths, rows=table)


def line_as_delivered(path: str, offset: int) -> str | None:
    """The physical line starting at `offset`, with bytes that are not UTF-8 written as \\xNN escapes. DuckDB's own
    copy of a rejected line replaces such bytes and can lose the delimiter after them. None when `offset` is not
    the start of a line (then the reader's copy is kept)."""
    with open(path, "rb") as handle:
        if offset > 0:
            handle.seek(offset - 1)
            if handle.read(1) != b"\n":
                return None
        line = handle.readline()
    return line.rstrip(b"\r\n").decode("utf-8", errors="backslashreplace")
