"""The checks a landing file passes before its rows are read, the same on every engine: not empty, the feed's
format, not a re-delivery of content already loaded, a readable header with the contract's required columns.
What earlier loads tell (the manifest's rows) comes in; a FileResult per file, and the manifest rows to write,
come out."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pyarrow import ArrowException

from ingestion.contracts import FeedContract
from ingestion.files import LandedFile, fingerprint


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
    rows_suppressed: int = 0  # rows carrying an identifier an erasure suppressed: not written to raw
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
class CheckedFile:
    """A landing file after its checks, with what the write needs."""
    path: Path
    day: date
    result: FileResult
    landed: LandedFile


# (checksum, file_path, load_date, status, message) of the feed's manifest, oldest load first
ManifestRow = tuple[str, str, date, str, str | None]


class FileChecks:
    def __init__(self, contract: FeedContract, landing_dir: Path, manifest: list[ManifestRow], days: list[date]):
        """What earlier loads tell about each file: content already loaded on another day, files already known,
        the newest loaded day and the files that arrived late (a re-run keeps their note)."""
        self.contract = contract
        self.landing_dir = landing_dir
        reloading = set(days)
        self._loaded_elsewhere: dict[str, str] = {}
        self._late_notes: dict[str, str] = {}
        for checksum, path, day, status, message in manifest:
            if status == "loaded" and day not in reloading:
                self._loaded_elsewhere.setdefault(checksum, f"{path} (loaded for {day})")
            for note in (message or "").split("; "):
                if note.startswith("late arrival:"):
                    self._late_notes[path] = note
        self._known_files = {r[1] for r in manifest}
        self._newest_day = max((r[2] for r in manifest), default=None)
        self._seen: dict[str, tuple[str, date]] = {}  # checksum -> the file of this load that has it, and its day
        self.checked: list[CheckedFile] = []  # every file checked, in order: one manifest row each

    def check(self, path: Path, day: date) -> CheckedFile:
        rel = str(path.relative_to(self.landing_dir)) if path.is_relative_to(self.landing_dir) else str(path)
        result = FileResult(self.contract.feed, rel, "loaded")
        landed = fingerprint(path, check_utf8=self.contract.format != "parquet")
        checked = CheckedFile(path, day, result, landed)
        self.checked.append(checked)
        try:
            if landed.size_bytes == 0:
                raise FileFault("empty file (0 bytes)")
            if path.suffix.lower() not in self.contract.suffixes:
                raise FileFault(f"wrong format: expected {'/'.join(self.contract.suffixes)} for a "
                                f"{self.contract.format} feed, got '{path.suffix or 'no extension'}'")
            earlier = self._loaded_elsewhere.get(landed.checksum) or self._earlier_in_this_load(landed.checksum, day)
            if earlier:
                result.status = "duplicate"
                result.warnings.append(f"same checksum as {earlier}: delivered twice, skipped")
                return checked
            self._seen[landed.checksum] = (rel, day)
            if rel in self._late_notes:
                result.warnings.append(self._late_notes[rel])
            elif rel not in self._known_files and self._newest_day is not None and self._newest_day > day:
                result.warnings.append(f"late arrival: delivered after {self._newest_day} was loaded; "
                                       f"loaded into its own day {day}")
            if landed.utf8_error:
                result.warnings.append(f"non-UTF-8 bytes from {landed.utf8_error}: affected rows quarantined")
            if self.contract.format == "csv":
                header = csv_header(path)
                if not header or any(not name.strip() for name in header) or len(set(header)) < len(header):
                    raise FileFault(f"unreadable csv header {header}: every column needs a distinct name")
                self.check_columns(header, result)
            elif self.contract.format == "parquet":
                self.check_columns(parquet_columns(path), result)
        except FileFault as fault:
            result.status = "empty" if landed.size_bytes == 0 else "failed"
            result.error = str(fault)
        except (OSError, ArrowException) as exc:  # pyarrow's errors for a truncated or foreign file
            result.status = "failed"
            result.error = f"unreadable {self.contract.format} file: {str(exc).splitlines()[0]}"
        return checked

    def _earlier_in_this_load(self, checksum: str, day: date) -> str | None:
        if checksum not in self._seen:
            return None
        rel, its_day = self._seen[checksum]
        return f"{rel} (same delivery)" if its_day == day else f"{rel} (loaded for {its_day})"

    def check_columns(self, header: list[str], result: FileResult) -> None:
        """Required columns present (else FileFault); missing optional and unknown columns noted."""
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

    def check_keys(self, checked: CheckedFile, present: list[str]) -> None:
        """A JSON-lines file's columns are the keys its records use: the contract's first, then unknown ones."""
        header = [c for c in self.contract.column_names if c in present]
        header += [k for k in present if k not in self.contract.column_names]
        try:
            self.check_columns(header, checked.result)
        except FileFault as fault:
            checked.result.status, checked.result.error = "failed", str(fault)

    def manifest_rows(self, loaded_at) -> list[tuple]:
        """One audit.load_manifest row per file checked (MANIFEST_COLUMNS' order)."""
        return [(self.contract.feed, f.day, f.result.file, f.landed.size_bytes, f.landed.checksum, f.result.status,
                 f.result.rows_read, f.result.rows_loaded, f.result.rows_rejected, f.result.message or None,
                 loaded_at, f.result.rows_suppressed) for f in self.checked]

    def settle_counts(self, loaded: list[CheckedFile]) -> None:
        """rows_read of each loaded file from what was written, rejected and suppressed; a file without a data
        row is empty."""
        for f in loaded:
            f.result.rows_read = f.result.rows_loaded + f.result.rows_rejected + f.result.rows_suppressed
            if f.result.rows_suppressed:
                f.result.warnings.append(f"{f.result.rows_suppressed} row(s) suppressed: they carry an identifier "
                                         "an erasure request removed")
            if f.result.rows_read == 0:
                f.result.status = "empty"
                f.result.warnings.append("header only: no data rows")


def csv_header(path: Path) -> list[str]:
    """The first record's names; a UTF-8 byte-order mark (as spreadsheet exports write) is not part of them."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        return next(csv.reader(handle), [])


def parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)
