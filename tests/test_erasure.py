"""The right to erasure, end to end on a generated warehouse with its own Dagster storage: after `python -m
privacy forget`, no byte and no DuckDB text value anywhere holds the person's identifiers, no mart or serving
table holds their customer id, revenue is unchanged, and a re-delivery of their files is suppressed."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from conftest import query, restored_environment, run_ingest, run_transform
from privacy.__main__ import main as privacy_cli

FIRST_DAY, LAST_DAY = "2026-05-01", "2026-05-21"
REPO = Path(__file__).resolve().parents[1]
IDENTIFYING = {"email", "phone", "loyalty_id", "account_id", "cookie_id"}


@dataclass
class Story:
    root: Path
    person: str  # customer id
    email: str
    values: set[str]  # their identifiers as the landing files hold them (and as staging standardised them)
    raw_rows: int  # their rows in raw before the erasure
    revenue: object
    original_landing: Path
    exit_code: int
    settings: object



@pytest.fixture(scope="module")
def story(tmp_path_factory):
    from ingestion.generator import GeneratorConfig, generate
    from ingestion.settings import get_settings
    from orchestration.definitions import build_definitions

    root = tmp_path_factory.mktemp("erasure")
    (root / "dagster").mkdir()
    with restored_environment():
        os.environ.update(CRM_DATA_DIR=str(root / "data"), CRM_WAREHOUSE=str(root / "data" / "warehouse" / "crm.duckdb"),
                          DAGSTER_HOME=str(root / "dagster"))
        os.environ.pop("CRM_SERVING_POSTGRES_URL", None)
        settings = get_settings()
        generate(GeneratorConfig(customers=150, days=21, seed=11, end_date=duckdb.sql(f"SELECT DATE '{LAST_DAY}'").fetchone()[0]),
                 settings.landing_dir, root / "truth")  # the generator's answer key: not the pipeline's data
        defs, instance = build_definitions(), dg.DagsterInstance.get()
        assert run_ingest(defs, instance, FIRST_DAY, LAST_DAY).success
        assert run_transform(defs, instance).success
        person, email, values, raw_rows = _pick_person(settings.warehouse_path)
        revenue = _revenue(settings.warehouse_path)
        original = root / "original_landing"
        shutil.copytree(settings.landing_dir, original)
        instance.dispose()
        exit_code = privacy_cli(["forget", "--email", email.upper(), "--reason", "customer asked (test)"])
        yield Story(root, person, email, values, raw_rows, revenue, original, exit_code, settings)


def _pick_person(warehouse: Path):
    """The customer with records in the most feeds (and a surname nobody else has), with every identifier
    their rows carry in raw, as delivered."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        person, email = con.execute("""
            SELECT c.customer_id, any_value(r.email) FILTER (r.email IS NOT NULL)
            FROM identity.customer_crosswalk c JOIN intermediate.int_customer_records r USING (source, source_record_id)
            GROUP BY 1 HAVING any_value(r.email) FILTER (r.email IS NOT NULL) IS NOT NULL
            ORDER BY count(DISTINCT c.source) DESC, count(*) DESC, 1 LIMIT 1""").fetchone()
        records = con.execute("""SELECT r.* FROM identity.customer_crosswalk c
            JOIN intermediate.int_customer_records r USING (source, source_record_id) WHERE c.customer_id = ?""",
                              [person]).df()
        standard = {column: {v for v in records[column].dropna()} for column in ("email", "phone", "loyalty_id",
                                                                                  "account_id")}
        cookies = {v for (v,) in con.execute("SELECT DISTINCT cookie_id FROM staging.stg_web_events WHERE email IN "
                                             "(SELECT unnest(?)) OR account_id IN (SELECT unnest(?))",
                                             [list(standard["email"]), list(standard["account_id"])]).fetchall()}
        values, raw_rows = set().union(*standard.values(), cookies), 0
        for (feed,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' "
                                   "AND NOT table_name LIKE '%__anonymised'").fetchall():
            columns = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' "
                                                 "AND table_name = ?", [feed]).fetchall() if c in IDENTIFYING]
            if not columns:
                continue
            match = " OR ".join(f"lower(trim({c})) IN (SELECT lower(unnest(?)))" for c in columns)
            rows = con.execute(f"SELECT {', '.join(columns)} FROM raw.{feed} WHERE {match}",
                               [list(values)] * len(columns)).fetchall()
            raw_rows += len(rows)
            values |= {v for row in rows for v in row if v and len(v) >= 6}
        surnames = {v for (v,) in con.execute("""SELECT DISTINCT last_name FROM raw.crm_contacts
            WHERE lower(trim(email)) IN (SELECT unnest(?)) AND length(trim(last_name)) >= 5""",
                                              [list(standard["email"])]).fetchall()}
        others = {v for (v,) in con.execute("SELECT DISTINCT last_name FROM raw.crm_contacts WHERE lower(trim(email)) "
                                            "NOT IN (SELECT unnest(?)) OR email IS NULL",
                                            [list(standard["email"])]).fetchall()}
        values |= surnames - others
        return person, email, {v for v in values if len(v) >= 6}, raw_rows
    finally:
        con.close()


def _revenue(warehouse: Path):
    return query(warehouse, "SELECT sum(revenue) FROM kpi.kpi_customers_monthly")[0][0]


def _files(*folders: Path):
    for folder in folders:
        yield from (p for p in folder.rglob("*") if p.is_file())


def test_forget_succeeds_and_records_hashes_not_values(story):
    assert story.exit_code == 0
    assert len(story.values) >= 5 and story.raw_rows >= 5
    con = duckdb.connect(str(story.settings.warehouse_path), read_only=True)
    try:
        (status, hashes, customers, touched), = con.execute(
            "SELECT status, identifier_hashes, customers_erased, rows_touched FROM audit.erasure_requests").fetchall()
        suppressed = con.execute("SELECT count(*) FROM audit.suppression_list").fetchone()[0]
    finally:
        con.close()
    assert status == "purged" and customers >= 1 and len(hashes) == suppressed >= 5
    assert all(len(h) == 64 for h in hashes) and not any(v in hashes for v in story.values)
    assert '"identity.customer_crosswalk"' in touched and '"raw.email_events"' in touched


def test_no_byte_anywhere_holds_their_identifiers(story):
    data, dagster_home, target = story.settings.data_dir, story.root / "dagster", REPO / "dbt_project" / "target"
    files = list(_files(data, dagster_home, target))
    assert any(f.suffix == ".duckdb" for f in files) and any(dagster_home.rglob("*.db"))
    found = {}
    for path in files:
        content = path.read_bytes().lower()
        hits = {v for v in story.values | {story.person} if v.lower().encode() in content}
        if hits:
            found[str(path.relative_to(story.root) if path.is_relative_to(story.root) else path)] = len(hits)
    assert found == {}


def test_no_text_value_of_any_duckdb_file_holds_them(story):
    """DuckDB compresses strings: a byte scan alone could miss a value that is still there."""
    databases = [p for p in _files(story.settings.data_dir) if p.suffix == ".duckdb"]
    assert len(databases) == 6  # build, its last good copy, BI, restricted and their working copies
    assert any(p.name == "crm.last_good.duckdb" for p in databases)  # taken again after the erasure, without them
    values = sorted(v.lower() for v in story.values | {story.person})
    # inside longer text (quarantined records' JSON) look for the values no other one can be a part of: ids
    # such as "L00012" are prefixes of other people's ("L000123"), so those must equal a whole value
    embedded = [v for v in values if "@" in v or len(v) >= 12]
    for database in databases:
        con = duckdb.connect()
        try:
            con.execute(f"ATTACH '{database}' AS scanned (READ_ONLY)")
            # tables only: a view reads tables, and dbt's views name the build database's own catalog
            columns = con.execute("""SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns()
                SEMI JOIN duckdb_tables() USING (database_name, schema_name, table_name)
                WHERE database_name = 'scanned' AND (data_type = 'VARCHAR' OR data_type LIKE 'VARCHAR[]%'
                OR data_type = 'JSON')""").fetchall()
            assert len(columns) > 20
            for schema, table, column, data_type in columns:
                whole = (f'list_transform("{column}", x -> lower(trim(x)))' if data_type.endswith("[]")
                         else f'[lower(trim("{column}"::VARCHAR))]')
                hits = con.execute(f"""SELECT count(*) FROM scanned."{schema}"."{table}"
                    WHERE list_has_any(?, {whole})
                       OR EXISTS (SELECT 1 FROM unnest(?) AS needles(needle)
                                  WHERE contains(lower(scanned."{schema}"."{table}"."{column}"::VARCHAR), needle))""",
                                   [values, embedded]).fetchone()[0]
                assert hits == 0, f"{database.name}: {schema}.{table}.{column}"
        finally:
            con.close()


def test_revenue_stays_and_their_purchases_remain_anonymous(story):
    assert _revenue(story.settings.warehouse_path) == story.revenue
    anonymous = query(story.settings.warehouse_path, "SELECT count(*) FROM core.fct_orders WHERE customer_id IS NULL "
                        "AND source_order_id IN (SELECT receipt_id FROM raw.pos_transactions__anonymised UNION ALL "
                        "SELECT order_id FROM raw.ecommerce_orders__anonymised)")[0][0]
    kept = query(story.settings.warehouse_path, "SELECT (SELECT count(*) FROM raw.pos_transactions__anonymised) + "
                   "(SELECT count(*) FROM raw.ecommerce_orders__anonymised)")[0][0]
    assert anonymous == kept


def test_every_staged_event_still_points_at_its_raw_row(story):
    """The rewritten landing files renumbered the rows after theirs: the incremental event tables follow, through
    the days the erasure logged as changed (audit.raw_changes), so each staged row names its file and row."""
    assert query(story.settings.warehouse_path, "SELECT count(*) FROM audit.raw_changes WHERE change = 'erasure' "
                 "AND feed IN ('email_events', 'web_events')")[0][0] > 0
    for feed in ("email_events", "web_events"):
        rows, orphans = query(story.settings.warehouse_path, f"""
            SELECT count(*), count(*) FILTER (WHERE raw._source_file IS NULL) FROM staging.stg_{feed} AS staged
            LEFT JOIN (SELECT _source_file, _row_number, event_id FROM raw.{feed}
                       UNION ALL SELECT _source_file, _row_number, event_id FROM raw.{feed}__anonymised) AS raw
                ON raw._source_file = staged._source_file AND raw._row_number = staged._row_number
               AND nullif(trim(raw.event_id), '') = staged.event_id""")[0]
        assert rows > 0 and orphans == 0, (feed, orphans)


def test_forgetting_again_or_forgetting_nobody_changes_nothing(story, capsys):
    warehouse = story.settings.warehouse_path
    before = (warehouse.stat().st_mtime_ns, query(warehouse, "SELECT count(*) FROM audit.erasure_requests"))
    assert privacy_cli(["forget", "--email", story.email, "--reason", "asked twice"]) == 0
    assert "already erased" in capsys.readouterr().out
    assert privacy_cli(["forget", "--phone", "+44 7000 000000", "--reason", "unknown"]) == 0
    printed = capsys.readouterr().out
    assert "not found" in printed and "no customer has this phone" in printed
    assert query(warehouse, "SELECT count(*) FROM audit.erasure_requests") == before[1]


def test_a_redelivery_of_their_original_files_is_suppressed_and_counted(story):
    from ingestion.settings import get_settings
    from orchestration.definitions import build_definitions

    landing = story.settings.landing_dir
    changed = [original for original in _files(story.original_landing)
               if (landing / original.relative_to(story.original_landing)).read_bytes() != original.read_bytes()]
    assert changed
    for original in changed:
        shutil.copyfile(original, landing / original.relative_to(story.original_landing))
    os.environ.update(CRM_DATA_DIR=str(story.root / "data"), DAGSTER_HOME=str(story.root / "dagster"),
                      CRM_WAREHOUSE=str(story.settings.warehouse_path))
    assert get_settings().landing_dir == landing
    defs, instance = build_definitions(), dg.DagsterInstance.get()
    try:
        assert run_ingest(defs, instance, FIRST_DAY, LAST_DAY).success
        assert run_transform(defs, instance).success
    finally:
        instance.dispose()
    warehouse = story.settings.warehouse_path
    (suppressed, balanced), = query(warehouse, "SELECT sum(rows_suppressed), bool_and(balanced) FROM "
                                      "audit.load_reconciliation")
    (erased,), = query(warehouse, "SELECT sum(value::BIGINT) FROM audit.erasure_requests, "
                         "json_each(rows_touched) WHERE key LIKE 'raw.%' AND key NOT LIKE '%__anonymised'")
    assert balanced and suppressed == erased >= story.raw_rows  # every row of theirs, however it typed them
    assert query(warehouse, "SELECT sum(rows_suppressed) FROM audit.load_manifest")[0][0] == erased
    assert _revenue(warehouse) == story.revenue


def test_a_batch_erases_each_person_once_and_audits_each_request(story):
    """Set-based batch: two requests naming one person erase them once, each other request gets its own audit
    row with its own counts, and the rows removed from raw are exactly the sum of the requests' counts."""
    from privacy.erasure import ErasureRequest, forget
    from serving.keys import pii_key

    con = duckdb.connect(str(story.settings.warehouse_path))
    try:
        (first, first_email, first_phone), (second, _, _) = con.execute("""
            SELECT c.customer_id, any_value(r.email) FILTER (r.email IS NOT NULL),
                   any_value(r.phone) FILTER (r.phone IS NOT NULL)
            FROM identity.customer_crosswalk c JOIN intermediate.int_customer_records r USING (source, source_record_id)
            GROUP BY 1 HAVING count(r.email) > 0 AND count(r.phone) > 0 ORDER BY count(*) DESC, 1 LIMIT 2""").fetchall()
        raw_before = _raw_rows(con)
        requests = [ErasureRequest(reason="batch", email=first_email.upper()),
                    ErasureRequest(reason="batch", phone=first_phone),
                    ErasureRequest(reason="batch", customer_id=second),
                    ErasureRequest(reason="batch", email="nobody@example.invalid")]
        results = forget(con, pii_key(story.settings.secrets_dir), story.settings.landing_dir, requests, "test")
        assert [r.status for r in results] == ["erased", "already erased", "erased", "not found"]
        assert results[0].request_id in results[1].message
        audited = con.execute("""SELECT request_id, customers_erased, identifier_hashes, rows_touched::VARCHAR
            FROM audit.erasure_requests WHERE reason = 'batch' ORDER BY request_id""").fetchall()
        assert sorted(r[0] for r in audited) == sorted([results[0].request_id, results[2].request_id])
        assert all(customers >= 1 and hashes for _, customers, hashes, _ in audited)
        owned = dict(con.execute("SELECT request_id, count(*) FROM audit.suppression_list WHERE request_id IN (?, ?) "
                                 "GROUP BY 1", [results[0].request_id, results[2].request_id]).fetchall())
        assert set(owned) == {results[0].request_id, results[2].request_id}
        removed = sum(n for r in (results[0], results[2]) for t, n in r.rows_touched.items()
                      if t.startswith("raw.") and not t.endswith("__anonymised"))
        assert removed > 0 and raw_before - _raw_rows(con) == removed
        assert con.execute("SELECT count(*) FROM identity.customer_crosswalk WHERE customer_id IN (?, ?)",
                           [first, second]).fetchone()[0] == 0
    finally:
        con.close()


def _raw_rows(con) -> int:
    tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' "
                                        "AND NOT table_name LIKE '%__anonymised'").fetchall()]
    return sum(con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for t in tables)
