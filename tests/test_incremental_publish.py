"""The publish updates its private working copies by key and still produces exactly what a full publish does;
a working copy that drifted, or one written under another key, is never published as it is."""

import shutil
from datetime import datetime

import duckdb
import pytest

from orchestration.defs.dbt_project import dbt_project
from serving.meta import Generation
from serving.policy import load_policy
from serving.publish import TablePlan, publish
from serving.working_copy import WorkingCopies, row_keys

KEY = b"test key"


@pytest.fixture
def build(pipeline, tmp_path):
    path = tmp_path / "build.duckdb"
    shutil.copy(pipeline.settings.warehouse_path, path)
    con = duckdb.connect(str(path))
    yield con
    con.close()


def _publish(con, folder, generation_id, key=KEY, full=False):
    manifest = dbt_project.manifest_path
    return publish(con, folder / "crm.duckdb", folder / "crm_restricted.duckdb", load_policy(manifest), key,
                   Generation(generation_id, datetime.now(), "test", "test"), row_keys(manifest), full)


def _contents(path) -> dict[str, list]:
    """Every table's rows, sorted, keyed schema.table (meta.publication differs by generation: left out)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{path}' AS published (READ_ONLY)")
        tables = [t for (t,) in con.execute("""SELECT table_schema || '.' || table_name FROM information_schema.tables
            WHERE table_catalog = 'published' AND table_name <> 'publication'""").fetchall()]
        return {table: sorted(con.execute(f"SELECT * FROM published.{table}").fetchall(), key=repr)
                for table in tables}
    finally:
        con.close()


# The rows `_a_day_of_changes` changes in the marts that log their changes, by key, as their dbt builds log them.
CHANGED = {
    "dim_customers": "SELECT customer_id FROM core.dim_customers ORDER BY customer_id LIMIT 7",
    "fct_touchpoints": "(SELECT touchpoint_key FROM core.fct_touchpoints ORDER BY touchpoint_key LIMIT 5) UNION ALL "
                       "(SELECT 'new:' || touchpoint_key FROM core.fct_touchpoints ORDER BY touchpoint_key "
                       "LIMIT 3 OFFSET 5)",  # copies of the first three left once five are deleted
    "fct_order_lines": "(SELECT order_key, line_number FROM core.fct_order_lines ORDER BY ALL LIMIT 4) UNION ALL "
                       "(SELECT order_key, line_number FROM core.fct_order_lines ORDER BY ALL DESC LIMIT 2)",
}


def _a_day_of_changes(con, logged: bool = True):
    """Rows changed, added and deleted in the marts, as a day's dbt builds change them: the marts that keep a
    change log (dbt_project/macros/changes.sql) get their keys logged, unless `logged` is false."""
    if logged:
        for model, keys in CHANGED.items():
            con.execute(f"INSERT INTO audit.{model}__changes SELECT *, nextval('audit.change_seq') FROM ({keys})")
    con.execute("""UPDATE core.dim_customers SET email = 'moved.' || coalesce(email, 'x'), revenue_to_date = 1
                   WHERE customer_id IN (SELECT customer_id FROM core.dim_customers ORDER BY customer_id LIMIT 7)""")
    con.execute("""DELETE FROM core.fct_touchpoints WHERE touchpoint_key IN
                   (SELECT touchpoint_key FROM core.fct_touchpoints ORDER BY touchpoint_key LIMIT 5)""")
    con.execute("""INSERT INTO core.fct_touchpoints SELECT 'new:' || touchpoint_key, * EXCLUDE (touchpoint_key)
                   FROM core.fct_touchpoints ORDER BY touchpoint_key LIMIT 3""")
    con.execute("""UPDATE core.fct_order_lines SET quantity = quantity + 1 WHERE (order_key, line_number) IN
                   (SELECT (order_key, line_number) FROM core.fct_order_lines ORDER BY ALL LIMIT 4)""")
    con.execute("""DELETE FROM core.fct_order_lines WHERE (order_key, line_number) IN
                   (SELECT (order_key, line_number) FROM core.fct_order_lines ORDER BY ALL DESC LIMIT 2)""")
    con.execute("UPDATE kpi.kpi_scorecard SET active_customers = active_customers + 1 WHERE month = "
                "(SELECT max(month) FROM kpi.kpi_scorecard)")
    con.execute("CREATE TABLE core.new_mart AS SELECT customer_id, orders FROM core.dim_customers")
    con.execute("DROP TABLE kpi.kpi_capture_rate_daily")
    con.execute("ALTER TABLE rfm.customer_rfm ADD COLUMN note VARCHAR DEFAULT 'x'")


def _forget_change_logs(con) -> None:
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'audit' "
                                "AND table_name LIKE '%__changes'").fetchall():
        con.execute(f"DROP TABLE audit.{table}")


@pytest.mark.parametrize("changed_keys", ["logged", "compared"])
def test_an_incremental_publish_equals_a_full_one(build, tmp_path, changed_keys):
    """The changed keys come from the marts' change logs, or, without them, from comparing every table."""
    if changed_keys == "compared":
        _forget_change_logs(build)
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    assert _publish(build, incremental, "g1").mode == "full"  # nothing to start from
    unchanged = _publish(build, incremental, "g2")
    assert unchanged.mode == "incremental" and set(unchanged.tables.values()) == {"unchanged"}

    _a_day_of_changes(build, logged=changed_keys == "logged")
    day = _publish(build, incremental, "g3")
    assert day.mode == "incremental"
    assert day.tables["core.dim_customers"] == day.tables["core.fct_touchpoints"] == "updated"
    assert day.tables["core.fct_order_lines"] == "updated"  # by its two-column key (unique_combination)
    assert day.tables["kpi.kpi_scorecard"] == "rewritten"  # no row key: rewritten when its fingerprint moved
    assert day.tables["core.new_mart"] == day.tables["rfm.customer_rfm"] == "rewritten"  # new, new column
    assert "kpi.kpi_capture_rate_daily" not in day.tables
    assert day.tables["core.fct_orders"] == "unchanged"

    assert _publish(build, full, "g4", full=True).mode == "full"
    for name in ("crm.duckdb", "crm_restricted.duckdb"):
        assert _contents(incremental / name) == _contents(full / name), name
    assert "kpi.kpi_capture_rate_daily" not in _contents(incremental / "crm.duckdb")
    moved = _contents(incremental / "crm_restricted.duckdb")["core.dim_customers"]
    assert sum(1 for row in moved if str(row[3]).startswith("moved.")) == 7


def test_a_logged_mart_changed_without_its_log_is_caught_and_rewritten(build, tmp_path):
    """Rows deleted and added behind the change log (by hand, say) leave the copy's counts wrong: the publish
    does not publish it, it rewrites both copies."""
    _publish(build, tmp_path, "g1")
    _a_day_of_changes(build, logged=False)
    publication = _publish(build, tmp_path, "g2")
    assert publication.mode == "full"
    assert _contents(tmp_path / "crm_restricted.duckdb")["core.fct_touchpoints"] == \
        sorted(build.execute("SELECT * FROM core.fct_touchpoints").fetchall(), key=repr)


def test_a_working_copy_that_drifted_is_rewritten_not_published(build, tmp_path):
    _publish(build, tmp_path, "g1")
    working = WorkingCopies.beside(tmp_path / "crm_restricted.duckdb")
    tampered = duckdb.connect(str(working.path("bi")))  # a row lost from the BI copy, which is not diffed
    tampered.execute("DELETE FROM core.fct_orders WHERE rowid = 0")
    tampered.close()
    build.execute("UPDATE core.fct_touchpoints SET amount = 1 WHERE touchpoint_key = "
                  "(SELECT min(touchpoint_key) FROM core.fct_touchpoints)")
    publication = _publish(build, tmp_path, "g2")
    assert publication.mode == "full"
    assert publication.bi.row_counts == publication.source_rows


def test_a_new_key_or_a_lost_state_means_a_full_publish(build, tmp_path):
    _publish(build, tmp_path, "g1")
    assert _publish(build, tmp_path, "g2", key=b"another key").mode == "full"
    assert _publish(build, tmp_path, "g3", key=b"another key").mode == "incremental"
    WorkingCopies.beside(tmp_path / "crm_restricted.duckdb").invalidate()  # as a crash mid-publish leaves it
    assert _publish(build, tmp_path, "g4", key=b"another key").mode == "full"


def test_rows_written_wrong_by_key_are_never_published(build, tmp_path, monkeypatch):
    """The check on the rows an update writes can fail: an insert that alters a column (a fault made here in
    the restricted copy's select) is caught, and both copies are rewritten whole instead."""
    first = _publish(build, tmp_path, "g1")
    _a_day_of_changes(build)
    real_select = TablePlan.select

    def altered(plan, kind, policy):
        chosen = real_select(plan, kind, policy)
        return chosen.replace('"quantity"', '"quantity" + 1') if kind == "restricted" else chosen

    monkeypatch.setattr(TablePlan, "select", altered)
    publication = _publish(build, tmp_path, "g2")
    monkeypatch.undo()
    assert first.mode == "full" and publication.mode == "full"
    assert _contents(tmp_path / "crm_restricted.duckdb")["core.fct_order_lines"] == \
        sorted(build.execute("SELECT * FROM core.fct_order_lines").fetchall(), key=repr) != []
