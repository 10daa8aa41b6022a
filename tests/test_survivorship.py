"""Golden record survivorship, run by dbt on hand-made records: most trusted source, then most recent,
then most frequent; every surviving value keeps its source."""

import duckdb
import pytest

from conftest import run_dbt

RECORDS = [
    # source, id, first, last, email, phone, birth_date, street, city, postcode, country, seen_at
    ("crm_contacts", "K1", "ann", "lee", "a@x.com", None, "1980-02-03", None, None, None, None, "2026-01-01 09:00"),
    ("crm_contacts", "K2", None, "lee", "b@x.com", None, None, None, None, None, None, "2026-03-01 09:00"),
    ("ecommerce_orders", "O1", "annie", "lee", "c@x.com", "+441", None, "1 high st", "york", "YO1 7HH", "GB",
     "2026-05-01 10:00"),
    ("ecommerce_orders", "O2", "annie", "lee", None, "+441", None, "2 low st", "york", "YO1 8AA", "GB",
     "2026-05-01 11:00"),
    ("ecommerce_orders", "O3", "annie", "lee", None, "+442", None, "2 low st", "york", "YO1 8AA", "GB",
     "2026-05-01 12:00"),
    ("email_events", "d@x.com", None, None, "d@x.com", None, None, None, None, None, None, "2026-06-01 10:00"),
    # customer CU2: two records that tie on every rule and on the time seen; only the record id tells them apart
    ("crm_contacts", "T2", "bo", None, None, None, None, None, None, None, None, "2026-02-02 09:00"),
    ("crm_contacts", "T1", "bo", None, None, None, None, None, None, None, None, "2026-02-02 09:00"),
]


def _records_warehouse(warehouse, customer_id: str) -> None:
    """RECORDS in int_customer_records and a crosswalk giving each record the customer `customer_id` says."""
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA intermediate; CREATE SCHEMA identity")
    con.execute("CREATE TABLE intermediate.int_customer_records (source VARCHAR, source_record_id VARCHAR, "
                "first_name VARCHAR, last_name VARCHAR, email VARCHAR, phone VARCHAR, birth_date DATE, street VARCHAR, "
                "city VARCHAR, postcode VARCHAR, country VARCHAR, loyalty_id VARCHAR, account_id VARCHAR, "
                "seen_at TIMESTAMP)")
    con.executemany("INSERT INTO intermediate.int_customer_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)",
                    RECORDS)
    con.execute(f"CREATE TABLE identity.customer_crosswalk AS SELECT source, source_record_id, {customer_id} AS customer_id "
                "FROM intermediate.int_customer_records")
    con.close()


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("golden") / "golden.duckdb"
    _records_warehouse(warehouse, "CASE WHEN starts_with(source_record_id, 'T') THEN 'CU2' ELSE 'CU1' END")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRM_WAREHOUSE", str(warehouse))
        run_dbt("seed", "--select", "source_trust", "--quiet")
        run_dbt("run", "--select", "int_customer_attributes__ranked", "--quiet")
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute("SELECT customer_id, attribute, value, source, source_record_id, survivorship_rank "
                       "FROM intermediate.int_customer_attributes__ranked").fetchall()
    con.close()
    return rows


@pytest.fixture(scope="module")
def golden(ranked):
    return {attribute: (value, source) for customer, attribute, value, source, _, rank in ranked
            if customer == "CU1" and rank == 1}


def test_the_most_trusted_source_wins_over_a_more_recent_one(golden):
    assert golden["first_name"] == ("ann", "crm_contacts")  # the web shop's later "annie" loses to the CRM


def test_within_a_source_the_most_recent_value_wins(golden):
    assert golden["email"] == ("b@x.com", "crm_contacts")  # K2 is newer than K1; web and email copies rank lower


def test_on_the_same_day_the_most_frequent_value_wins(golden):
    assert golden["phone"] == ("+441", "ecommerce_orders")
    assert golden["address"] == ("2 low st|york|YO1 8AA|GB", "ecommerce_orders")  # two of three orders


def test_a_value_only_one_source_has_survives_with_that_source(golden):
    assert golden["birth_date"] == ("1980-02-03", "crm_contacts")
    assert golden["last_name"] == ("lee", "crm_contacts")


def test_a_full_tie_is_broken_on_the_record_id(ranked):
    order = sorted((rank, record) for customer, attribute, _, _, record, rank in ranked
                   if customer == "CU2" and attribute == "first_name")
    assert order == [(1, "T1"), (2, "T2")]  # the same files always give the same golden record


def test_an_incremental_build_ranks_again_exactly_the_customers_that_changed(tmp_path, monkeypatch):
    """After a day's changes the incremental build equals a full one: a changed value, a customer merged into
    another, a customer left without any value, a new customer; the untouched customer keeps its built rows."""
    warehouse = tmp_path / "golden.duckdb"
    _records_warehouse(warehouse, "CASE WHEN starts_with(source_record_id, 'T') THEN 'CU2' WHEN source = 'email_events' "
                                  "THEN 'CU3' WHEN source_record_id = 'O3' THEN 'CU4' ELSE 'CU1' END")
    monkeypatch.setenv("CRM_WAREHOUSE", str(warehouse))
    ranked = "SELECT * FROM intermediate.int_customer_attributes__ranked ORDER BY ALL"
    run_dbt("seed", "--select", "source_trust", "--quiet")
    run_dbt("run", "--select", "int_customer_attributes__ranked", "--quiet")
    con = duckdb.connect(str(warehouse))
    # a mark the comparison does not read: a customer ranked again loses it
    con.execute("UPDATE intermediate.int_customer_attributes__ranked SET frequency = -1 WHERE customer_id = 'CU2'")
    con.execute("UPDATE intermediate.int_customer_records SET phone = '+449' WHERE source_record_id = 'O1'")  # CU1
    con.execute("UPDATE identity.customer_crosswalk SET customer_id = 'CU1' WHERE customer_id = 'CU4'")  # merged
    con.execute("UPDATE intermediate.int_customer_records SET email = NULL WHERE source = 'email_events'")  # CU3
    con.execute("INSERT INTO intermediate.int_customer_records VALUES ('crm_contacts', 'N1', 'cy', NULL, NULL, NULL, "
                "NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2026-07-01 09:00')")
    con.execute("INSERT INTO identity.customer_crosswalk VALUES ('crm_contacts', 'N1', 'CU5')")  # new
    con.close()
    run_dbt("run", "--select", "int_customer_attributes__ranked", "--quiet")
    con = duckdb.connect(str(warehouse))
    incremental = con.execute(ranked).fetchall()
    con.close()
    run_dbt("run", "--select", "int_customer_attributes__ranked", "--full-refresh", "--quiet")
    con = duckdb.connect(str(warehouse), read_only=True)
    full = con.execute(ranked).fetchall()
    con.close()
    frequency = 7  # the column's position in the model
    unmarked = [row[:frequency] + (2,) + row[frequency + 1:] if row[0] == "CU2" else row for row in incremental]
    assert unmarked == full
    assert {row[frequency] for row in incremental if row[0] == "CU2"} == {-1}  # CU2 was not ranked again
    assert {row[0] for row in full} == {"CU1", "CU2", "CU5"}  # CU3 has no value left, CU4 merged into CU1
    assert ("CU1", "phone", "+449") in {row[:3] for row in full}
