"""The `sync` incremental strategy (dbt_project/macros/upsert.sql), on customer_consent: after its inputs change,
the table equals a full rebuild, and only the rows that moved were written: the table is the same table, the
rows that did not change stay where they were, in their order, and the written ones come after them."""

import os

import duckdb
import pandas as pd
import pytest

from conftest import query, restored_environment, run_dbt

STATEMENTS = "customer_id VARCHAR, channel VARCHAR, opted_in BOOLEAN, source VARCHAR, stated_at TIMESTAMP"
CONSENT = "SELECT customer_id, channel, opted_in, source, stated_at FROM core.customer_consent"


def statements(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "channel", "opted_in", "source", "stated_at"]).astype(
        {"stated_at": "datetime64[us]"})


FIRST = statements([
    ("C1", "email", True, "crm_contacts", "2026-01-01 09:00"),
    ("C1", "email", False, "email_events", "2026-01-05 09:00"),  # the latest statement wins
    ("C1", "sms", True, "crm_contacts", "2026-01-01 09:00"),
    ("C2", "email", True, "crm_contacts", "2026-01-02 09:00"),
    ("C3", "email", True, "crm_contacts", "2026-01-03 09:00"),
    ("C3", "email", False, "crm_contacts", "2026-01-03 09:00"),  # the same instant: the withdrawal wins
    ("C4", "sms", False, "crm_contacts", "2026-01-04 09:00"),
])
# a day later: C2 opts out of email (a row changes), C4's statements are gone (erased: its row goes), C5 is new
SECOND = pd.concat([FIRST[FIRST["customer_id"] != "C4"], statements([
    ("C2", "email", False, "email_events", "2026-01-06 09:00"),
    ("C5", "sms", True, "crm_contacts", "2026-01-06 10:00"),
])], ignore_index=True)


def load(path, frame: pd.DataFrame) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
        con.execute(f"CREATE OR REPLACE TABLE intermediate.int_consent__statements ({STATEMENTS})")
        con.execute("INSERT INTO intermediate.int_consent__statements BY NAME SELECT * FROM frame")
    finally:
        con.close()


def build(path, *flags: str) -> None:
    with restored_environment():
        os.environ["CRM_WAREHOUSE"] = str(path)
        run_dbt("run", "--select", "customer_consent", "--quiet", *flags)


def placed(path) -> tuple[str | None, dict[tuple, int]]:
    """The table's comment (set on the table the first build made: a rebuilt table has none; catalog oids are
    numbered anew each time a file is opened) and each row's rowid, by its values."""
    comment = query(path, "SELECT comment FROM duckdb_tables() WHERE schema_name = 'core' "
                          "AND table_name = 'customer_consent'")[0][0]
    return comment, {row[1:]: row[0] for row in query(path, CONSENT.replace("SELECT", "SELECT rowid,"))}


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    path = tmp_path_factory.mktemp("sync") / "crm.duckdb"
    load(path, FIRST)
    build(path)
    con = duckdb.connect(str(path))
    con.execute("COMMENT ON TABLE core.customer_consent IS 'the first build'")
    con.close()
    before = placed(path)
    load(path, SECOND)
    build(path)
    return path, before


def test_the_table_holds_the_latest_statement_per_customer_and_channel(synced):
    path, _ = synced
    assert sorted(row[:3] for row in query(path, CONSENT)) == [
        ("C1", "email", False), ("C1", "sms", True), ("C2", "email", False), ("C3", "email", False),
        ("C5", "sms", True)]


def test_only_the_rows_that_moved_were_written(synced):
    path, (comment_before, rows_before) = synced
    comment_after, rows_after = placed(path)
    assert comment_after == comment_before == "the first build"  # the same table, not a rebuilt one
    kept = rows_before.keys() & rows_after.keys()
    assert {row[0] for row in kept} == {"C1", "C3"}  # C2 changed, C4 went, C5 came
    # a checkpoint closes the gaps the deletes left, so row ids shift down, but their order stays
    assert sorted(kept, key=rows_after.get) == sorted(kept, key=rows_before.get)
    written = [rows_after[row] for row in rows_after.keys() - kept]
    assert len(written) == 2 and min(written) > max(rows_after[row] for row in kept)


def test_the_keys_it_wrote_or_deleted_are_logged_for_the_publish(synced):
    """customer_consent logs its changes (dbt_project/macros/changes.sql): the key of the row that changed, the
    one that went and the one that came, once each; the first build, which wrote everything, logged none."""
    path, _ = synced
    logged = query(path, "SELECT customer_id, channel FROM audit.customer_consent__changes ORDER BY ALL")
    assert logged == [("C2", "email"), ("C4", "sms"), ("C5", "sms")]


def test_it_equals_a_full_rebuild(synced, tmp_path):
    path, _ = synced
    rebuilt = tmp_path / "crm.duckdb"
    load(rebuilt, SECOND)
    build(rebuilt, "--full-refresh")
    assert sorted(query(path, CONSENT)) == sorted(query(rebuilt, CONSENT))
