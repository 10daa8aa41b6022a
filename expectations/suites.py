"""Read suite files and resolve their runtime placeholders."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb

SUITES_DIR = Path(__file__).parent / "suites"
NOW = "$now"
REF_PREFIX = "$ref:"  # "$ref:<feed>.<column>": the values that column holds in raw (e.g. campaign ids that exist)


def load_suite(feed: str, directory: Path | None = None) -> dict:
    path = (directory or SUITES_DIR) / f"{feed}.json"
    if not path.exists():
        raise FileNotFoundError(f"no expectation suite for feed {feed!r}: expected {path}")
    return json.loads(path.read_text())


def expectations_at(suite: dict, level: str) -> list[dict]:
    return [e for e in suite["expectations"] if e.get("meta", {}).get("level") == level]


def resolve_kwargs(kwargs: dict, con: duckdb.DuckDBPyConnection, now: datetime) -> dict:
    """Replace `$now` by the run's clock, `$ref:feed.column` by the referenced values, ISO bounds by datetimes."""
    resolved = {}
    for key, value in kwargs.items():
        if value == NOW:
            value = now
        elif isinstance(value, str) and value.startswith(REF_PREFIX):
            feed, column = value[len(REF_PREFIX):].split(".")
            exists = con.execute("SELECT count(*) FROM information_schema.tables "
                                 "WHERE table_schema = 'raw' AND table_name = ?", [feed]).fetchone()[0]
            value = [r[0] for r in con.execute(f'SELECT DISTINCT "{column}" FROM raw.{feed} '
                                               f'WHERE "{column}" IS NOT NULL').fetchall()] if exists else []
        elif key in ("min_value", "max_value") and isinstance(value, str):
            value = datetime.fromisoformat(value)  # GX compares a date column only with a datetime bound
        resolved[key] = value
    return resolved
