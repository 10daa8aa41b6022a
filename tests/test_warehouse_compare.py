"""The parity comparison itself: customer ids through their clusters, and a holdout drawn from the id compared only
where both warehouses gave the customer the same id."""

import duckdb

from warehouse_compare import differences


def _warehouse(path, merged_id: str, holdout_same: bool, holdout_merged: bool):
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA identity; CREATE SCHEMA intermediate")
    con.execute("CREATE TABLE identity.customer_crosswalk (source VARCHAR, source_record_id VARCHAR, customer_id VARCHAR)")
    con.execute("INSERT INTO identity.customer_crosswalk VALUES ('crm', '1', 'same'), ('crm', '2', ?), ('crm', '3', ?)",
                [merged_id, merged_id])
    con.execute("CREATE TABLE intermediate.decisions (customer_id VARCHAR, audience VARCHAR, is_holdout BOOLEAN)")
    con.execute("INSERT INTO intermediate.decisions VALUES ('same', 'a', ?), (?, 'a', ?)",
                [holdout_same, merged_id, holdout_merged])
    con.close()
    return path


def test_a_merged_customer_with_another_id_may_draw_another_holdout(tmp_path):
    daily = _warehouse(tmp_path / "daily.duckdb", "older", False, True)  # the merge kept the older id
    rebuilt = _warehouse(tmp_path / "rebuilt.duckdb", "derived", False, False)
    assert differences(daily, rebuilt, ("intermediate",))[1] == {}


def test_a_customer_with_the_same_id_must_draw_the_same_holdout(tmp_path):
    daily = _warehouse(tmp_path / "daily.duckdb", "older", True, True)
    rebuilt = _warehouse(tmp_path / "rebuilt.duckdb", "derived", False, True)
    assert differences(daily, rebuilt, ("intermediate",))[1] == {"intermediate.decisions": (1, 1)}
