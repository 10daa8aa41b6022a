"""Rewrite a landing file without some of its records, keeping every other record's values.

Record numbers are the loader's `_row_number`: the data record's 1-based position (after the header in a CSV;
the line in JSONL, blank lines counted; the row in Parquet). The rewritten file is written beside the original
under a hidden name (the loader skips names that start with a dot) and moved over it only when the erasure's
transaction has committed.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.files import LandedFile, fingerprint


class RewriteError(RuntimeError):
    pass


@dataclass(frozen=True)
class Rewrite:
    target: Path
    draft: Path
    landed: LandedFile  # the rewritten file's size and checksum (under the target's name once moved)

    def commit(self) -> None:
        os.replace(self.draft, self.target)

    def abandon(self) -> None:
        self.draft.unlink(missing_ok=True)


def rewrite_without(path: Path, file_format: str, records: set[int]) -> Rewrite:
    draft = path.with_name(f".{path.name}.erasure")
    kept = {"csv": _csv_without, "jsonl": _jsonl_without, "parquet": _parquet_without}[file_format](path, draft, records)
    if kept is None:
        raise RewriteError(f"{path}: holds fewer records than the erased record numbers {sorted(records)[-1]}")
    landed = fingerprint(draft, check_utf8=file_format != "parquet")
    return Rewrite(path, draft, LandedFile(path, landed.size_bytes, landed.checksum, landed.utf8_error))


def _csv_without(path: Path, draft: Path, records: set[int]) -> int | None:
    # surrogateescape carries bytes that are not UTF-8 through unchanged (the loader quarantined those rows)
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    terminator = "\r\n" if "\r\n" in text else "\n"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or max(records) > len(rows) - 1:
        return None
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=terminator)
    kept = [row for number, row in enumerate(rows) if number == 0 or number not in records]
    writer.writerows(kept)
    draft.write_bytes(out.getvalue().encode("utf-8", errors="surrogateescape"))
    return len(kept) - 1


def _jsonl_without(path: Path, draft: Path, records: set[int]) -> int | None:
    lines = path.read_bytes().split(b"\n")
    trailing = lines[-1] == b""
    if trailing:
        lines = lines[:-1]
    if max(records) > len(lines):
        return None
    kept = [line for number, line in enumerate(lines, start=1) if number not in records]
    draft.write_bytes(b"\n".join(kept) + (b"\n" if trailing and kept else b""))
    return len(kept)


def _parquet_without(path: Path, draft: Path, records: set[int]) -> int | None:
    parquet = pq.ParquetFile(path)
    table = parquet.read()
    if max(records) > table.num_rows:
        return None
    keep = pa.array([number not in records for number in range(1, table.num_rows + 1)])
    compression = parquet.metadata.row_group(0).column(0).compression if parquet.metadata.num_row_groups else "NONE"
    pq.write_table(table.filter(keep), draft, compression=compression.lower() if compression != "UNCOMPRESSED" else "none")
    return table.num_rows - len(records)
