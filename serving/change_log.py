"""The marts' change logs, as the publish reads them.

A mart built incrementally with meta `log_changes` logs the key of every row a build writes or deletes in
`audit.<model>__changes`, numbered from the sequence `audit.change_seq`; a build of it that is not incremental
is noted in `audit.change_log_rebuilds` (dbt_project/macros/changes.sql). The working copies remember the last
number the publish that wrote them took in, so the next publish finds a table's changed keys in its log instead
of comparing every row of the table with its copy (at 1M customers 14 s for fct_touchpoints alone). A table whose
log is missing, or that was rebuilt since, is compared as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


def _has_rebuild_notes(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database() "
                       "AND table_schema = 'audit' AND table_name = 'change_log_rebuilds'").fetchone()[0] > 0


def _log_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """model -> its log's key columns."""
    rows = con.execute("""
        SELECT table_name, list(column_name ORDER BY ordinal_position) FROM information_schema.columns
        WHERE table_catalog = current_database() AND table_schema = 'audit' AND table_name LIKE '%\\_\\_changes' ESCAPE '\\'
        GROUP BY table_name""").fetchall()
    return {name.removesuffix("__changes"): [c for c in columns if c != "change_seq"] for name, columns in rows}


@dataclass(frozen=True)
class ChangeLogs:
    seen: int | None  # the last change the previous publish took in (None: unknown, so every table is compared)
    newest: int  # the last change logged now: what this publish takes in
    keys: dict[str, tuple[str, ...]]  # model -> its log's key columns, for the logs that cover every change since

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, seen: int | None) -> ChangeLogs:
        logs = _log_tables(con)
        if not logs or not _has_rebuild_notes(con):
            return cls(seen, seen or 0, {})
        newest = con.execute("SELECT coalesce(max(change_seq), 0) FROM (" + " UNION ALL ".join(
            [f'SELECT max(change_seq) AS change_seq FROM audit."{model}__changes"' for model in logs]
            + ["SELECT max(change_seq) FROM audit.change_log_rebuilds"]) + ")").fetchone()[0]
        newest = max(newest, seen or 0)
        if seen is None:
            return cls(None, newest, {})
        rebuilt = {model for (model,) in con.execute(
            "SELECT DISTINCT model FROM audit.change_log_rebuilds WHERE change_seq > ?", [seen]).fetchall()}
        return cls(seen, newest, {model: tuple(columns) for model, columns in logs.items() if model not in rebuilt})

    def covers(self, table: str, key: tuple[str, ...] | None) -> bool:
        """The log of `table` (schema.name) holds every key changed since the last publish, by the columns of
        `key` (the row key the publish replaces rows by)."""
        columns = self.keys.get(table.split(".", 1)[1])
        return key is not None and columns is not None and sorted(columns) == sorted(key)

    def fill_changed_keys(self, con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...]) -> int:
        """Fill the temporary table `changed_keys` (k0, k1, ... in the order of `key`) with the keys logged for
        `table` since the last publish, as `working_copy.changed_keys` does by comparing; return how many."""
        picked = ", ".join(f'"{column}" AS k{n}' for n, column in enumerate(key))
        con.execute(f"""CREATE OR REPLACE TEMP TABLE changed_keys AS SELECT DISTINCT {picked}
            FROM audit."{table.split(".", 1)[1]}__changes" WHERE change_seq > ? AND change_seq <= ?""",
                    [self.seen, self.newest])
        return con.execute("SELECT count(*) FROM changed_keys").fetchone()[0]

    def prune(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop what this publish took in: the next one starts after it."""
        for model in _log_tables(con):
            con.execute(f'DELETE FROM audit."{model}__changes" WHERE change_seq <= ?', [self.newest])
        if _has_rebuild_notes(con):
            con.execute("DELETE FROM audit.change_log_rebuilds WHERE change_seq <= ?", [self.newest])
