"""Load one feed's landing days into `raw.<feed>`, exactly as they arrived, with a manifest entry per file.

Re-loading days replaces those days (idempotent). A file whose checksum was already loaded on another day
is skipped and reported. A bad file never stops the others: it is recorded with the reason and its name.
Rows the reader cannot parse go to `quarantine.<feed>` with their line, so rows read = loaded + quarantined.
Every file is checked on its own, then the files of all the days are read together (ingestion/readers.py)
and written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from ingestion.contracts import FeedContract
from ingestion.file_checks import CheckedFile, FileChecks, FileResult
from ingestion.files import list_day_files
from ingestion.readers import (Reject, StagedGroup, drop_staged, line_as_delivered, read_csv_group, read_jsonl_lines,
                               read_parquet_group, stage_jsonl_group)
from ingestion.warehouse import ROW_QUARANTINED, ensure_feed_tables, insert_rows, log_raw_changes
from privacy.suppression import is_empty, suppressed_rows_sql
from serving.pseudonym import install_pseudonym_macro


@dataclass
class DayLoad:
    feed: str
    day: date
    files: list[FileResult]


REJECT_RULES = {"TOO MANY COLUMNS": "malformed_row", "MISSING COLUMNS": "malformed_row",
                "UNQUOTED VALUE": "malformed_row", "INVALID ENCODING": "invalid_encoding",
                "INVALID UNICODE": "invalid_encoding", "MALFORMED JSON": "malformed_json"}


class FeedLoader:
    def __init__(self, con: duckdb.DuckDBPyConnection, contract: FeedContract, landing_dir: Path,
                 pii_key: bytes | None = None):
        """`pii_key` hashes the rows' identifiers for the suppression list; needed once an erasure happened."""
        self.con = con
        self.contract = contract
        self.landing_dir = landing_dir
        ensure_feed_tables(con, contract)
        self.suppressing = not is_empty(con)
        if self.suppressing:
            if pii_key is None:
                raise ValueError("the suppression list is not empty: loading needs the PII key to honour it")
            install_pseudonym_macro(con, pii_key)

    # -- public ------------------------------------------------------------------------------------
    def load_day(self, day: date) -> DayLoad:
        """Replace the day's rows with what its files hold now."""
        return self.load_days([day])[0]

    def load_days(self, days: list[date]) -> list[DayLoad]:
        """Replace these days' rows with what their files hold now. Files are checked and read first (a broken
        file fails alone), then everything is written in one transaction."""
        loaded_at = datetime.now()
        manifest = self.con.execute("SELECT checksum, file_path, load_date, status, message FROM audit.load_manifest "
                                    "WHERE feed = ? ORDER BY loaded_at", [self.contract.feed]).fetchall()
        self.checks = FileChecks(self.contract, self.landing_dir, manifest, days)
        by_day: dict[date, list[FileResult]] = {day: [] for day in days}
        files: list[CheckedFile] = []
        for day in days:
            for path in list_day_files(self.landing_dir, self.contract, day):
                checked = self.checks.check(path, day)
                by_day[day].append(checked.result)
                if checked.result.status == "loaded":
                    files.append(checked)
        groups, rejects = self._read(files)
        files = [f for f in files if f.result.status == "loaded"]
        self.con.execute("BEGIN TRANSACTION")
        try:
            self._clear_days(days)
            self._write(groups, files, rejects, loaded_at)
            insert_rows(self.con, "audit.load_manifest", self.checks.manifest_rows(loaded_at))
            log_raw_changes(self.con, self.contract.feed, days, "load", loaded_at)
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        finally:
            drop_staged(self.con)
        return [DayLoad(self.contract.feed, day, by_day[day]) for day in days]

    # -- reading -----------------------------------------------------------------------------------
    def _read(self, files: list[CheckedFile]) -> tuple[list[StagedGroup], list[Reject]]:
        """Read the files in groups of like files; a group that fails is re-read file by file, so only the
        broken file is marked failed."""
        if self.contract.format == "jsonl":
            return self._read_jsonl(files)
        by_layout: dict[tuple, list[CheckedFile]] = {}
        for f in files:
            by_layout.setdefault(tuple(f.result.header), []).append(f)
        groups, rejects = [], []
        for header, members in by_layout.items():
            for batch in self._readable_batches(members, list(header), len(groups)):
                groups.append(batch[0])
                rejects += batch[1]
        return groups, rejects

    def _readable_batches(self, members: list[CheckedFile], header: list[str], number: int):
        table = f"_staged_{number}"
        paths = [str(f.path) for f in members]
        try:
            if self.contract.format == "csv":
                return [read_csv_group(self.con, paths, header, table)]
            return [read_parquet_group(self.con, paths, header, table)]
        except duckdb.Error as exc:
            if len(members) == 1:
                members[0].result.status = "failed"
                members[0].result.error = f"unreadable {self.contract.format} file: {str(exc).splitlines()[0]}"
                return []
            batches = []
            for n, member in enumerate(members):
                batches += self._readable_batches([member], header, number * 100_000 + n + 1)
            return batches

    def _read_jsonl(self, files: list[CheckedFile]) -> tuple[list[StagedGroup], list[Reject]]:
        if not files:
            return [], []
        keys, rejects = read_jsonl_lines(self.con, [str(f.path) for f in files])
        by_keys: dict[tuple, list[str]] = {}
        for f in files:
            self.checks.check_keys(f, keys[str(f.path)])
            if f.result.status == "loaded":
                by_keys.setdefault(tuple(f.result.header), []).append(str(f.path))
        groups = [stage_jsonl_group(self.con, paths, list(header), f"_staged_{n}")
                  for n, (header, paths) in enumerate(by_keys.items())]
        failed = {str(f.path) for f in files if f.result.status != "loaded"}
        return groups, [r for r in rejects if r.path not in failed]

    # -- writing -----------------------------------------------------------------------------------
    def _suppressed(self, group: StagedGroup) -> dict[str, int]:
        """Mark the group's rows that carry a suppressed identifier in `_suppressed`; return how many per file."""
        query = suppressed_rows_sql(self.contract, group.table, group.columns) if self.suppressing else None
        if query is None:
            return {}
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _suppressed AS {query}")
        return dict(self.con.execute("SELECT _file, count(*) FROM _suppressed GROUP BY 1").fetchall())

    def _clear_days(self, days: list[date]) -> None:
        self.con.execute("CREATE OR REPLACE TEMP TABLE _days AS SELECT unnest(?::DATE[]) AS day", [days])
        for table in (f"raw.{self.contract.feed}", f"quarantine.{self.contract.feed}"):
            self.con.execute(f"DELETE FROM {table} WHERE _load_date BETWEEN ? AND ? "
                             f"AND _load_date IN (SELECT day FROM _days)", [min(days), max(days)])
        self.con.execute("DELETE FROM audit.load_manifest WHERE feed = ? AND load_date IN (SELECT day FROM _days)",
                         [self.contract.feed])

    def _write(self, groups: list[StagedGroup], files: list[CheckedFile], rejects: list[Reject], loaded_at: datetime) -> None:
        if not files:
            return
        by_path = {str(f.path): f for f in files}
        self.con.execute("CREATE OR REPLACE TEMP TABLE _file_map AS SELECT unnest(?::VARCHAR[]) AS path, "
                         "unnest(?::VARCHAR[]) AS rel, unnest(?::DATE[]) AS day, unnest(?::VARCHAR[]) AS checksum",
                         [list(by_path), [f.result.file for f in files], [f.day for f in files],
                          [f.landed.checksum for f in files]])
        expected = self.contract.column_names
        for group in groups:
            extra = [c for c in group.columns if c not in expected]
            select = ", ".join(f's."{c}"::VARCHAR' if c in group.columns else "NULL" for c in expected)
            extra_json = ("to_json(struct_pack(" + ", ".join(f'"{c}" := s."{c}"::VARCHAR' for c in extra)
                          + "))::VARCHAR" if extra else "NULL")
            suppressed = self._suppressed(group)
            self.con.execute(
                f"INSERT INTO raw.{self.contract.feed} SELECT {select}, {extra_json}, m.rel, s._record, m.day, ?, "
                f"m.checksum FROM {group.table} s JOIN _file_map m ON m.path = s._file "
                + ("ANTI JOIN _suppressed x ON x._file = s._file AND x._record = s._record" if suppressed else ""),
                [loaded_at])
            for path, rows in self.con.execute(f"SELECT _file, count(*) FROM {group.rows} GROUP BY 1").fetchall():
                by_path[path].result.rows_loaded = rows - suppressed.get(path, 0)
                by_path[path].result.rows_suppressed = suppressed.get(path, 0)
        quarantined = [
            (self.contract.feed, by_path[r.path].result.file, r.record, by_path[r.path].day,
             REJECT_RULES.get(r.kind, "malformed_row"), r.column or None, None,
             f"[{self.contract.feed}] {by_path[r.path].result.file} row {r.record}: {r.kind.lower()}",
             self._quarantined_line(r, by_path[r.path]), loaded_at, ROW_QUARANTINED)
            for r in rejects if r.path in by_path
        ]
        insert_rows(self.con, f"quarantine.{self.contract.feed}", quarantined)
        for r in rejects:
            if r.path in by_path:
                by_path[r.path].result.rows_rejected += 1
        self.checks.settle_counts(files)
        self.con.execute("DROP TABLE _file_map")

    @staticmethod
    def _quarantined_line(reject: Reject, file: CheckedFile) -> str:
        """The rejected line as delivered; for a file with non-UTF-8 bytes, re-read from the file itself."""
        if file.landed.utf8_error and reject.offset is not None:
            return line_as_delivered(reject.path, reject.offset) or reject.line
        return reject.line
