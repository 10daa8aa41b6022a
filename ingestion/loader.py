"""Load one feed's landing day into `raw.<feed>`, exactly as it arrived, with a manifest entry per file.

Re-loading a day replaces that day (idempotent). A file whose checksum was already loaded on another day
is skipped and reported. A bad file never stops the others: it is recorded with the reason and its name.
Rows the reader cannot parse go to `quarantine.<feed>` with their line, so rows read = loaded + quarantined.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from ingestion.contracts import FeedContract
from ingestion.files import LandedFile, fingerprint, list_day_files
from ingestion.warehouse import ensure_feed_tables


class FileFault(Exception):
    """A file that cannot be loaded at all; the message names the rule it broke."""


@dataclass
class FileResult:
    feed: str
    file: str
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    header: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        parts = ([self.error] if self.error else []) + self.warnings
        return "; ".join(parts)

    def describe(self) -> str:
        return f"[{self.feed}] {self.file}: {self.status}" + (f" - {self.message}" if self.message else "")


@dataclass
class DayLoad:
    feed: str
    day: date
    files: list[FileResult]

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class FeedLoader:
    def __init__(self, con: duckdb.DuckDBPyConnection, contract: FeedContract, landing_dir: Path):
        self.con = con
        self.contract = contract
        self.landing_dir = landing_dir
        ensure_feed_tables(con, contract)

    # -- public ------------------------------------------------------------------------------------
    def load_days(self, days: list[date]) -> list[DayLoad]:
        """Each day in its own transaction: files are read outside it (a broken file must not abort it)."""
        return [self.load_day(day) for day in days]

    def load_day(self, day: date) -> DayLoad:
        """Replace the day's rows with what its files hold now. Files are read first, written in one transaction."""
        feed = self.contract.feed
        loaded_at = datetime.now()
        self._seen: dict[str, str] = {}
        staged = [self._stage_file(path, day, n) for n, path in enumerate(list_day_files(self.landing_dir, self.contract, day))]
        self.con.execute("BEGIN TRANSACTION")
        try:
            self._clear_day(day)
            for result, landed, table, rejects in staged:
                if table:
                    self._write_rows(table, result, landed, day, loaded_at, rejects)
                self.con.execute(
                    "INSERT INTO audit.load_manifest VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [feed, day, result.file, landed.size_bytes, landed.checksum, result.status, result.rows_read,
                     result.rows_loaded, result.rows_rejected, result.message or None, loaded_at],
                )
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        finally:
            for _, _, table, _ in staged:
                if table:
                    self.con.execute(f"DROP TABLE IF EXISTS {table}")
        return DayLoad(feed, day, [s[0] for s in staged])

    def _clear_day(self, day: date) -> None:
        for table in (f"raw.{self.contract.feed}", f"quarantine.{self.contract.feed}"):
            self.con.execute(f"DELETE FROM {table} WHERE _load_date = ?", [day])
        self.con.execute("DELETE FROM audit.load_manifest WHERE feed = ? AND load_date = ?", [self.contract.feed, day])

    # -- one file ----------------------------------------------------------------------------------
    def _stage_file(self, path: Path, day: date, n: int) -> tuple[FileResult, LandedFile, str | None, list]:
        rel = str(path.relative_to(self.landing_dir)) if path.is_relative_to(self.landing_dir) else str(path)
        result = FileResult(self.contract.feed, rel, "loaded")
        landed = fingerprint(path, check_utf8=self.contract.format != "parquet")
        table = f"_staged_{n}"
        try:
            if landed.size_bytes == 0:
                raise FileFault("empty file (0 bytes)")
            if path.suffix.lower() not in self.contract.suffixes:
                raise FileFault(f"wrong format: expected {'/'.join(self.contract.suffixes)} for a "
                                f"{self.contract.format} feed, got '{path.suffix or 'no extension'}'")
            earlier = self._already_loaded(landed, day) or self._seen.get(landed.checksum)
            if earlier:
                result.status = "duplicate"
                result.warnings.append(f"same checksum as {earlier}: delivered twice, skipped")
                return result, landed, None, []
            self._seen[landed.checksum] = f"{rel} (same delivery)"
            late = self._late_arrival(rel, day)
            if late:
                result.warnings.append(late)
            if landed.utf8_error:
                result.warnings.append(f"non-UTF-8 bytes from {landed.utf8_error}: affected rows quarantined")
            rejects = self._stage(path, table)
            self._check_columns(table, result)
            return result, landed, table, rejects
        except FileFault as fault:
            result.status = "empty" if landed.size_bytes == 0 else "failed"
            result.error = str(fault)
        except duckdb.Error as exc:
            result.status = "failed"
            result.error = f"unreadable {self.contract.format} file: {str(exc).splitlines()[0]}"
        self.con.execute(f"DROP TABLE IF EXISTS {table}")
        return result, landed, None, []

    def _already_loaded(self, landed: LandedFile, day: date) -> str | None:
        """Where this content was loaded before, on another day (the day being loaded is replaced)."""
        row = self.con.execute(
            "SELECT file_path, load_date FROM audit.load_manifest WHERE feed = ? AND checksum = ? "
            "AND status = 'loaded' AND load_date <> ? ORDER BY loaded_at LIMIT 1",
            [self.contract.feed, landed.checksum, day],
        ).fetchone()
        return f"{row[0]} (loaded for {row[1]})" if row else None

    def _late_arrival(self, rel: str, day: date) -> str | None:
        """A new file in a day older than the newest loaded day: it still goes to its own day's partition."""
        known, newest = self.con.execute(
            "SELECT count(*) FILTER (WHERE file_path = ?), max(load_date) FROM audit.load_manifest WHERE feed = ?",
            [rel, self.contract.feed]).fetchone()
        if known or newest is None or newest <= day:
            return None
        return f"late arrival: delivered after {newest} was loaded; loaded into its own day {day}"

    def _check_columns(self, table: str, result: FileResult) -> None:
        header = [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall() if r[0] != "_record"]
        expected = self.contract.column_names
        missing = [c for c in expected if c not in header]
        missing_required = [c for c in missing if c in self.contract.required_columns]
        if missing_required:
            raise FileFault(f"missing required column(s) {missing_required}; file has {header}")
        if missing:
            result.warnings.append(f"missing optional column(s) {missing}: loaded as null")
        extra = [c for c in header if c not in expected]
        if extra:
            result.warnings.append(f"schema drift: unknown column(s) {extra} kept in _extra_columns")
        result.header = header

    def _write_rows(self, table: str, result: FileResult, landed: LandedFile, day: date, loaded_at: datetime,
                    rejects: list) -> None:
        expected = self.contract.column_names
        extra = [c for c in result.header if c not in expected]
        select = ", ".join(f'CAST("{c}" AS VARCHAR)' if c in result.header else "NULL" for c in expected)
        extra_json = ("to_json(struct_pack(" + ", ".join(f'"{c}" := CAST("{c}" AS VARCHAR)' for c in extra)
                      + "))::VARCHAR" if extra else "NULL")
        self.con.execute(
            f"INSERT INTO raw.{self.contract.feed} SELECT {select}, {extra_json}, ?, _record, ?, ?, ? FROM {table}",
            [result.file, day, loaded_at, landed.checksum],
        )
        result.rows_loaded = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        result.rows_rejected = self._quarantine_rejects(rejects, result.file, day, loaded_at)
        result.rows_read = result.rows_loaded + result.rows_rejected
        if result.rows_read == 0:
            result.warnings.append("header only: no data rows")

    # -- readers -----------------------------------------------------------------------------------
    def _stage(self, path: Path, staged: str) -> list[tuple[int, str, str, str]]:
        """Read the file into a temp table with a `_record` number; return unparseable records."""
        fmt, src = self.contract.format, _sql_str(str(path))
        if fmt == "parquet":
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT * EXCLUDE (file_row_number), "
                             f"file_row_number + 1 AS _record FROM read_parquet({src}, file_row_number = true, hive_partitioning = false)")
            return []
        if fmt == "jsonl":
            return self._stage_jsonl(src, staged)
        return self._stage_csv(path, src, staged)

    def _stage_csv(self, path: Path, src: str, staged: str) -> list[tuple[int, str, str, str]]:
        # The header is read here, so DuckDB need not sniff the file (most of the cost of a small file).
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            header = next(csv.reader(handle), [])
        if not header or any(not name.strip() for name in header) or len(set(header)) < len(header):
            raise FileFault(f"unreadable csv header {header}: every column needs a distinct name")
        columns = "{" + ", ".join(f"{_sql_str(name)}: 'VARCHAR'" for name in header) + "}"
        for table in ("reject_errors", "reject_scans"):
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _parsed AS SELECT *, row_number() OVER () AS _ordinal FROM "
            f"read_csv({src}, header = true, auto_detect = false, columns = {columns}, delim = ',', quote = '\"', "
            f"escape = '\"', ignore_errors = true, store_rejects = true, hive_partitioning = false)"
        )
        rejects = self.con.execute(
            "SELECT line - 1, error_type, coalesce(column_name, ''), csv_line FROM reject_errors "
            "QUALIFY row_number() OVER (PARTITION BY line ORDER BY column_idx) = 1 ORDER BY line"
        ).fetchall()
        # The reader skips rejected records; map each parsed row back to its record number in the file.
        rejected = ",".join(str(r[0]) for r in rejects) or "-1"
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {staged} AS WITH records AS ("
            f"  SELECT n AS _record, row_number() OVER (ORDER BY n) AS _ordinal"
            f"  FROM range(1, (SELECT count(*) FROM _parsed) + {len(rejects)} + 1) t(n)"
            f"  WHERE n NOT IN ({rejected}))"
            f" SELECT p.* EXCLUDE (_ordinal), r._record FROM _parsed p JOIN records r USING (_ordinal)"
        )
        self.con.execute("DROP TABLE _parsed")
        return rejects

    def _stage_jsonl(self, src: str, staged: str) -> list[tuple[int, str, str, str]]:
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _lines AS SELECT line, n AS _record FROM ("
            f"  SELECT unnest(string_split(rtrim(content, chr(10)), chr(10))) AS line,"
            f"         generate_subscripts(string_split(rtrim(content, chr(10)), chr(10)), 1) AS n"
            f"  FROM read_text({src})) WHERE trim(line) <> ''"
        )
        keys = [r[0] for r in self.con.execute(
            "SELECT DISTINCT unnest(json_keys(line)) FROM _lines WHERE json_valid(line) "
            "AND json_type(line) = 'OBJECT'").fetchall()]
        present = [c for c in self.contract.column_names if c in keys]
        present += sorted(k for k in keys if k not in self.contract.column_names)
        fields = "".join(f"json_extract_string(line, {_sql_str('$.' + json.dumps(k))}) AS \"{k}\", " for k in present)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT {fields}_record "
                         f"FROM _lines WHERE json_valid(line) AND json_type(line) = 'OBJECT'")
        rejects = self.con.execute(
            "SELECT _record, 'MALFORMED JSON', '', line FROM _lines "
            "WHERE NOT json_valid(line) OR json_type(line) <> 'OBJECT' ORDER BY _record").fetchall()
        self.con.execute("DROP TABLE _lines")
        return rejects

    def _quarantine_rejects(self, rejects: list[tuple[int, str, str, str]], rel: str, day: date,
                            loaded_at: datetime) -> int:
        rule_of = {"TOO MANY COLUMNS": "malformed_row", "MISSING COLUMNS": "malformed_row",
                   "UNQUOTED VALUE": "malformed_row", "INVALID ENCODING": "invalid_encoding",
                   "INVALID UNICODE": "invalid_encoding", "MALFORMED JSON": "malformed_json"}
        rows = [
            (self.contract.feed, rel, record, day, rule_of.get(kind, "malformed_row"), column or None, None,
             f"[{self.contract.feed}] {rel} row {record}: {kind.lower()}", line, loaded_at)
            for record, kind, column, line in rejects
        ]
        if rows:
            self.con.executemany(f"INSERT INTO quarantine.{self.contract.feed} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)
