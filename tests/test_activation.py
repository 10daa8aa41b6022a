"""Audiences obey consent, addresses, open complaints, the contact-pressure cap and a stable holdout, and their
exports list exactly the treated members.

A hand-made story (all 2026; the newest touchpoint, Dan's send on Mar 30 10:00, is "now"):
  Ann  email and SMS consent, phone; one email sent Mar 20 (outside the last 7 days)
  Bob  email consent withdrawn                       Cat  email consent, an open complaint since Mar 1
  Dan  email consent, two sends in the last 7 days   Eve  email consent but no email address
  Fay  SMS consent and a phone; email consent unknown Gus  email consent, one send in the last 7 days
Test audiences, all selecting everyone (criteria `true`), the cap at its default of 2 messages in 7 days:
  a_first (1, email), b_second (2, email), c_sms (3, sms), d_nobody (4, email, criteria false).
"""

import hashlib
import os
import stat
from datetime import date

import duckdb
import pytest

from activation.exports import write_exports
from conftest import query, run_dbt
from story import build_story_warehouse, stand_in_clv

DAY = date(2026, 3, 31)


def contact(contact_id, first, email, phone=None, email_opt_in=None, sms_opt_in=None):
    return dict(contact_id=contact_id, first_name=first, last_name="Test", email=email, phone=phone,
                signup_date="2026-01-01", updated_at="2026-01-01 10:00:00", email_opt_in=email_opt_in,
                sms_opt_in=sms_opt_in)


def sent(event_id, who, at, kind="sent"):
    return dict(event_id=event_id, campaign_id="CMP-1", email=f"{who}@shop.org", event_type=kind, event_at=at)


FEEDS = {
    "campaigns": [dict(campaign_id="CMP-1", campaign_name="Spring", channel="email", campaign_code="EM001",
                       start_date="2026-03-01", end_date="2026-03-31", cost="10.00")],
    "crm_contacts": [
        contact("K1", "Ann", "ann@shop.org", "07700900001", "true", "true"),
        contact("K2", "Bob", "bob@shop.org", email_opt_in="false"),
        contact("K3", "Cat", "cat@shop.org", email_opt_in="true"),
        contact("K4", "Dan", "dan@shop.org", email_opt_in="true"),
        contact("K5", "Eve", None, "07700900005", email_opt_in="true"),
        contact("K6", "Fay", "fay@shop.org", "07700900006", sms_opt_in="true"),
        contact("K7", "Gus", "gus@shop.org", email_opt_in="true"),
    ],
    "email_events": [
        sent("E1", "ann", "2026-03-20 09:00:00"), sent("E2", "ann", "2026-03-20 10:00:00", "opened"),
        sent("E3", "dan", "2026-03-28 09:00:00"), sent("E4", "dan", "2026-03-30 10:00:00"),
        sent("E5", "gus", "2026-03-29 09:00:00"),
    ],
    "service_cases": [dict(case_id="C1", email="cat@shop.org", channel="phone", category="complaint",
                           agent_id="G1", opened_at="2026-03-01 09:00:00")],
}
AUDIENCES = [("a_first", 1, "email", 0.0, "A", "first", "true"),
             ("b_second", 2, "email", 0.0, "B", "second", "true"),
             ("c_sms", 3, "sms", 0.0, "C", "sms", "true"),
             ("d_nobody", 4, "email", 0.0, None, "nobody", "false")]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("activation")
    with pytest.MonkeyPatch.context() as patch:
        path = build_story_warehouse(root, FEEDS, DAY, patch)
        stand_in_clv(path)
        con = duckdb.connect(str(path))
        con.execute("DELETE FROM reference.audiences")  # the test's audiences instead of the shipped ones
        con.executemany("INSERT INTO reference.audiences VALUES (?, ?, ?, ?, ?, ?, ?)", AUDIENCES)
        con.close()
        run_dbt("run", "--select", "open_complaints", "int_audience__candidates", "int_audience__decisions",
                "audience_members", "audience_summary", "--quiet")
    return path


def by_name(path, sql: str) -> dict:
    """(audience, first name) -> the rest of each row."""
    return {(row[0], row[1]): row[2:] for row in query(path, sql)}


def test_each_rule_keeps_out_whom_it_should_in_priority_order(warehouse):
    decisions = by_name(warehouse, """SELECT d.audience, c.first_name, d.exclusion, d.sends_last_7_days,
            d.planned_messages_before FROM intermediate.int_audience__decisions d JOIN core.dim_customers c
            USING (customer_id)""")
    exclusions = {key: value[0] for key, value in decisions.items()}
    assert exclusions == {
        ("a_first", "Ann"): None, ("a_first", "Bob"): "no email consent", ("a_first", "Cat"): "open complaint",
        ("a_first", "Dan"): "contact-pressure cap", ("a_first", "Eve"): "no email address",
        ("a_first", "Fay"): "no email consent", ("a_first", "Gus"): None,
        ("b_second", "Ann"): None, ("b_second", "Bob"): "no email consent", ("b_second", "Cat"): "open complaint",
        ("b_second", "Dan"): "contact-pressure cap", ("b_second", "Eve"): "no email address",
        ("b_second", "Fay"): "no email consent", ("b_second", "Gus"): "contact-pressure cap",
        ("c_sms", "Ann"): "contact-pressure cap", ("c_sms", "Bob"): "no SMS consent",
        ("c_sms", "Cat"): "no SMS consent", ("c_sms", "Dan"): "no SMS consent", ("c_sms", "Eve"): "no SMS consent",
        ("c_sms", "Fay"): None, ("c_sms", "Gus"): "no SMS consent",
    }
    # the cap counts the last 7 days' sends and the audiences before that keep the customer
    assert decisions[("a_first", "Dan")][1:] == (2, 0)
    assert decisions[("b_second", "Gus")][1:] == (1, 1)
    assert decisions[("c_sms", "Ann")][1:] == (0, 2)


def test_members_carry_the_channel_address_and_no_customer_over_the_cap(warehouse):
    assert sorted(query(warehouse, """SELECT audience, first_name, channel, contact_address, reason, offer, is_holdout
                                      FROM activation.audience_members""")) == [
        ("a_first", "Ann", "email", "ann@shop.org", "first", "A", False),
        ("a_first", "Gus", "email", "gus@shop.org", "first", "A", False),
        ("b_second", "Ann", "email", "ann@shop.org", "second", "B", False),
        ("c_sms", "Fay", "sms", "+447700900006", "sms", "C", False),
    ]
    over = query(warehouse, """SELECT m.customer_id FROM activation.audience_members m
        JOIN intermediate.int_audience__candidates c USING (customer_id)
        GROUP BY m.customer_id, c.sends_last_7_days HAVING count(*) + c.sends_last_7_days > 2""")
    assert over == []


def test_the_summary_accounts_for_every_selected_customer(warehouse):
    assert query(warehouse, """SELECT audience, selected, excluded_no_consent, excluded_no_address,
            excluded_open_complaint, excluded_pressure_cap, members, treated, holdout
            FROM activation.audience_summary ORDER BY priority""") == [
        ("a_first", 7, 2, 1, 1, 1, 2, 2, 0),
        ("b_second", 7, 2, 1, 1, 2, 1, 1, 0),
        ("c_sms", 7, 5, 0, 0, 1, 1, 1, 0),
        ("d_nobody", 0, 0, 0, 0, 0, 0, 0, 0),
    ]


def test_exports_list_the_treated_in_private_files(warehouse, tmp_path):
    written = {e.audience: e for e in write_exports(warehouse, tmp_path / "exports", DAY)}
    assert {a: e.rows for a, e in written.items()} == {"a_first": 2, "b_second": 1, "c_sms": 1, "d_nobody": 0}
    first = written["a_first"].path
    assert first == tmp_path / "exports" / "a_first" / "2026-03-31.csv"
    assert first.read_text().splitlines()[0] == "email,first_name,last_name,customer_id,audience,offer"
    assert sorted(line.split(",")[:2] for line in first.read_text().splitlines()[1:]) == [
        ["ann@shop.org", "Ann"], ["gus@shop.org", "Gus"]]
    assert written["c_sms"].path.read_text().splitlines()[1].startswith("+447700900006,Fay,")
    assert written["d_nobody"].path.read_text() == "email,first_name,last_name,customer_id,audience,offer\n"
    for export in written.values():
        assert stat.S_IMODE(os.stat(export.path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(export.path.parent).st_mode) == 0o700


def test_generated_audience_campaigns_compare_their_treated_with_the_held_out(pipeline):
    """The generator sends its audience newsletters to nine in ten account holders and holds the rest out: the
    campaign table measures both groups, and no customer is in both."""
    import json

    settings = pipeline.settings
    planted = json.loads((settings.truth_dir / "campaign_lift.json").read_text())
    measured = query(settings.warehouse_path, """SELECT campaign_id, treated_customers, control_customers,
            lift_response_rate FROM kpi.kpi_campaign_performance WHERE control_customers IS NOT NULL""")
    assert {row[0] for row in measured} <= set(planted["campaigns"]) and measured
    for campaign, treated, control, lift in measured:
        assert treated > control > 0 and lift is not None, campaign
    (both,), = query(settings.warehouse_path, """SELECT count(*) FROM (
        SELECT e.campaign_id, c.customer_id FROM staging.stg_email_events e
        JOIN identity.customer_crosswalk c ON c.source = 'email_events' AND c.source_record_id = e.email
        WHERE e.event_type IN ('sent', 'held_out') GROUP BY ALL HAVING count(DISTINCT e.event_type) = 2)""")
    (treated_total,), = query(settings.warehouse_path, "SELECT sum(treated_customers) FROM kpi.kpi_campaign_performance")
    assert both < 0.01 * treated_total  # two people sharing one email address, at most


def holdout_draw(customer_id: str, audience: str) -> float:
    """The draw computed independently of DuckDB: md5 as an unsigned little-endian number."""
    return int.from_bytes(hashlib.md5(f"{customer_id}|{audience}".encode()).digest(), "little") % 1_000_000 / 1e6


def test_the_pipeline_holds_out_a_stable_share_and_exports_only_the_treated(pipeline):
    settings = pipeline.settings
    members = query(settings.restricted_database, """SELECT m.audience, m.customer_id, m.channel, m.is_holdout,
            s.holdout_share, c.email_opt_in, c.sms_opt_in
            FROM activation.audience_members m JOIN activation.audience_summary s USING (audience)
            JOIN core.dim_customers c USING (customer_id)""")
    assert members, "no audience has members in the generated month"
    for audience, customer, channel, is_holdout, share, email_ok, sms_ok in members:
        assert is_holdout == (holdout_draw(customer, audience) < share)
        assert (email_ok if channel == "email" else sms_ok) is True  # consent for the channel, never unknown
    treated = {(a, c) for a, c, _, holdout, *_ in members if not holdout}
    exported = set()
    for audience, in query(settings.restricted_database, "SELECT audience FROM activation.audience_summary"):
        [path] = (settings.data_dir / "exports" / audience).glob("*.csv")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        exported |= {(audience, line.split(",")[3]) for line in path.read_text().splitlines()[1:]}
    assert exported == treated
    # the BI copy holds pseudonyms, not addresses
    restricted = dict(query(settings.restricted_database, "SELECT audience || customer_id, contact_address "
                                                           "FROM activation.audience_members"))
    bi = dict(query(settings.bi_database, "SELECT audience || customer_id, contact_address "
                                          "FROM activation.audience_members"))
    assert bi.keys() == restricted.keys() and not set(bi.values()) & set(restricted.values())
