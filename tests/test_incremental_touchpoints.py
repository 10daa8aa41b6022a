"""fct_touchpoints is incremental: a run writes only new or changed events and deletes vanished ones, and the
result always equals the fact computed afresh (int_touchpoints)."""

from datetime import timedelta

import duckdb
import pytest

from conftest import run_dbt
from identity.store import resolve_warehouse
from ingestion.warehouse import log_raw_changes
from story import land
from test_kpis import DAY, FEEDS

SAME_AS_AFRESH = """
    SELECT (SELECT count(*) FROM (SELECT * FROM core.fct_touchpoints EXCEPT ALL SELECT * FROM intermediate.int_touchpoints))
         + (SELECT count(*) FROM (SELECT * FROM intermediate.int_touchpoints EXCEPT ALL SELECT * FROM core.fct_touchpoints))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The hand-written feeds of test_kpis, staged, resolved and with fct_touchpoints built once."""
    root = tmp_path_factory.mktemp("touchpoints")
    path = root / "crm.duckdb"
    con = duckdb.connect(str(path))
    land(root / "landing", con, FEEDS, DAY)
    con.close()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRM_WAREHOUSE", str(path))
        run_dbt("build", "--select", "staging", "int_customer_records", "--indirect-selection", "cautious", "--quiet")
        con = duckdb.connect(str(path))
        resolve_warehouse(con, "touchpoints-test", id_key=b"test-key")
        con.close()
        run_dbt("run", "--select", "int_touchpoints__events", "int_touchpoints", "fct_touchpoints", "--quiet")
        yield path, root / "target"


def incremental_batch(path, target) -> int:
    """Rows the next incremental run would write: the model's compiled selection, counted."""
    run_dbt("compile", "--select", "fct_touchpoints", "--target-path", str(target), "--quiet")
    sql = next(target.glob("compiled/**/fct_touchpoints.sql")).read_text()
    assert "left join" in sql  # compiled against the built table, i.e. incrementally
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
    finally:
        con.close()


def compared_events(path, target) -> int:
    """Staged events the next incremental run would compare with their built rows (the model's events CTE)."""
    run_dbt("compile", "--select", "fct_touchpoints", "--target-path", str(target), "--quiet")
    sql = next(target.glob("compiled/**/fct_touchpoints.sql")).read_text()
    assert sql.rstrip().endswith("select * from final")
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql.rstrip().removesuffix("select * from final") + "select count(*) from events").fetchone()[0]
    finally:
        con.close()


def test_a_run_rewrites_only_changed_events_and_deletes_vanished_ones(built, monkeypatch):
    path, target = built
    monkeypatch.setenv("CRM_WAREHOUSE", str(path))
    assert incremental_batch(path, target) == 0  # nothing changed since the build
    # nor is anything compared: identity stamped every crosswalk row after the loads, and the fact took them in
    assert compared_events(path, target) == 0

    con = duckdb.connect(str(path))
    events_of_ann = con.execute("SELECT count(*) FROM core.fct_touchpoints WHERE feed = 'email_events' "
                                "AND event_id LIKE '%-ann-%'").fetchone()[0]
    # 1. identity moves ann's email to another customer id
    con.execute("UPDATE identity.customer_crosswalk SET customer_id = 'CU-MOVED', changed_at = now()::TIMESTAMP "
                "WHERE source = 'email_events' AND source_record_id = 'ann@shop.org'")
    # 2. a new web event arrives (a load writes its rows with the load's time)
    con.execute("INSERT INTO raw.web_events SELECT * REPLACE ('W-NEW' AS event_id, _row_number + 1000 AS _row_number, "
                "now()::TIMESTAMP AS _loaded_at) FROM raw.web_events WHERE event_id = 'W1'")
    # 3. a re-validation quarantines one of bob's email events
    con.execute("""INSERT INTO quarantine.email_events (feed, _source_file, _row_number, _load_date, rule, message)
                   SELECT 'email_events', _source_file, _row_number, _load_date, 'test_rule', 'quarantined later'
                   FROM raw.email_events WHERE event_id = '1-bob-unsub'""")
    log_raw_changes(con, "email_events", [DAY], "validation")  # as `python -m expectations revalidate` does
    con.close()
    run_dbt("run", "--select", "stg_web_events", "stg_email_events", "--quiet")  # incremental tables

    assert incremental_batch(path, target) == events_of_ann + 1  # ann's events and the new one, nothing else
    run_dbt("build", "--select", "fct_touchpoints", "assert_fct_touchpoints_reconciles_with_staging",
            "--exclude", "test_name:relationships", "--quiet")  # CU-MOVED is not in dim_customers here

    con = duckdb.connect(str(path), read_only=True)
    assert con.execute(SAME_AS_AFRESH).fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM core.fct_touchpoints WHERE customer_id = 'CU-MOVED'").fetchone()[0] \
        == events_of_ann
    assert con.execute("SELECT count(*) FROM core.fct_touchpoints WHERE event_id = 'W-NEW'").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM core.fct_touchpoints WHERE event_id = '1-bob-unsub'").fetchone()[0] == 0
    con.close()
    assert incremental_batch(path, target) == 0  # and a second run has nothing left to do


def test_an_event_key_typed_with_spaces_survives_later_builds(built, monkeypatch):
    """Its raw key differs from the staged one, so every build ranks it again as vanished; the post-hook, which
    compares keys in their standard form, must not delete it."""
    path, _ = built
    monkeypatch.setenv("CRM_WAREHOUSE", str(path))
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO raw.web_events SELECT * REPLACE (' W-SPACED ' AS event_id, _row_number + 2000 AS _row_number, "
                "now()::TIMESTAMP AS _loaded_at) FROM raw.web_events WHERE event_id = 'W1'")
    con.close()
    for _ in range(2):  # the first build stages the new event, the second ranks it again
        run_dbt("run", "--select", "stg_web_events", "--quiet")
        con = duckdb.connect(str(path), read_only=True)
        assert con.execute("SELECT count(*) FROM staging.stg_web_events WHERE event_id = 'W-SPACED'").fetchone()[0] == 1
        con.close()


def test_an_event_follows_its_delivery_back_to_an_older_day(built, monkeypatch):
    """A re-delivery on a later day wins; once a re-validation quarantines it, the event comes from its older
    delivery again, whose day did not change and whose rows were loaded long ago: the fact finds it through the
    built row's day."""
    path, target = built
    monkeypatch.setenv("CRM_WAREHOUSE", str(path))
    later = DAY + timedelta(days=1)
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO raw.pos_transactions SELECT * REPLACE ('later.csv' AS _source_file, ? AS _load_date, "
                "now()::TIMESTAMP AS _loaded_at, '999.00' AS amount) FROM raw.pos_transactions "
                "WHERE receipt_id = (SELECT min(receipt_id) FROM raw.pos_transactions)", [later])
    log_raw_changes(con, "pos_transactions", [later], "load")
    con.close()
    run_dbt("run", "--select", "stg_pos_transactions", "fct_touchpoints", "--quiet")

    con = duckdb.connect(str(path))
    assert con.execute("SELECT amount, _load_date FROM core.fct_touchpoints WHERE feed = 'pos_transactions' "
                       "AND event_id = (SELECT min(receipt_id) FROM raw.pos_transactions)").fetchall() == [(999, later)]
    con.execute("""INSERT INTO quarantine.pos_transactions (feed, _source_file, _row_number, _load_date, rule, message)
                   SELECT 'pos_transactions', _source_file, _row_number, _load_date, 'test_rule', 'quarantined later'
                   FROM raw.pos_transactions WHERE _source_file = 'later.csv'""")
    log_raw_changes(con, "pos_transactions", [later], "validation")  # as `python -m expectations revalidate` does
    con.close()
    run_dbt("run", "--select", "stg_pos_transactions", "--quiet")  # dbt_staging runs before the marts

    assert incremental_batch(path, target) == 1  # the event, back from its older delivery
    run_dbt("run", "--select", "fct_touchpoints", "--quiet")
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute(SAME_AS_AFRESH).fetchone()[0] == 0
    assert con.execute("SELECT _load_date FROM core.fct_touchpoints WHERE feed = 'pos_transactions' "
                       "AND event_id = (SELECT min(receipt_id) FROM raw.pos_transactions)").fetchall() == [(DAY,)]
    con.close()


def test_a_fact_without_a_declared_column_is_written_again_whole(built, monkeypatch):
    """A fact built before a column existed (here the landing day, as on warehouses from before it) gets the
    column on the next incremental run, filled for every event: no full refresh needed."""
    path, target = built
    monkeypatch.setenv("CRM_WAREHOUSE", str(path))
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE core.fct_touchpoints DROP COLUMN _load_date")
    con.close()
    run_dbt("run", "--select", "fct_touchpoints", "--quiet")
    con = duckdb.connect(str(path), read_only=True)
    columns = ", ".join(name for (name,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'intermediate' AND table_name = 'int_touchpoints'"
    ).fetchall())  # by name: the added column comes last in the fact
    assert con.execute(f"""
        SELECT (SELECT count(*) FROM (SELECT {columns} FROM core.fct_touchpoints
                                      EXCEPT ALL SELECT {columns} FROM intermediate.int_touchpoints))
             + (SELECT count(*) FROM (SELECT {columns} FROM intermediate.int_touchpoints
                                      EXCEPT ALL SELECT {columns} FROM core.fct_touchpoints))""").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM core.fct_touchpoints WHERE _load_date IS NULL").fetchone()[0] == 0
    con.close()
    assert incremental_batch(path, target) == 0
