"""dim_customers is incremental: a run computes again only the customers whose row can have changed, and the table
always equals dim_customers computed afresh (`--full-refresh`)."""

from datetime import date

import duckdb
import pytest

from conftest import run_dbt
from identity.store import resolve_warehouse
from ingestion.warehouse import log_raw_changes
from story import build_story_warehouse
from test_kpis import DAY, FEEDS

EVERYONE = ["Ann", "Bob", "Cat", "Dan", "Eve", "Fay", "Gus", "Hal", "Ida"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The hand-written story of test_kpis, with every mart built once."""
    root = tmp_path_factory.mktemp("customers")
    with pytest.MonkeyPatch.context() as patch:
        path = build_story_warehouse(root, FEEDS, DAY, patch)
        yield path, root / "target"


def customer_of(con, source: str, record: str) -> str:
    return con.execute("SELECT customer_id FROM identity.customer_crosswalk WHERE source = ? AND source_record_id = ?",
                       [source, record]).fetchone()[0]


def touched(path, target) -> list[str]:
    """First names of the customers the next run computes again (the model's `touched` CTE), from the built
    table (a customer merged away keeps its name there)."""
    run_dbt("compile", "--select", "dim_customers", "--target-path", str(target), "--quiet")
    sql = next(target.glob("compiled/**/dim_customers.sql")).read_text()
    head = sql[:sql.index("survivors as (")].rstrip().rstrip(",")
    assert "touched as (" in head  # compiled against the built table, i.e. incrementally
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [name for (name,) in con.execute(
            f"{head} SELECT built.first_name FROM touched JOIN core.dim_customers AS built USING (customer_id) "
            "ORDER BY 1").fetchall()]
    finally:
        con.close()


def run_upstream() -> None:
    """What dbt_marts builds before dim_customers."""
    run_dbt("run", "--select", "+dim_customers", "--exclude", "dim_customers", "staging", "int_customer_records",
            "--quiet")


def assert_same_as_afresh(path) -> None:
    """The incrementally built table equals the one a full refresh computes (which it then is)."""
    con = duckdb.connect(str(path))
    con.execute("CREATE OR REPLACE TABLE main.dim_incremental AS SELECT * FROM core.dim_customers")
    con.close()
    run_dbt("run", "--select", "dim_customers", "--full-refresh", "--quiet")
    con = duckdb.connect(str(path))
    try:
        differing = con.execute("""
            (SELECT 'afresh' AS side, * FROM (SELECT * FROM core.dim_customers EXCEPT ALL SELECT * FROM main.dim_incremental))
            UNION ALL
            (SELECT 'incremental', * FROM (SELECT * FROM main.dim_incremental EXCEPT ALL SELECT * FROM core.dim_customers))
            """).fetchall()
        assert differing == []
        con.execute("DROP TABLE main.dim_incremental")
    finally:
        con.close()


def test_each_change_computes_again_only_the_customers_it_concerns(built, monkeypatch):
    path, target = built
    monkeypatch.setenv("CRM_WAREHOUSE", str(path))
    assert touched(path, target) == []  # nothing changed since the build

    # 1. a new touchpoint: Cat opens an email (her record, an email address, is unchanged: identity has nothing
    # to do). An open is a response: one email against one store purchase, the email the latest.
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO raw.email_events SELECT * REPLACE ('4-cat-opened' AS event_id, 'opened' AS event_type, "
                "'2026-03-25 09:00:00' AS event_at, _row_number + 1000 AS _row_number, now()::TIMESTAMP AS _loaded_at) "
                "FROM raw.email_events WHERE event_id = '2-cat-bounced'")
    log_raw_changes(con, "email_events", [DAY], "load")
    con.close()
    run_dbt("run", "--select", "stg_email_events", "int_customer_records", "--quiet")
    run_upstream()
    assert touched(path, target) == ["Cat"]
    run_dbt("run", "--select", "dim_customers", "--quiet")
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT email_events, preferred_channel FROM core.dim_customers WHERE first_name = 'Cat'"
                       ).fetchall() == [(4, "email")]
    con.close()
    assert_same_as_afresh(path)

    # 2. identity moves Ann's email address (and its email events) to Bob: Ann loses a record, Bob gains it
    con = duckdb.connect(str(path))
    bob = customer_of(con, "crm_contacts", "K2")
    con.execute("UPDATE identity.customer_crosswalk SET customer_id = ?, changed_at = now()::TIMESTAMP "
                "WHERE source = 'email_events' AND source_record_id = 'ann@shop.org'", [bob])
    con.close()
    run_upstream()
    assert touched(path, target) == ["Ann", "Bob"]
    run_dbt("run", "--select", "dim_customers", "--quiet")
    assert_same_as_afresh(path)

    # 3. the response window moves: Eve answers a survey on Aug 15, so responses count after Feb 16 (180 days
    # back) instead of after Sep 26 (from Mar 25). Everyone with a touchpoint between the two is computed again:
    # all but Ida, whose one touchpoint (Mar 1) stays in the window. Identity runs for Eve's new record.
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO raw.survey_responses SELECT * REPLACE ('V9' AS response_id, 'eve@firm.org' AS email, "
                "'2026-08-15 10:00:00' AS responded_at, _row_number + 1000 AS _row_number, "
                "now()::TIMESTAMP AS _loaded_at) FROM raw.survey_responses WHERE response_id = 'V0'")
    log_raw_changes(con, "survey_responses", [DAY], "load")
    con.close()
    run_dbt("run", "--select", "stg_survey_responses", "int_customer_records", "--quiet")
    con = duckdb.connect(str(path))
    resolve_warehouse(con, "customers-test", id_key=b"test-key")
    con.close()
    run_upstream()
    assert touched(path, target) == [name for name in EVERYONE if name != "Ida"]
    run_dbt("run", "--select", "dim_customers", "--quiet")
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT responses_after FROM audit.dim_customers__state").fetchall() == [
        (date(2026, 2, 16),)]  # kept for the next run
    con.close()
    assert_same_as_afresh(path)

    # 4. a re-validation can change a touchpoint without a new load: everyone
    con = duckdb.connect(str(path))
    log_raw_changes(con, "service_cases", [DAY], "validation")  # as `python -m expectations revalidate` does
    con.close()
    assert touched(path, target) == EVERYONE
    run_dbt("run", "--select", "dim_customers", "--quiet")
    assert_same_as_afresh(path)

    # 5. identity merges Cat into Ann: both are computed again, and Cat's row goes
    con = duckdb.connect(str(path))
    ann, cat = customer_of(con, "crm_contacts", "K1"), customer_of(con, "crm_contacts", "K3")
    con.execute("UPDATE identity.customer_crosswalk SET customer_id = ?, changed_at = now()::TIMESTAMP "
                "WHERE customer_id = ?", [ann, cat])
    con.close()
    run_upstream()
    assert touched(path, target) == ["Ann", "Cat"]
    run_dbt("run", "--select", "dim_customers", "--quiet")
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM core.dim_customers WHERE customer_id = ?", [cat]).fetchone()[0] == 0
    con.close()
    assert_same_as_afresh(path)
    assert touched(path, target) == []  # and a second run has nothing left to do
