"""Personal data only where it belongs: the BI database holds no identifier that arrived in the landing files,
every published column whose values derive from a PII column says so in its model's .yml, and pseudonyms are
the keyed HMAC-SHA256 that Python computes."""

import hashlib
import hmac
import os
import stat

import dagster as dg
import duckdb
import pytest

from ingestion.contracts import load_contracts
from serving.keys import pii_key
from serving.policy import ColumnRule, PiiPolicy, PolicyError, load_policy
from serving.pseudonym import install_pseudonym_macro, pseudonym

IDENTIFIER_COLUMNS = {"email", "phone", "last_name"}


def raw_values(con, columns: set[str]) -> dict[str, set[str]]:
    """Every value of these PII columns in raw (exactly what arrived), per column name."""
    values: dict[str, set[str]] = {c: set() for c in columns}
    for feed, contract in load_contracts().items():
        for column in contract.columns:
            if column.pii and column.name in columns:
                values[column.name] |= {v for (v,) in con.execute(
                    f'SELECT DISTINCT trim("{column.name}") FROM raw.{feed} WHERE "{column.name}" IS NOT NULL')
                    .fetchall() if v}
    return values


@pytest.fixture(scope="module")
def identifiers(pipeline):
    """The emails, phones and surnames of the landing files, as delivered and as staging standardised them."""
    con = duckdb.connect(str(pipeline.settings.warehouse_path), read_only=True)
    try:
        found = raw_values(con, IDENTIFIER_COLUMNS)
        found["email"] |= {v for (v,) in con.execute("SELECT DISTINCT email FROM core.dim_customers "
                                                     "WHERE email IS NOT NULL").fetchall()}
        found["phone"] |= {v for (v,) in con.execute("SELECT DISTINCT phone FROM core.dim_customers "
                                                     "WHERE phone IS NOT NULL").fetchall()}
        found["last_name"] |= {v for (v,) in con.execute("SELECT DISTINCT last_name FROM core.dim_customers "
                                                         "WHERE last_name IS NOT NULL").fetchall()}
    finally:
        con.close()
    return found


def occurrences(data: bytes, values: set[str]) -> set[str]:
    return {value for value in values if value.encode() in data}


def test_the_bi_file_holds_none_of_the_landing_files_identifiers(pipeline, identifiers):
    bi = pipeline.settings.bi_database.read_bytes()
    restricted = pipeline.settings.restricted_database.read_bytes()
    # surnames of four letters or more: shorter ones ("Fx", "Lee") occur by chance in binary pages and inside
    # city names such as "Leeds" (DuckDB stores strings back to back, so there are no word boundaries to use)
    surnames = {s for s in identifiers["last_name"] if len(s) >= 4}
    emails, phones = identifiers["email"], {p for p in identifiers["phone"] if len(p) >= 8}
    assert len(emails) > 300 and len(phones) > 100 and len(surnames) > 50
    # the search can see them: the restricted file holds the standardised ones in its bytes
    assert len(occurrences(restricted, emails)) > 300
    assert len(occurrences(restricted, surnames)) > 50
    assert occurrences(bi, emails) == set()
    assert occurrences(bi, phones) == set()
    # four letters occur by chance in 7 MB of compressed pages (about once in six runs): a byte hit must also be
    # inside a stored text value to count
    assert held_as_text(pipeline.settings.bi_database, occurrences(bi, surnames)) == set()


def held_as_text(database, values: set[str]) -> set[str]:
    """Those of `values` that some text value of the database contains."""
    if not values:
        return set()
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{database}' AS scanned (READ_ONLY)")
        columns = con.execute("SELECT schema_name, table_name, column_name FROM duckdb_columns() SEMI JOIN "
                              "duckdb_tables() USING (database_name, schema_name, table_name) "
                              "WHERE database_name = 'scanned' AND data_type = 'VARCHAR'").fetchall()
        return {value for value in values for schema, table, column in columns if con.execute(
            f'SELECT count(*) > 0 FROM scanned."{schema}"."{table}" WHERE contains("{column}", ?)',
            [value]).fetchone()[0]}
    finally:
        con.close()


def test_every_published_column_derived_from_a_pii_column_declares_meta_pii(pipeline):
    """Derivation measured on the data: a column kept as it is in the BI database whose values (or list
    elements, or the parts of a source:id key) are values of a contract's PII column derives from it."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{pipeline.settings.warehouse_path}' AS build (READ_ONLY)")
    con.execute(f"ATTACH '{pipeline.settings.restricted_database}' AS restricted (READ_ONLY)")
    con.execute(f"ATTACH '{pipeline.settings.bi_database}' AS bi (READ_ONLY)")
    con.execute("CREATE TEMP TABLE pii_values (value VARCHAR)")
    for feed, contract in load_contracts().items():
        for column in (c for c in contract.columns if c.pii):
            con.execute(f'INSERT INTO pii_values SELECT DISTINCT lower(trim("{column.name}")) '
                        f'FROM build.raw.{feed} WHERE length(trim("{column.name}")) >= 4')
    for table, column in [("core.dim_customers", c) for c in ("email", "phone", "first_name", "last_name", "street",
                                                               "postcode")]:  # the standardised forms
        con.execute(f"INSERT INTO pii_values SELECT DISTINCT lower({column}) FROM restricted.{table} "
                    f"WHERE length({column}) >= 4")
    columns = con.execute("SELECT schema_name, table_name, source_column, treatment FROM bi.meta.columns").fetchall()
    kept = [(s, t, c) for s, t, c, treatment in columns if treatment == "kept"]
    declared = [(s, t, c) for s, t, c, treatment in columns if treatment == "pseudonymised"]
    assert len(kept) > 100
    derived = [f"{s}.{t}.{c}" for s, t, c in kept if derives_from_pii(con, s, t, c)]
    assert derived == [], f"columns derived from PII without meta.pii: {derived}"
    # the measure sees derivation: every column declared a direct identifier is found by it
    assert [f"{s}.{t}.{c}" for s, t, c in declared if not derives_from_pii(con, s, t, c)] == []
    assert len(declared) >= 10


def derives_from_pii(con, schema: str, table: str, column: str) -> bool:
    """Some value of the restricted column (a list's elements, the parts of a source:id) is a PII value."""
    data_type = con.execute("SELECT data_type FROM duckdb_columns() WHERE database_name = 'restricted' AND "
                            "schema_name = ? AND table_name = ? AND column_name = ?", [schema, table, column]).fetchone()[0]
    values = f'unnest("{column}")' if data_type.endswith("[]") else f'"{column}"::VARCHAR'
    return con.execute(f"""
        WITH published AS (SELECT DISTINCT lower({values}) AS value FROM restricted.{schema}.{table}),
             parts AS (SELECT value FROM published UNION SELECT unnest(string_split(value, ':')) FROM published)
        SELECT count(*) > 0 FROM parts WHERE value IN (SELECT value FROM pii_values)""").fetchone()[0]


def test_pseudonyms_in_sql_are_python_hmac_sha256():
    con = duckdb.connect()
    for key in (b"short", b"k" * 64, b"a-key-longer-than-one-sha256-block-" * 3):
        install_pseudonym_macro(con, key)
        values = ["ann@example.com", "+447700900123", "Łukasz Żółć", "", "x" * 200]
        got = con.execute("SELECT list_transform(?, v -> pseudonym(v))", [values]).fetchone()[0]
        assert got == [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values]
        assert got == [pseudonym(key, v) for v in values]
    assert con.execute("SELECT pseudonym(NULL)").fetchone()[0] is None
    # the key reached the connection as parameters: it is in no SQL text DuckDB could echo
    assert "pii_outer_pad" in con.execute("SELECT macro_definition FROM duckdb_functions() "
                                          "WHERE function_name = 'pseudonym'").fetchone()[0]


def test_the_key_comes_from_the_environment_or_is_generated_once_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("CRM_PII_KEY", raising=False)
    first = pii_key(tmp_path / "secrets")
    assert len(first) == 64 and pii_key(tmp_path / "secrets") == first
    assert stat.S_IMODE(os.stat(tmp_path / "secrets" / "pii.key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "secrets").st_mode) == 0o700
    monkeypatch.setenv("CRM_PII_KEY", "from-the-vault")
    assert pii_key(tmp_path / "secrets") == b"from-the-vault"


def test_generalisers_and_drops_by_hand():
    con = duckdb.connect()
    install_pseudonym_macro(con, b"k")
    rules = [ColumnRule("birth_date", "quasi", "birth_year"), ColumnRule("postcode", "quasi", "postcode_district"),
             ColumnRule("comment", "free_text"), ColumnRule("email", "direct"), ColumnRule("loyalty_ids", "direct"),
             ColumnRule("city")]
    expressions = [(rule.bi_expression(kind), rule.published_name) for rule, kind in
                   zip(rules, ["DATE", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR[]", "VARCHAR"])]
    assert expressions[2] == (None, None)  # free text is dropped
    select = ", ".join(f'{e} AS "{name}"' for e, name in expressions if e)
    row = con.execute(f"""SELECT {select} FROM (SELECT DATE '1985-03-02' AS birth_date, 'SW1A 1AA' AS postcode,
                          'call me on 07700 900123' AS comment, 'ann@example.com' AS email,
                          ['L1', 'L2'] AS loyalty_ids, 'London' AS city)""").fetchone()
    assert row == (1985, "SW1A", pseudonym(b"k", "ann@example.com"), [pseudonym(b"k", "L1"), pseudonym(b"k", "L2")],
                   "London")


def test_policy_refuses_unknown_kinds_and_undeclared_pii_names(tmp_path):
    from serving.policy import _rule

    with pytest.raises(PolicyError, match="not one of"):
        _rule("core.t", "email", {"pii": "secret"})
    with pytest.raises(PolicyError, match="generalise"):
        _rule("core.t", "birth_date", {"pii": "quasi", "generalise": "blur"})
    with pytest.raises(PolicyError, match="no meta.pii"):
        PiiPolicy({}).check_declared("core.export", ["customer_id", "phone"])


def test_every_mart_column_named_like_a_contract_pii_column_is_declared():
    from orchestration.defs.dbt_project import dbt_project
    from serving.policy import contract_pii_columns

    policy = load_policy(dbt_project.manifest_path)
    declared = {(table, column) for table, columns in policy.rules.items() for column, rule in columns.items()
                if rule.pii}
    assert ("core.dim_customers", "email") in declared and ("core.fct_orders", "loyalty_id") in declared
    for table, columns in policy.rules.items():
        if table.split(".")[0] in ("core", "rfm", "kpi", "clv", "service", "loyalty", "activation", "sales", "analytics"):
            policy.check_declared(table, [c for c in columns if c in contract_pii_columns()])


def test_quality_reports_and_dagster_events_hold_no_identifier(pipeline, identifiers):
    """Quarantine messages show a personal value by its length only, so neither the HTML quality reports nor
    the runs' events (metadata, logs, check results) carry one."""
    emails, phones = identifiers["email"], {p for p in identifiers["phone"] if len(p) >= 8}
    reports = list(pipeline.settings.reports_dir.glob("*.html"))
    assert reports
    for report in reports:
        text = report.read_bytes()
        assert b"<personal data," in text or b"quarantine" in text.lower()
        assert occurrences(text, emails | phones) == set(), report.name
    events = b"\n".join(dg.serialize_value(record.event_log_entry).encode()
                        for run in pipeline.instance.get_runs()
                        for record in pipeline.instance.get_records_for_run(run.run_id, limit=100_000).records)
    assert len(events) > 100_000
    assert occurrences(events, emails | phones) == set()
