"""Landing-folder layout and file fingerprints."""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ingestion.contracts import FeedContract


@dataclass(frozen=True)
class LandedFile:
    path: Path
    size_bytes: int
    checksum: str
    utf8_error: str | None  # where the first non-UTF-8 byte sits, for text formats


def day_folder(landing_dir: Path, feed: str, day: date) -> Path:
    return landing_dir / feed / f"date={day.isoformat()}"


def list_day_files(landing_dir: Path, contract: FeedContract, day: date) -> list[Path]:
    folder = day_folder(landing_dir, contract.feed, day)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def fingerprint(path: Path, check_utf8: bool) -> LandedFile:
    """One pass over the file: SHA-256 for the manifest and, for text feeds, the first invalid UTF-8 byte."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line, utf8_error = 0, 1, None
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            if check_utf8 and utf8_error is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad = offset + exc.start
                    line += chunk[: exc.start].count(b"\n")
                    utf8_error = f"byte {bad} (line {line})"
                else:
                    line += chunk.count(b"\n")
            offset += len(chunk)
    return LandedFile(path, offset, digest.hexdigest(), utf8_error)


def landing_days(landing_dir: Path, feed: str) -> list[date]:
    folder = landing_dir / feed
    if not folder.is_dir():
        return []
    days = []
    for child in folder.iterdir():
        if child.is_dir() and child.name.startswith("date="):
            try:
                days.append(date.fromisoformat(child.name[5:]))
            except ValueError:
                continue
    return sorted(days)
