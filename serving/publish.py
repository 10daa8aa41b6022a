"""Publish the marts from the private build database into the serving databases, atomically.

Each database is first brought up to date in its private working copy (serving/working_copy.py: only the
tables and rows that changed since the last publish), then copied to a temporary file beside its published name
(in an owner-only folder), read back and compared with the build database, and moved over that name with
os.replace. A reader that has the old file open keeps answering from it (its inode lives on until it closes); a
new connection opens the new file.
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
from serving.change_log import ChangeLogs
from serving.keys import pii_key
from serving.meta import Generation, models_version, write_meta
from serving.policy import PiiPolicy, load_policy
from serving.pseudonym import install_pseudonym_macro
from serving.working_copy import REWRITE_SHARE, WorkingCopies, basis, changed_keys, fingerprint, row_keys

# Schemas a BI tool may read (every later BI schema joins this list); staging, raw, quarantine, identity and
# audit stay in the build database.
PUBLISHED_SCHEMAS = ("core", "rfm", "kpi", "clv", "service", "loyalty", "activation", "sales", "analytics", "reference")
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
    mode: str  # "full": both written anew; "incremental": the working copies brought up to date
    tables: dict[str, str]  # schema.table -> unchanged | updated | rewritten


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


def _create_schemas(con: duckdb.DuckDBPyConnection, catalog: str, plans: list[TablePlan]) -> None:
    for schema in sorted({plan.table.split(".")[0] for plan in plans}):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {catalog}.{schema}")


def _rewrite(con: duckdb.DuckDBPyConnection, catalog: str, kind: str, plan: TablePlan, policy: PiiPolicy) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {catalog}.{plan.table} AS SELECT {plan.select(kind, policy)} FROM {plan.table}")


def _write_fresh(con: duckdb.DuckDBPyConnection, copies: WorkingCopies, plans: list[TablePlan],
                 policy: PiiPolicy) -> dict[str, str]:
    """Both working copies from nothing. The restricted one starts from a file copy of the BI one and writes
    anew only the tables that hold personal data: the other tables are the same in both, and copying a file
    costs a fraction of writing its tables. (Never the other way round: a BI database copied from the
    restricted one would keep personal values in its free blocks.)"""
    copies.remove()
    con.execute(f"ATTACH '{copies.path('bi')}' AS working_bi")
    try:
        _create_schemas(con, "working_bi", plans)
        for plan in plans:
            _rewrite(con, "working_bi", "bi", plan, policy)
        con.execute("CHECKPOINT working_bi")
    finally:
        con.execute("DETACH working_bi")
    shutil.copyfile(copies.path("bi"), copies.path("restricted"))
    con.execute(f"ATTACH '{copies.path('restricted')}' AS working_restricted")
    try:
        for plan in plans:
            if plan.holds_personal_data(policy):
                _rewrite(con, "working_restricted", "restricted", plan, policy)
    finally:
        con.execute("DETACH working_restricted")
    return {plan.table: "rewritten" for plan in plans}


def _update(con: duckdb.DuckDBPyConnection, plan: TablePlan, policy: PiiPolicy, key: tuple[str, ...] | None,
            source_rows: int, logs: ChangeLogs) -> str:
    """Bring one table of both attached working copies up to the build database's; say what it took. Its
    changed keys come from its change log where that covers it, else from comparing it with its copy."""
    names = [name for name, _ in plan.columns]
    copied = con.execute("""SELECT list(column_name ORDER BY ordinal_position), list(data_type ORDER BY ordinal_position)
        FROM information_schema.columns WHERE table_catalog = 'working_restricted'
        AND table_schema || '.' || table_name = ?""", [plan.table]).fetchone()
    if copied[0] != names or copied[1] != [data_type for _, data_type in plan.columns]:
        action = "rewritten"  # new, or its columns changed
    elif _keys_rows(plan, policy, key):
        changed = (logs.fill_changed_keys(con, plan.table, key) if logs.covers(plan.table, key)
                   else changed_keys(con, plan.table, "working_restricted", key, names))
        if changed == 0:
            return "unchanged"
        action = "updated" if changed <= REWRITE_SHARE * source_rows else "rewritten"
    elif fingerprint(con, f"working_restricted.{plan.table}", names) == fingerprint(con, plan.table, names):
        return "unchanged"
    else:
        action = "rewritten"
    if action == "rewritten":
        for kind in ("bi", "restricted"):
            _rewrite(con, f"working_{kind}", kind, plan, policy)
        return action
    built_is_changed = " AND ".join(f'{plan.table}."{column}" IS NOT DISTINCT FROM changed_keys.k{n}'
                                    for n, column in enumerate(key))
    expected = fingerprint(con, f"(SELECT * FROM {plan.table} SEMI JOIN changed_keys ON {built_is_changed})", names)
    for kind in ("restricted", "bi"):
        # the copy's key columns by their names in it, and the changed keys in the copy's form
        in_copy, of_changed = [], []
        for n, column in enumerate(key):
            rule = policy.rule(plan.table, column)
            if kind == "bi":
                in_copy.append(f'"{rule.published_name}"')
                of_changed.append(rule.bi_expression(dict(plan.columns)[column]).replace(f'"{column}"', f"k{n}"))
            else:
                in_copy.append(f'"{column}"')
                of_changed.append(f"k{n}")
        changed_in_copy = ", ".join(f"{expression} AS k{n}" for n, expression in enumerate(of_changed))
        copied_is_changed = " AND ".join(f"copied.{column} IS NOT DISTINCT FROM changed.k{n}"
                                         for n, column in enumerate(in_copy))
        con.execute(f"DELETE FROM working_{kind}.{plan.table} AS copied "
                    f"USING (SELECT {changed_in_copy} FROM changed_keys) AS changed WHERE {copied_is_changed}")
        con.execute(f"INSERT INTO working_{kind}.{plan.table} SELECT {plan.select(kind, policy)} FROM {plan.table} "
                    f"SEMI JOIN changed_keys ON {built_is_changed}")
        # the rows just written are the build database's (in the BI copy: where it holds no personal data)
        if kind == "restricted" or not plan.holds_personal_data(policy):
            written = fingerprint(con, f"(SELECT * FROM working_{kind}.{plan.table} AS copied SEMI JOIN (SELECT "
                                       f"{changed_in_copy} FROM changed_keys) AS changed ON {copied_is_changed})", names)
            if written != expected:
                raise PublishError(f"{kind} working copy's rows of the changed keys differ from the build "
                                   f"database's in {plan.table}")
    return action


def _keys_rows(plan: TablePlan, policy: PiiPolicy, key: tuple[str, ...] | None) -> bool:
    """A key can address rows in both copies if each of its columns is published as it is or as its pseudonym
    (one to one); a generalised or dropped key column cannot."""
    types = dict(plan.columns)
    if not key or any(column not in types or types[column].endswith("[]") for column in key):
        return False
    return all(policy.rule(plan.table, column).pii in (None, "direct") for column in key)


def _bring_up_to_date(con: duckdb.DuckDBPyConnection, copies: WorkingCopies, plans: list[TablePlan],
                      policy: PiiPolicy, keys: dict[str, tuple[str, ...]], source_rows: dict[str, int],
                      logs: ChangeLogs) -> dict[str, str]:
    for kind in ("bi", "restricted"):
        con.execute(f"ATTACH '{copies.path(kind)}' AS working_{kind}")
    try:
        published = {plan.table for plan in plans}
        for kind in ("bi", "restricted"):
            _create_schemas(con, f"working_{kind}", plans)
            for (table,) in con.execute(f"""SELECT table_schema || '.' || table_name FROM information_schema.tables
                    WHERE table_catalog = 'working_{kind}' AND table_schema <> 'meta'""").fetchall():
                if table not in published:  # a model that no longer exists
                    con.execute(f"DROP TABLE working_{kind}.{table}")
        return {plan.table: _update(con, plan, policy, keys.get(plan.table), source_rows[plan.table], logs)
                for plan in plans}
    finally:
        for kind in ("bi", "restricted"):
            con.execute(f"DETACH working_{kind}")


def _finish_copy(con: duckdb.DuckDBPyConnection, copies: WorkingCopies, kind: str, plans: list[TablePlan],
                 policy: PiiPolicy, generation: Generation) -> dict[str, int]:
    """Write this generation's meta into a working copy and checkpoint it; return its rows per table."""
    catalog = f"working_{kind}"
    con.execute(f"ATTACH '{copies.path(kind)}' AS {catalog}")
    try:
        con.execute(f"DROP SCHEMA IF EXISTS {catalog}.meta CASCADE")
        row_counts = {plan.table: con.execute(f"SELECT count(*) FROM {catalog}.{plan.table}").fetchone()[0]
                      for plan in plans}
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
            generation: Generation, keys: dict[str, tuple[str, ...]] | None = None, full: bool = False
            ) -> Publication:
    """Publish from the build database `con` is connected to: the restricted database first, so that the BI
    database, which more people read, never announces a generation the restricted one does not have yet.
    `keys` (schema.table -> row key columns) lets the working copies be updated by key; `full` rewrites them
    whole."""
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
    copies = WorkingCopies.beside(restricted_path)
    copies_basis = basis(generation.models_version, policy, key)
    incremental = not full and copies.usable_for(copies_basis)
    fresh_bytes = copies.fresh_bytes() if incremental else {}
    logs = ChangeLogs.read(con, copies.changes_seen() if incremental else None)
    copies.invalidate()  # from here until the commit below, a crash leaves copies that the next publish rewrites
    drafts = {kind: _drafts(path.parent) / f"{path.name}.{generation.generation_id}.tmp"
              for kind, path in (("bi", bi_path), ("restricted", restricted_path))}
    try:
        if incremental:
            tables = _bring_up_to_date(con, copies, plans, policy, keys or {}, source_rows, logs)
        else:
            tables = _write_fresh(con, copies, plans, policy)
        rows = {kind: _finish_copy(con, copies, kind, plans, policy, generation) for kind in ("restricted", "bi")}
        if not incremental:
            fresh_bytes = {kind: copies.path(kind).stat().st_size for kind in ("bi", "restricted")}
        for kind, draft in drafts.items():
            shutil.copyfile(copies.path(kind), draft)
        _verify_drafts(drafts, source_rows)
    except BaseException as error:
        for draft in drafts.values():
            draft.unlink(missing_ok=True)
            draft.with_name(draft.name + ".wal").unlink(missing_ok=True)
        if incremental and isinstance(error, PublishError):  # never publish a copy that drifted: rewrite it
            return publish(con, bi_path, restricted_path, policy, key, generation, keys, full=True)
        raise
    restricted = PublishedDatabase(restricted_path, "restricted",
                                   _move_into_place(drafts["restricted"], restricted_path, RESTRICTED_MODE),
                                   rows["restricted"])
    bi = PublishedDatabase(bi_path, "bi", _move_into_place(drafts["bi"], bi_path, BI_MODE), rows["bi"])
    copies.commit(copies_basis, generation.generation_id, fresh_bytes, logs.newest)
    logs.prune(con)
    return Publication(generation, source_rows, restricted, bi, "incremental" if incremental else "full", tables)


def _verify_drafts(drafts: dict[str, Path], source_rows: dict[str, int]) -> None:
    """Read each draft back as a reader will, in a fresh DuckDB: its rows per table, counted and as its meta
    says, are the build database's. Their content is not scanned again (at 1M customers that was 13 of a day's
    54 s publish): a rewritten table was copied whole, an unchanged one compared equal, and an updated one was
    checked as it was written (`_update`): its rows for the changed keys were compared with the build database's
    (in the BI copy, where the table holds no personal data). A copy that lost or kept a row fails the counts
    here; the next publish then rewrites both copies."""
    for kind, draft in drafts.items():
        mismatched = count_mismatches(draft, source_rows)
        if mismatched:
            raise PublishError(f"{kind} draft does not hold the build database's rows: {mismatched}")


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


def publish_build(con: duckdb.DuckDBPyConnection, settings: Settings, manifest_path: Path, run_id: str,
                  full: bool = False) -> Publication:
    """Publish with the settings' paths and key, the PII policy and the models' version of the dbt manifest."""
    generation = Generation(uuid.uuid4().hex[:16], datetime.now(), run_id, models_version(manifest_path))
    return publish(con, settings.bi_database, settings.restricted_database, load_policy(manifest_path),
                   pii_key(settings.secrets_dir), generation, row_keys(manifest_path), full)
