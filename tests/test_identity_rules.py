"""Deterministic matching on hand-made records: shared identifiers join, junk and crowds do not."""

import pandas as pd

from identity.resolver import resolve
from identity.rules import MatchRules, is_junk_email, is_junk_phone


def records(rows):
    columns = ["source", "source_record_id", "first_name", "last_name", "email", "phone", "loyalty_id", "account_id"]
    return pd.DataFrame(rows, columns=columns)


def same_cluster(resolution, a, b):
    labels = resolution.records.set_index("source_record_id")["cluster"]
    return labels[a] == labels[b]


def test_shared_email_loyalty_and_account_join_records_transitively():
    resolution = resolve(records([
        ("crm_contacts", "C1", "ann", "lee", "ann@x.com", None, "L1", None),
        ("pos_transactions", "L1", None, None, None, None, "L1", None),
        ("ecommerce_orders", "W1", "ann", "lee", "ann@x.com", None, None, "A1"),
        ("web_events", "A1|", None, None, None, None, None, "A1"),
        ("crm_contacts", "C2", "bob", "ray", "bob@x.com", None, "L2", None),
    ]))
    assert same_cluster(resolution, "C1", "L1") and same_cluster(resolution, "C1", "A1|")
    assert not same_cluster(resolution, "C1", "C2")
    assert resolution.records["cluster"].nunique() == 2


def test_junk_values_join_nothing():
    assert is_junk_email("test@test.com") and is_junk_email("noemail@gmail.com") and is_junk_email("aaaa@x.com")
    assert not is_junk_email("ann.lee@gmail.com")
    assert is_junk_phone("+440000000000") and not is_junk_phone("+447700900123")
    resolution = resolve(records([
        ("ecommerce_orders", "W1", "ann", "lee", "test@test.com", "+440000000000", None, None),
        ("ecommerce_orders", "W2", "bob", "ray", "test@test.com", "+440000000000", None, None),
    ]))
    assert not same_cluster(resolution, "W1", "W2")


def test_household_landline_joins_only_records_with_the_same_name():
    resolution = resolve(records([
        ("crm_contacts", "C1", "ann", "lee", "ann@x.com", "+442079460123", None, None),
        ("crm_contacts", "C2", "tom", "lee", "tom@x.com", "+442079460123", None, None),
        ("service_cases", "K1", "ann", "lee", None, "+442079460123", None, None),
    ]))
    assert same_cluster(resolution, "C1", "K1")
    assert not same_cluster(resolution, "C1", "C2")


def test_an_identifier_shared_by_a_crowd_is_ignored():
    crowd = [("crm_contacts", f"C{i}", f"p{i}", "x", f"p{i}@x.com", None, "L-SHOP", None) for i in range(5)]
    resolution = resolve(records(crowd), MatchRules(max_distinct_partners=3))
    assert resolution.records["cluster"].nunique() == 5
    pair = resolve(records(crowd[:2]), MatchRules(max_distinct_partners=3))
    assert pair.records["cluster"].nunique() == 1
