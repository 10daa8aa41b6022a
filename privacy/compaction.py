"""Purge deleted values from a DuckDB file: copy the database into a fresh file and move it over the old one.

DuckDB's DELETE and UPDATE leave the old values in the file's free blocks until those are reused (a deleted
email stays readable in the bytes after DELETE and CHECKPOINT), so an erasure is complete only once the file
was rewritten. The caller must be the file's only user (the `duckdb` pool's one slot).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.warehouse import connection_config


@dataclass(frozen=True)
class Compaction:
    bytes_before: int
    bytes_after: int
    seconds: float


def copy_database(path: Path, target: Path) -> None:
    """Write the database at `path` into a new file `target`, table by table: free blocks are not copied."""
    target.unlink(missing_ok=True)
    con = duckdb.connect(config=connection_config())
    try:
        # attached under the file's own catalog name: dbt's views name it, and must bind in the copy
        con.execute(f"ATTACH '{path}' AS \"{path.stem}\"")
        con.execute(f'CHECKPOINT "{path.stem}"')  # nothing left in a WAL that would outlive the old file
        con.execute(f"ATTACH '{target}' AS copied")
        con.execute(f'COPY FROM DATABASE "{path.stem}" TO copied')
        con.execute("CHECKPOINT copied")
    except BaseException:
        con.close()
        target.unlink(missing_ok=True)
        raise
    con.close()
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())


def pending_purges(con: duckdb.DuckDBPyConnection) -> int:
    """Erasures done in the tables whose deleted values are still in the file (not yet compacted)."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'audit' "
                         "AND table_name = 'erasure_requests'").fetchone()[0]
    return con.execute("SELECT count(*) FROM audit.erasure_requests WHERE status = 'erased'").fetchone()[0] if exists else 0


def compact(path: Path) -> Compaction:
    started, before = time.perf_counter(), path.stat().st_size
    fresh = path.with_name(f".{path.name}.compacting")
    copy_database(path, fresh)
    os.replace(fresh, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return Compaction(before, path.stat().st_size, time.perf_counter() - started)
