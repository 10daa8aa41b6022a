"""Publish the marts from the private build database into the serving databases, atomically.

Each database is written into a temporary file beside its published name (in an owner-only folder),
checkpointed, closed and read back, then moved over that name with os.replace (the restricted one starts
from a copy of the BI draft and rewrites only the tables that hold personal data). A reader that has the old
file open keeps answering from it (its inode lives on until it closes); a new connection opens the new file.
The published files are never opened for writing, so a BI tool holding one open never blocks the pipeline,
and the pipeline never blocks it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from ingestion.settings import Settings
from serving.keys import pii_key
from serving.meta import Generation, models_version, write_meta
from serving.policy import PiiPolicy, load_policy
from serving.pseudonym import install_pseudonym_macro

# Schemas a BI tool may read (every later BI schema joins this list); staging, raw, quarantine, identity and
# audit stay in the build database.
PUBLISHED_SCHEMAS = ("core", "rfm", "kpi", "clv", "reference")
BI_MODE, RESTRICTED_MODE = 0o644, 0o600


@dataclass(frozen=True)
class TablePlan:
    table: str  # schema.name
    columns: list[tuple[str, str]]  # (name, DuckDB type) in the build database

    def holds_personal_data(self, policy: PiiPolicy) -> bool:
        return any(policy.rule(self.table, name).pii for name, _ in self.columns)

    def select(self, kind: str, policy: PiiPolicy) -> str:
        if kind == "restricted":
            return ", ".join(f'"{name}"' for name, _ in self.columns)
        published = []
        for name, data_type in self.columns:
            rule = policy.rule(self.table, name)
            expression = rule.bi_expression(data_type)
            if expression is not None:
                published.append(f'{expression} AS "{rule.published_name}"')
        return ", ".join(published)


@dataclass
class PublishedDatabase:
    path: Path
    kind: str
    size_bytes: int
    row_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Publication:
    generation: Generation
    source_rows: dict[str, int]  # rows of each published table in the build database, when it was read
    restricted: PublishedDatabase
    bi: PublishedDatabase


def plan_tables(con: duckdb.DuckDBPyConnection) -> list[TablePlan]:
    """Every table and view of the published schemas in the build database, with its columns in order."""
    rows = con.execute("""
        SELECT table_schema || '.' || table_name, column_name, data_type FROM information_schema.columns
        WHERE table_catalog = current_database() AND table_schema IN ?
        ORDER BY table_schema, table_name, ordinal_position""", [list(PUBLISHED_SCHEMAS)]).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, []).append((column, data_type))
    return [TablePlan(table, columns) for table, columns in tables.items()]


class PublishError(RuntimeError):
    pass


def _write_draft(con: duckdb.DuckDBPyConnection, draft: Path, kind: str, plans: list[TablePlan],
                 policy: PiiPolicy, generation: Generation, base: Path | None = None) -> dict[str, int]:
    """Write one database into `draft` from the build database; return its rows per table. Given `base` (the
    BI draft), start from a copy of it and write anew only the tables that hold personal data: the other
    tables are the same in both databases, and copying a file costs a fraction of writing its tables. (Never
    the other way round: a BI database copied from the restricted one would keep personal values in its free
    blocks.)"""
    if base is not None:
        shutil.copyfile(base, draft)
    catalog = f"publication_{kind}"
    con.execute(f"ATTACH '{draft}' AS {catalog}")
    try:
        if base is None:
            for schema in sorted({plan.table.split(".")[0] for plan in plans}):
                con.execute(f"CREATE SCHEMA {catalog}.{schema}")
        else:
            con.execute(f"DROP SCHEMA {catalog}.meta CASCADE")
        row_counts = {}
        for plan in plans:
            if base is None or plan.holds_personal_data(policy):
                con.execute(f"CREATE OR REPLACE TABLE {catalog}.{plan.table} AS "
                            f"SELECT {plan.select(kind, policy)} FROM {plan.table}")
            row_counts[plan.table] = con.execute(f"SELECT count(*) FROM {catalog}.{plan.table}").fetchone()[0]
        columns = [(plan.table, policy.rule(plan.table, name)) for plan in plans for name, _ in plan.columns]
        write_meta(con, catalog, generation, kind, row_counts, columns)
        con.execute(f"CHECKPOINT {catalog}")
    finally:
        con.execute(f"DETACH {catalog}")
    return row_counts


def _move_into_place(draft: Path, target: Path, mode: int) -> int:
    os.chmod(draft, mode)
    os.replace(draft, target)
    _sync_directory(target.parent)
    return target.stat().st_size


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable: a crash right after os.replace must not bring the old name back."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _drafts(directory: Path) -> Path:
    """Drafts are written in an owner-only folder beside the published files (the same file system, so the
    rename is atomic): DuckDB creates files with the umask's mode, and a restricted draft must never be
    readable by others, not even before its chmod."""
    drafts = directory / ".drafts"
    drafts.mkdir(mode=0o700, exist_ok=True)
    os.chmod(drafts, 0o700)
    return drafts


def _remove_stale_drafts(directory: Path) -> None:
    """Drafts a crashed publish left behind (the single duckdb pool slot means none is being written now)."""
    for draft in _drafts(directory).iterdir():
        draft.unlink(missing_ok=True)


def publish(con: duckdb.DuckDBPyConnection, bi_path: Path, restricted_path: Path, policy: PiiPolicy, key: bytes,
            generation: Generation) -> Publication:
    """Publish from the build database `con` is connected to: the restricted database first, so that the BI
    database, which more people read, never announces a generation the restricted one does not have yet."""
    plans = plan_tables(con)
    for plan in plans:
        policy.check_declared(plan.table, [name for name, _ in plan.columns])
    install_pseudonym_macro(con, key)
    for path in {bi_path.parent, restricted_path.parent}:
        path.mkdir(parents=True, exist_ok=True)
        _remove_stale_drafts(path)
    # No other writer can change the build database meanwhile: this process holds its file, and every asset
    # that writes it waits for the duckdb pool's one slot.
    source_rows = {plan.table: con.execute(f"SELECT count(*) FROM {plan.table}").fetchone()[0] for plan in plans}
    drafts = {kind: _drafts(path.parent) / f"{path.name}.{generation.generation_id}.tmp"
              for kind, path in (("bi", bi_path), ("restricted", restricted_path))}
    try:
        rows = {"bi": _write_draft(con, drafts["bi"], "bi", plans, policy, generation)}
        rows["restricted"] = _write_draft(con, drafts["restricted"], "restricted", plans, policy, generation,
                                          base=drafts["bi"])
        for kind, draft in drafts.items():  # read back as a reader will: a copy that lost rows is never published
            mismatched = count_mismatches(draft, source_rows)
            if mismatched:
                raise PublishError(f"{kind} draft does not hold the build database's rows: {mismatched}")
    except BaseException:
        for draft in drafts.values():
            draft.unlink(missing_ok=True)
            draft.with_name(draft.name + ".wal").unlink(missing_ok=True)
        raise
    restricted = PublishedDatabase(restricted_path, "restricted",
                                   _move_into_place(drafts["restricted"], restricted_path, RESTRICTED_MODE),
                                   rows["restricted"])
    bi = PublishedDatabase(bi_path, "bi", _move_into_place(drafts["bi"], bi_path, BI_MODE), rows["bi"])
    return Publication(generation, source_rows, restricted, bi)


def count_mismatches(database: Path, expected: dict[str, int]) -> dict[str, dict[str, int | None]]:
    """Tables of a published file whose rows, counted or as its meta.tables says, differ from `expected`.
    Attached to a fresh in-memory database: `duckdb.connect(path)` would return the database this process may
    already hold at that path, i.e. an older publication."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{database}' AS published (READ_ONLY)")
        listed = {f"{s}.{t}": n for s, t, n in con.execute(
            "SELECT schema_name, table_name, row_count FROM published.meta.tables").fetchall()}
        counted = {table: con.execute(f"SELECT count(*) FROM published.{table}").fetchone()[0] for table in listed}
    finally:
        con.close()
    return {table: {"expected": expected.get(table), "meta": listed.get(table), "counted": counted.get(table)}
            for table in sorted(set(expected) | set(listed))
            if not expected.get(table) == listed.get(table) == counted.get(table)}


def publish_build(con: duckdb.DuckDBPyConnection, settings: Settings, manifest_path: Path, run_id: str) -> Publication:
    """Publish with the settings' paths and key, the PII policy and the models' version of the dbt manifest."""
    generation = Generation(uuid.uuid4().hex[:16], datetime.now(), run_id, models_version(manifest_path))
    return publish(con, settings.bi_database, settings.restricted_database, load_policy(manifest_path),
                   pii_key(settings.secrets_dir), generation)
