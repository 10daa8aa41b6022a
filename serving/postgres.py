"""PostgreSQL as a serving target, for teams whose BI server (Metabase, Superset, Tableau, Power BI) speaks it.

The publication's tables are copied by DuckDB's postgres extension into `<schema>__next` schemas, then swapped
in with one transaction. Roles:
* `crm_bi` reads the pseudonymised schemas (core, rfm, kpi, clv, reference, meta);
* `crm_restricted` is a member of crm_bi and also reads `<schema>_restricted`: the tables that hold personal
  data, in full, beside views of the tables that hold none (so each restricted schema is a complete mirror).
Grant logins membership of one of them: `CREATE ROLE ana LOGIN PASSWORD '...' IN ROLE crm_bi`.

Readers never see a half-published state: the swap takes ACCESS EXCLUSIVE locks on every table it replaces
before renaming, so a statement runs wholly before or wholly after it. Its lock_timeout (shorter than
PostgreSQL's deadlock_timeout) makes the swap, never a reader, give way when a reader holds a table; the swap is
then retried.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import duckdb

BI_ROLE, RESTRICTED_ROLE = "crm_bi", "crm_restricted"
LOCK_TIMEOUT = "500ms"  # below deadlock_timeout (1 s by default): the swap is the one that gives way
SWAP_ATTEMPTS = 40


class PostgresPublishError(RuntimeError):
    pass


@dataclass(frozen=True)
class PostgresPublication:
    tables: dict[str, int]  # "schema.table" -> rows, as PostgreSQL counts them after the swap
    swap_attempts: int


def extension_path() -> Path:
    """The postgres extension shipped in the duckdb-extension-postgres-scanner wheel, for this duckdb version."""
    spec = find_spec("duckdb_extension_postgres_scanner")
    if spec is None or spec.origin is None:
        raise PostgresPublishError("duckdb-extension-postgres-scanner is not installed (pip install the project)")
    path = Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}" / "postgres_scanner.duckdb_extension"
    if not path.exists():
        raise PostgresPublishError(f"no postgres extension for duckdb {duckdb.__version__} at {path}")
    return path


def connect_postgres(url: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with PostgreSQL attached as `pg`; never downloads an extension."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute(f"LOAD '{extension_path()}'")
    con.execute(f"ATTACH '{_quote(url)}' AS pg (TYPE postgres)")
    return con


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _execute(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Statements run by PostgreSQL itself, in one transaction."""
    con.execute(f"CALL postgres_execute('pg', '{_quote(sql)}')")


def _query(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM postgres_query('pg', '{_quote(sql)}')").fetchall()


def _ensure_roles(con: duckdb.DuckDBPyConnection) -> None:
    _execute(con, f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{BI_ROLE}') THEN CREATE ROLE {BI_ROLE} NOLOGIN; END IF;
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{RESTRICTED_ROLE}') THEN
                CREATE ROLE {RESTRICTED_ROLE} NOLOGIN; END IF;
        END $$;
        GRANT {BI_ROLE} TO {RESTRICTED_ROLE};""")


def _swap_sql(bi_schemas: list[str], restricted: dict[str, list[str]], mirrored: dict[str, list[str]],
              current_tables: list[str]) -> str:
    schemas = bi_schemas + [f"{s}_restricted" for s in restricted]
    statements = [f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"]
    if current_tables:
        statements.append(f"LOCK TABLE {', '.join(current_tables)} IN ACCESS EXCLUSIVE MODE")
    for schema in schemas:
        statements += [f'DROP SCHEMA IF EXISTS "{schema}" CASCADE',
                       f'ALTER SCHEMA "{schema}__next" RENAME TO "{schema}"']
    for schema, tables in mirrored.items():  # views die with the schema they read, so they are made anew here
        statements += [f'CREATE VIEW "{schema}_restricted"."{t}" AS SELECT * FROM "{schema}"."{t}"' for t in tables]
    for schema in bi_schemas:
        statements += [f'GRANT USAGE ON SCHEMA "{schema}" TO {BI_ROLE}',
                       f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {BI_ROLE}']
    for schema in restricted:
        statements += [f'GRANT USAGE ON SCHEMA "{schema}_restricted" TO {RESTRICTED_ROLE}',
                       f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}_restricted" TO {RESTRICTED_ROLE}']
    return ";\n".join(statements) + ";"


def publish_postgres(url: str, bi_database: Path, restricted_database: Path) -> PostgresPublication:
    """Copy the BI publication and the restricted tables into PostgreSQL and swap them in."""
    con = connect_postgres(url)
    try:
        con.execute(f"ATTACH '{_quote(str(bi_database))}' AS bi (READ_ONLY)")
        con.execute(f"ATTACH '{_quote(str(restricted_database))}' AS restricted (READ_ONLY)")
        tables = con.execute("SELECT schema_name, table_name FROM bi.meta.tables ORDER BY 1, 2").fetchall()
        treated = {tuple(row) for row in con.execute(
            "SELECT DISTINCT schema_name, table_name FROM bi.meta.columns WHERE treatment <> 'kept'").fetchall()}
        bi_schemas = sorted({schema for schema, _ in tables} | {"meta"})
        restricted = {s: sorted(t for schema, t in treated if schema == s) for s in sorted({s for s, _ in treated})}
        mirrored = {s: sorted(t for schema, t in tables if schema == s and (s, t) not in treated) for s in restricted}
        schemas = bi_schemas + [f"{s}_restricted" for s in restricted]
        _ensure_roles(con)
        _execute(con, ";".join(f'DROP SCHEMA IF EXISTS "{s}__next" CASCADE; CREATE SCHEMA "{s}__next"'
                               for s in schemas))
        meta = [t[0] for t in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'bi' "
                                          "AND schema_name = 'meta'").fetchall()]
        for schema, table in [*tables, *(("meta", t) for t in meta)]:
            con.execute(f'CREATE TABLE pg."{schema}__next"."{table}" AS SELECT * FROM bi."{schema}"."{table}"')
        for schema, names in restricted.items():
            for table in names:
                con.execute(f'CREATE TABLE pg."{schema}_restricted__next"."{table}" AS '
                            f'SELECT * FROM restricted."{schema}"."{table}"')
        attempts = _swap(con, schemas, bi_schemas, restricted, mirrored)
        return PostgresPublication(_row_counts(con), attempts)
    finally:
        con.close()


def _row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows of every table the PostgreSQL meta.tables lists, counted by PostgreSQL."""
    tables = _query(con, "SELECT schema_name, table_name FROM meta.tables")
    return {f"{schema}.{table}": _query(con, f'SELECT count(*) FROM "{schema}"."{table}"')[0][0]
            for schema, table in tables}


def postgres_row_counts(url: str) -> dict[str, int]:
    con = connect_postgres(url)
    try:
        return _row_counts(con)
    finally:
        con.close()


def _swap(con, schemas, bi_schemas, restricted, mirrored) -> int:
    listed = ", ".join(f"'{s}'" for s in schemas)
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        current = [f'"{s}"."{t}"' for s, t in _query(
            con, f"SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN ({listed})")]
        try:
            _execute(con, _swap_sql(bi_schemas, restricted, mirrored, current))
            return attempt
        except duckdb.Error as error:
            if "lock timeout" not in str(error) and "deadlock" not in str(error):
                raise
            time.sleep(min(0.05 * attempt, 0.5))
    raise PostgresPublishError(f"readers held the published tables through {SWAP_ATTEMPTS} swap attempts")
