"""Every KPI against numbers worked out by hand on a small fixture, run through the real chain: landing files ->
loader -> dbt staging -> identity resolution -> dbt marts.

The people: Ann, Bob and Cat are CRM members with loyalty cards; Dan only shops on the web. The story (all 2026):
  Jan 5   Ann buys twice in store (100 + 20: one occasion), three days after opening campaign CMP-1
  Jan 20  Bob buys in store (30); Jan 21 an anonymous receipt (40)
  Feb 3   Dan's first web order (70) carries campaign code EM001; Feb 10 Ann buys again (50)
  Feb 15  Cat's receipt is voided (60)
  Mar 1   Cat buys (80); Dan opens CMP-2; Mar 4 Dan returns an order (25); Mar 5 Dan buys (45)
  Mar 20  Bob buys on the web (10), 18 days after clicking CMP-2: outside the 7-day window
Service cases and survey responses are in February (and one survey in March); leads span January to March.
"""

import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import query, restored_environment, run_dbt
from story import build_story_warehouse, stand_in_clv

DAY = date(2026, 3, 31)  # everything lands in one delivery; the event times carry the story

FEEDS = {
    "crm_contacts": [
        dict(contact_id="K1", loyalty_id="L1", first_name="Ann", last_name="Ames", email="ann@shop.org",
             signup_date="2025-12-01", updated_at="2025-12-01 10:00:00", tier="bronze"),
        dict(contact_id="K1", loyalty_id="L1", first_name="Ann", last_name="Ames", email="ann@shop.org",
             signup_date="2025-12-01", updated_at="2026-02-15 10:00:00", tier="silver"),  # Ann moves up
        dict(contact_id="K2", loyalty_id="L2", first_name="Bob", last_name="Burr", email="bob@shop.org",
             signup_date="2025-12-01", updated_at="2025-12-01 10:00:00", tier="bronze"),
        dict(contact_id="K3", loyalty_id="L3", first_name="Cat", last_name="Cole", email="cat@shop.org",
             signup_date="2025-12-01", updated_at="2025-12-01 10:00:00", tier="gold"),
    ],
    "pos_transactions": [
        dict(receipt_id="R1", store_id="S1", loyalty_id="L1", transaction_at="2026-01-05 10:00:00", status="completed", amount="100.00"),
        dict(receipt_id="R2", store_id="S1", loyalty_id="L1", transaction_at="2026-01-05 15:00:00", status="completed", amount="20.00"),
        dict(receipt_id="R3", store_id="S1", loyalty_id="L1", transaction_at="2026-02-10 10:00:00", status="completed", amount="50.00"),
        dict(receipt_id="R4", store_id="S2", loyalty_id="L2", transaction_at="2026-01-20 10:00:00", status="completed", amount="30.00"),
        dict(receipt_id="R5", store_id="S2", loyalty_id=None, transaction_at="2026-01-21 10:00:00", status="completed", amount="40.00"),
        dict(receipt_id="R6", store_id="S2", loyalty_id="L3", transaction_at="2026-02-15 10:00:00", status="voided", amount="60.00"),
        dict(receipt_id="R7", store_id="S2", loyalty_id="L3", transaction_at="2026-03-01 10:00:00", status="completed", amount="80.00"),
    ],
    "ecommerce_orders": [
        dict(order_id="O1", account_id="A4", email="dan@shop.org", first_name="Dan", last_name="Dale",
             ordered_at="2026-02-03 12:00:00", status="completed", amount="70.00", campaign_code="EM001"),
        dict(order_id="O2", account_id="A4", email="dan@shop.org", first_name="Dan", last_name="Dale",
             ordered_at="2026-03-04 12:00:00", status="returned", amount="25.00", campaign_code=None),
        dict(order_id="O3", account_id="A4", email="dan@shop.org", first_name="Dan", last_name="Dale",
             ordered_at="2026-03-05 12:00:00", status="completed", amount="45.00", campaign_code=None),
        dict(order_id="O4", account_id="A2", email="bob@shop.org", first_name="Bob", last_name="Burr",
             ordered_at="2026-03-20 12:00:00", status="completed", amount="10.00", campaign_code=None),
    ],
    "campaigns": [
        dict(campaign_id="CMP-1", campaign_name="Winter", channel="email", campaign_code="EM001",
             start_date="2026-01-01", end_date="2026-01-31", cost="100.00"),
        dict(campaign_id="CMP-3", campaign_name="Second purchase", channel="email", campaign_code="EM003",
             start_date="2026-02-01", end_date="2026-02-07", cost="20.00", audience="second_purchase"),
        dict(campaign_id="CMP-2", campaign_name="Spring", channel="email", campaign_code="EM002",
             start_date="2026-03-01", end_date="2026-03-31", cost="50.00"),
    ],
    "email_events": [
        # CMP-3 went to Ann and Dan and held Bob and Cat out
        *[dict(event_id=f"3-{who}-{kind}", campaign_id="CMP-3", email=f"{who}@shop.org", event_type=kind,
               event_at="2026-02-01 08:00:00")
          for who, kind in (("ann", "sent"), ("dan", "sent"), ("bob", "held_out"), ("cat", "held_out"))],
        *[dict(event_id=f"1-{who}-{kind}", campaign_id="CMP-1", email=f"{who}@shop.org", event_type=kind,
               event_at=f"2026-01-02 {hour}:00:00")
          for who in ("ann", "bob", "dan") for kind, hour in (("sent", "08"), ("delivered", "08"))],
        dict(event_id="1-ann-opened", campaign_id="CMP-1", email="ann@shop.org", event_type="opened", event_at="2026-01-02 10:00:00"),
        dict(event_id="1-ann-clicked", campaign_id="CMP-1", email="ann@shop.org", event_type="clicked", event_at="2026-01-02 10:01:00"),
        dict(event_id="1-bob-unsub", campaign_id="CMP-1", email="bob@shop.org", event_type="unsubscribed", event_at="2026-01-03 10:00:00"),
        *[dict(event_id=f"2-{who}-sent", campaign_id="CMP-2", email=f"{who}@shop.org", event_type="sent",
               event_at="2026-03-01 08:00:00") for who in ("ann", "bob", "cat", "dan")],
        *[dict(event_id=f"2-{who}-delivered", campaign_id="CMP-2", email=f"{who}@shop.org", event_type="delivered",
               event_at="2026-03-01 08:00:00") for who in ("ann", "bob", "dan")],
        dict(event_id="2-cat-bounced", campaign_id="CMP-2", email="cat@shop.org", event_type="bounced", event_at="2026-03-01 08:00:00"),
        dict(event_id="2-dan-opened", campaign_id="CMP-2", email="dan@shop.org", event_type="opened", event_at="2026-03-01 09:00:00"),
        dict(event_id="2-ann-opened", campaign_id="CMP-2", email="ann@shop.org", event_type="opened", event_at="2026-03-01 09:30:00"),
        dict(event_id="2-bob-clicked", campaign_id="CMP-2", email="bob@shop.org", event_type="clicked", event_at="2026-03-02 10:00:00"),
    ],
    "web_events": [
        dict(event_id="W1", cookie_id="c9", event_type="page_view", utm_campaign="EM002", event_at="2026-03-10 10:00:00"),
    ],
    "service_cases": [
        dict(case_id="S1", email="ann@shop.org", channel="phone", category="complaint", agent_id="G1",
             opened_at="2026-02-01 09:00:30", resolved_at="2026-02-01 19:00:00", contacts="1", csat="5"),
        dict(case_id="S2", email="bob@shop.org", channel="email", category="complaint", agent_id="G1",
             opened_at="2026-02-02 09:00:00", resolved_at="2026-02-04 09:00:00", contacts="2", csat="2"),
        dict(case_id="S3", email="cat@shop.org", channel="phone", category="inquiry", agent_id="G2",
             opened_at="2026-02-03 10:00:00", resolved_at="2026-02-03 11:00:00", contacts="1"),
        dict(case_id="S4", email="ann@shop.org", channel="chat", category="renewal", agent_id="G2",
             opened_at="2026-02-05 10:00:00", resolved_at="2026-02-05 12:00:00", contacts="1", csat="4",
             renewal_outcome="renewed"),
        dict(case_id="S5", email="bob@shop.org", channel="phone", category="renewal", agent_id="G2",
             opened_at="2026-02-06 10:00:00", resolved_at="2026-02-07 10:00:00", contacts="3",
             renewal_outcome="not_renewed"),
        dict(case_id="S6", email="dan@shop.org", channel="phone", category="complaint", agent_id="G1",
             opened_at="2026-02-20 10:00:00", contacts="1"),
        # a CSAT of 7 is out of range: the case counts, its CSAT does not
        dict(case_id="S7", email="cat@shop.org", channel="chat", category="inquiry", agent_id="G2",
             opened_at="2026-02-08 10:00:00", resolved_at="2026-02-08 10:30:00", contacts="1", csat="7"),
        dict(case_id="S8", email="dan@shop.org", channel="email", category="complaint", agent_id="G1",
             opened_at="2026-03-02 10:00:00"),  # Dan complains again; the newest time the service feed shows
    ],
    "survey_responses": [
        dict(response_id=f"V{n}", email=f"{who}@shop.org", score=str(score), responded_at=f"2026-{month}-10 10:00:00")
        for n, (who, score, month) in enumerate([("ann", 10, "02"), ("bob", 9, "02"), ("cat", 8, "02"),
                                                ("dan", 6, "02"), ("ann", 3, "02"), ("bob", 10, "03")])
    ],
    "sales_leads": [
        dict(lead_id="D1", first_name="Eve", last_name="Egan", email="eve@firm.org", stage="won", sales_calls="3",
             created_at="2026-01-10 10:00:00", converted_at="2026-02-15 10:00:00"),
        dict(lead_id="D2", first_name="Fay", last_name="Ford", stage="contacted", sales_calls="1",
             created_at="2026-01-20 10:00:00"),
        dict(lead_id="D3", first_name="Gus", last_name="Gale", stage="lost", sales_calls="2",
             created_at="2026-02-05 10:00:00"),
        dict(lead_id="D4", first_name="Hal", last_name="Hope", stage="won", sales_calls="4",
             created_at="2026-02-10 10:00:00", converted_at="2026-02-20 10:00:00"),
        dict(lead_id="D5", first_name="Ida", last_name="Ince", stage="new", sales_calls="0",
             created_at="2026-03-01 10:00:00"),
    ],
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("kpis")
    with pytest.MonkeyPatch.context() as patch:
        path = build_story_warehouse(root, FEEDS, DAY, patch)
        stand_in_clv(path)
        run_dbt("build", "--select", "open_complaints", "--quiet")
        # the RFM summary as of an earlier reference date, compiled now: dbt cannot open the file once a reader has
        run_dbt("compile", "--select", "int_customer_rfm__summary", "kpi_scorecard_changes",
                "--vars", "{rfm_reference_date: '2026-02-28'}",
                "--target-path", str(root / "compiled"), "--quiet")
        # the new-customer figures once the data reaches 27 days back (Feb 1 is 27 days after Jan 5)
        run_dbt("compile", "--select", "kpi_customers_monthly", "kpi_scorecard",
                "--vars", "{new_customer_history_days: 27}", "--target-path", str(root / "compiled_27"), "--quiet")
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def rows(con, sql: str) -> list[tuple]:
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in con.execute(sql).fetchall()]


def test_four_buyers_five_prospects_and_the_purchases_they_own(warehouse):
    assert rows(warehouse, "SELECT count(*), count(*) FILTER (WHERE orders > 0) FROM core.dim_customers") == [(9, 4)]
    assert rows(warehouse, "SELECT first_name, orders, purchase_occasions, revenue_to_date::DOUBLE FROM core.dim_customers "
                           "WHERE orders > 0 ORDER BY first_name") == [("Ann", 3, 2, 170.0), ("Bob", 2, 2, 40.0), ("Cat", 1, 1, 80.0),
                                                      ("Dan", 2, 2, 115.0)]


def test_capture_rate_daily_and_monthly(warehouse):
    assert rows(warehouse, "SELECT sum(purchases), sum(identified_purchases), sum(revenue)::DOUBLE, "
                           "sum(identified_revenue)::DOUBLE FROM kpi.kpi_customers_daily") == [(9, 8, 445.0, 405.0)]
    assert rows(warehouse, "SELECT capture_rate_purchases, capture_rate_revenue::DOUBLE FROM kpi.kpi_customers_daily "
                           "WHERE order_date = '2026-01-05'") == [(1.0, 1.0)]
    assert rows(warehouse, "SELECT month::VARCHAR, purchases, identified_purchases, capture_rate_purchases, "
                           "revenue::DOUBLE, capture_rate_revenue::DOUBLE FROM kpi.kpi_customers_monthly ORDER BY month") == [
        ("2026-01-01", 4, 3, 0.75, 190.0, round(150 / 190, 6)),
        ("2026-02-01", 2, 2, 1.0, 120.0, 1.0),
        ("2026-03-01", 3, 3, 1.0, 135.0, 1.0),
    ]
    assert rows(warehouse, "SELECT channel, store_id, sum(purchases), sum(identified_purchases) "
                           "FROM kpi.kpi_capture_rate_daily GROUP BY ALL ORDER BY ALL") == [
        ("store", "S1", 3, 3), ("store", "S2", 3, 2), ("web", "WEB", 3, 3)]


def test_active_new_retention_churn_and_repeat(warehouse):
    assert rows(warehouse, """
        SELECT month::VARCHAR, active_customers, new_customers, previous_customers, retained_customers, retention_rate,
               churn_rate, new_customer_retention_rate, one_time_purchase_rate, repeat_rate
        FROM kpi.kpi_customers_monthly ORDER BY month""") == [
        ("2026-01-01", 2, 2, 0, 0, None, None, None, 1.0, 0.0),
        ("2026-02-01", 2, 1, 2, 1, 0.5, 0.5, 0.5, round(2 / 3, 6), round(1 / 3, 6)),
        ("2026-03-01", 3, 1, 2, 1, 0.5, 0.5, 1.0, 0.25, 0.75),
    ]
    assert rows(warehouse, "SELECT order_date::VARCHAR, active_customers, new_customers FROM kpi.kpi_customers_daily "
                           "WHERE order_date IN ('2026-01-05', '2026-03-05', '2026-03-20') ORDER BY 1") == [
        ("2026-01-05", 1, 1), ("2026-03-05", 1, 0), ("2026-03-20", 1, 0)]


def test_new_customers_count_only_where_the_data_reaches_far_enough_back(warehouse):
    """Orders begin on Jan 5: with the default 365 days no month can tell a new customer from one who bought
    before the data began, so the scorecard leaves new customers out; with 27 days, February and March can."""
    assert rows(warehouse, "SELECT month::VARCHAR, new_customers, history_days, history_complete "
                           "FROM kpi.kpi_customers_monthly ORDER BY month") == [
        ("2026-01-01", 2, 0, False), ("2026-02-01", 1, 27, False), ("2026-03-01", 1, 55, False)]
    assert rows(warehouse, "SELECT order_date::VARCHAR, history_days, history_complete FROM kpi.kpi_customers_daily "
                           "WHERE order_date IN ('2026-01-05', '2026-03-20') ORDER BY 1") == [
        ("2026-01-05", 0, False), ("2026-03-20", 74, False)]
    assert rows(warehouse, "SELECT count(new_customers) FROM kpi.kpi_scorecard") == [(0,)]
    compiled = compiled_sql(warehouse, "compiled_27")
    monthly = f"({compiled['kpi_customers_monthly']})"
    assert rows(warehouse, f"SELECT month::VARCHAR, new_customers, history_complete FROM {monthly} ORDER BY month") == [
        ("2026-01-01", 2, False), ("2026-02-01", 1, True), ("2026-03-01", 1, True)]
    scorecard = compiled["kpi_scorecard"].replace('"story"."kpi"."kpi_customers_monthly"', monthly)
    assert rows(warehouse, f"SELECT month::VARCHAR, new_customers FROM ({scorecard}) ORDER BY month") == [
        ("2026-01-01", None), ("2026-02-01", 1), ("2026-03-01", 1)]


def compiled_sql(con, folder: str) -> dict[str, str]:
    """The SQL dbt compiled into the fixture's `folder`, by model name."""
    root = Path(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = 'story'").fetchone()[0]).parent
    return {path.stem: path.read_text() for path in root.glob(f"{folder}/**/*.sql")}


def test_preferred_channel_by_responses_with_ties_to_the_latest(warehouse):
    """Responses up to Mar 20 (all in 180 days). Ann: 3 email (two opens, a click) and 3 store purchases, the
    email one latest (Mar 1 vs Feb 10). Bob: a click, a store and a web purchase, the web order latest (Mar 20).
    Cat: a bounce is no response; one store purchase (the voided one is none). Dan: one open, two web orders (the
    returned one is none). Nobody stated consent: no channel is reachable."""
    assert rows(warehouse, """SELECT c.first_name, c.preferred_channel, c.reachable_channels FROM core.dim_customers c
                              WHERE c.first_name IN ('Ann', 'Bob', 'Cat', 'Dan', 'Eve') ORDER BY 1""") == [
        ("Ann", "email", []), ("Bob", "web", []), ("Cat", "store", []), ("Dan", "web", []), ("Eve", None, [])]


def test_cohort_retention_matrix(warehouse):
    assert rows(warehouse, "SELECT cohort_month::VARCHAR, months_since, cohort_customers, active_customers, "
                           "retention_share FROM kpi.kpi_cohort_retention ORDER BY 1, 2") == [
        ("2026-01-01", 0, 2, 2, 1.0), ("2026-01-01", 1, 2, 1, 0.5), ("2026-01-01", 2, 2, 1, 0.5),
        ("2026-02-01", 0, 1, 1, 1.0), ("2026-02-01", 1, 1, 1, 1.0),
        ("2026-03-01", 0, 1, 1, 1.0),
    ]


def test_rfm_as_of_the_last_purchase_day(warehouse):
    assert rows(warehouse, """
        SELECT d.first_name, r.reference_date::VARCHAR, r.recency_days, r.frequency, r.monetary_total::DOUBLE,
               r.monetary_mean::DOUBLE, r.r_score, r.f_score
        FROM rfm.customer_rfm r JOIN core.dim_customers d USING (customer_id) ORDER BY d.first_name""") == [
        # score = 1 + floor(5 * (rank - 1) / 4); Ann, Bob and Dan tie on frequency 2 (rank 2), so all three get
        # f_score 1 + floor(5 / 4) = 2: ties are never split by row order
        ("Ann", "2026-03-20", 38, 2, 170.0, 85.0, 1, 2),
        ("Bob", "2026-03-20", 0, 2, 40.0, 20.0, 4, 2),
        ("Cat", "2026-03-20", 19, 1, 80.0, 80.0, 2, 1),
        ("Dan", "2026-03-20", 15, 2, 115.0, 57.5, 3, 2),
    ]
    # the revenue of identified purchases is the RFM total
    assert rows(warehouse, "SELECT (SELECT sum(monetary_total) FROM rfm.customer_rfm)::DOUBLE, "
                           "(SELECT sum(net_revenue) FROM core.fct_orders WHERE is_identified)::DOUBLE") == [(405.0, 405.0)]
    assert rows(warehouse, "SELECT snapshot_date::VARCHAR, count(*) FROM rfm.customer_rfm_history GROUP BY 1 ORDER BY 1") == [
        ("2026-01-31", 2), ("2026-02-28", 3), ("2026-03-31", 4)]


def test_rfm_summary_as_of_a_reference_date(warehouse):
    """var rfm_reference_date: only occasions up to that day count (Cat's first purchase comes after it)."""
    compiled = next(Path(warehouse.execute("SELECT path FROM duckdb_databases() WHERE database_name = 'story'")
                         .fetchone()[0]).parent.glob("compiled/**/int_customer_rfm__summary.sql"))
    warehouse.execute(f"CREATE OR REPLACE TEMP TABLE summary_feb AS {compiled.read_text()}")
    assert rows(warehouse, """
        SELECT d.first_name, s.reference_date::VARCHAR, s.first_purchase_date::VARCHAR, s.recency_days, s.frequency,
               s.monetary_total::DOUBLE, s.monetary_mean::DOUBLE
        FROM summary_feb s JOIN core.dim_customers d USING (customer_id) ORDER BY d.first_name""") == [
        ("Ann", "2026-02-28", "2026-01-05", 18, 2, 170.0, 85.0),
        ("Bob", "2026-02-28", "2026-01-20", 39, 1, 30.0, 30.0),
        ("Dan", "2026-02-28", "2026-02-03", 25, 1, 70.0, 70.0),
    ]


def test_campaign_performance_and_attribution(warehouse):
    assert rows(warehouse, """
        SELECT campaign_id, sends, deliveries, opens, clicks, email_responders, response_rate, bounces, unsubscribes,
               web_visitors, responses, cost_per_response::DOUBLE, attributed_purchases, purchases_by_code,
               purchases_by_last_touch, attributed_revenue::DOUBLE, new_customers_acquired
        FROM kpi.kpi_campaign_performance ORDER BY campaign_id""") == [
        ("CMP-1", 3, 3, 1, 1, 1, round(1 / 3, 6), 0, 1, 0, 1, 100.0, 3, 1, 2, 190.0, 2),
        ("CMP-2", 4, 3, 2, 1, 3, 1.0, 1, 0, 1, 4, 12.5, 1, 0, 1, 45.0, 0),
        ("CMP-3", 2, 0, 0, 0, 0, None, 0, 0, 0, 0, None, 0, 0, 0, 0.0, 0),
    ]


def test_campaign_lift_against_its_held_out_customers(warehouse):
    """CMP-3 (Feb 1-7, window to Feb 14): Ann (R3, 50 on Feb 10) and Dan (O1, 70 on Feb 3) were sent it and
    bought; Bob and Cat were held out and did not buy in the window (Cat's Feb 15 receipt was voided)."""
    assert rows(warehouse, """
        SELECT campaign_id, audience, treated_customers, control_customers, treated_response_rate,
               control_response_rate, lift_response_rate, lift_response_relative, treated_revenue_per_member::DOUBLE,
               control_revenue_per_member::DOUBLE, lift_revenue_per_member::DOUBLE
        FROM kpi.kpi_campaign_performance ORDER BY campaign_id""") == [
        ("CMP-1", None, None, None, None, None, None, None, None, None, None),
        ("CMP-2", None, None, None, None, None, None, None, None, None, None),
        ("CMP-3", "second_purchase", 2, 2, 1.0, 0.0, 1.0, None, 60.0, 0.0, 60.0),
    ]


def test_service_kpis(warehouse):
    assert rows(warehouse, """
        SELECT month::VARCHAR, cases, service_calls, agents, cases_per_agent, complaints,
               complaint_hours_to_resolution_median, complaint_hours_to_resolution_p90, resolved_cases,
               resolved_on_first_contact, first_contact_resolution_rate, rated_cases, csat, up_for_renewal, renewed,
               renewal_rate, survey_responses, promoters, detractors, nps
        FROM kpi.kpi_service ORDER BY month""") == [
        # complaint hours: S1 9 h 59 min 30 s (the exact time, not 10 minute boundaries) and S2 48; S6 is open
        ("2026-02-01", 7, 4, 2, 3.5, 3, round((9 + 59.5 / 60 + 48) / 2, 6),
         round(9 + 59.5 / 60 + 0.9 * (48 - 9 - 59.5 / 60), 6), 6, 4, round(4 / 6, 6), 3, round(2 / 3, 6), 2, 1, 0.5,
         5, 2, 2, 0.0),
        ("2026-03-01", 1, 0, 1, 1.0, 1, None, None, 0, 0, None, 0, None, 0, 0, None, 1, 1, 0, 100.0),
    ]


def test_a_row_whose_only_fault_is_an_optional_attribute_passes_with_it_nulled(warehouse):
    """S7's CSAT of 7 breaks csat_1_to_5, whose suite rule nulls the attribute: the case is staged (and counted
    above) with no CSAT, the fault is recorded, and the reconciliation counts the row as passed and nulled."""
    assert rows(warehouse, "SELECT case_id, csat FROM staging.stg_service_cases WHERE case_id = 'S7'") == [("S7", None)]
    assert rows(warehouse, "SELECT rule, column_name, offending_value, outcome FROM quarantine.service_cases") == [
        ("csat_1_to_5", "csat", "7", "attribute_nulled")]
    assert rows(warehouse, "SELECT rows_read, rows_passed, rows_quarantined, rows_attribute_nulled, balanced "
                           "FROM audit.load_reconciliation WHERE feed = 'service_cases'") == [(8, 8, 0, 1, True)]


def test_open_cases_with_age_sla_repeat_complainers_and_value_at_stake(warehouse):
    """As of Mar 2 10:00 (S8 opened, the feed's newest time) two cases are open, both Dan's complaints (SLA 48 h):
    S6 is 10 days = 240 h old, 192 h past its SLA; S8 is new. Dan has 2 cases in 90 days: a repeat complainer.
    His revenue to date is 70 + 45 (O2 was returned)."""
    (dan,), = rows(warehouse, "SELECT customer_id FROM identity.customer_crosswalk WHERE source_record_id = 'S6'")
    (clv,), = rows(warehouse, f"SELECT predicted_clv_12m FROM clv.customer_clv WHERE customer_id = '{dan}'")
    assert rows(warehouse, """
        SELECT case_id, customer_id, category, as_of::VARCHAR, age_hours, sla_hours, sla_due_at::VARCHAR,
               is_sla_breached, hours_past_sla, customer_cases_in_90_days, is_repeat_complainer,
               revenue_to_date::DOUBLE, predicted_clv_12m
        FROM service.open_complaints ORDER BY case_id""") == [
        ("S6", dan, "complaint", "2026-03-02 10:00:00", 240.0, 48, "2026-02-22 10:00:00", True, 192.0, 2, True,
         115.0, clv),
        ("S8", dan, "complaint", "2026-03-02 10:00:00", 0.0, 48, "2026-03-04 10:00:00", False, 0.0, 2, True,
         115.0, clv),
    ]


def test_tier_movements_and_revenue_per_tier(warehouse):
    """Dec 2025: Ann and Bob start bronze, Cat gold. Ann moves to silver on Feb 15. Revenue per month of each
    group: Jan Ann 120 + Bob 30 (bronze), Feb Ann 50 (moved), Mar Bob 10 (bronze) and Cat 80 (gold)."""
    assert rows(warehouse, "SELECT month::VARCHAR, previous_tier, tier, is_move, customers, revenue::DOUBLE "
                           "FROM loyalty.tier_movements ORDER BY ALL NULLS FIRST") == [
        ("2025-12-01", None, "bronze", False, 2, 0.0), ("2025-12-01", None, "gold", False, 1, 0.0),
        ("2026-01-01", "bronze", "bronze", False, 2, 150.0), ("2026-01-01", "gold", "gold", False, 1, 0.0),
        ("2026-02-01", "bronze", "bronze", False, 1, 0.0), ("2026-02-01", "bronze", "silver", True, 1, 50.0),
        ("2026-02-01", "gold", "gold", False, 1, 0.0),
        ("2026-03-01", "bronze", "bronze", False, 1, 10.0), ("2026-03-01", "gold", "gold", False, 1, 80.0),
        ("2026-03-01", "silver", "silver", False, 1, 0.0),
    ]


def test_lead_features_as_known_when_each_lead_was_created(warehouse):
    """The leads are people with no other records: no history before them. Ages count to Mar 20 12:00, the
    newest touchpoint (Bob's web order)."""
    assert rows(warehouse, """SELECT lead_id, is_closed, is_converted, lead_source, has_campaign, sales_calls,
                                     email_responses_before, web_visit_days_before, is_existing_customer, lead_age_days
                              FROM intermediate.int_lead__features ORDER BY lead_id""") == [
        ("D1", True, True, "unknown", False, 3, 0, 0, False, 69),
        ("D2", False, False, "unknown", False, 1, 0, 0, False, 59),
        ("D3", True, False, "unknown", False, 2, 0, 0, False, 43),
        ("D4", True, True, "unknown", False, 4, 0, 0, False, 38),
        ("D5", False, False, "unknown", False, 0, 0, 0, False, 19),
    ]


def test_sales_kpis(warehouse):
    assert rows(warehouse, """
        SELECT month::VARCHAR, prospects, leads_created, sales_calls, leads_converted, leads_created_then_won,
               lead_to_customer_conversion_rate, new_customers, retained_customers
        FROM kpi.kpi_sales ORDER BY month""") == [
        ("2026-01-01", 2, 2, 4, 0, 1, 0.5, 2, 0),
        ("2026-02-01", 1, 2, 6, 2, 1, 0.5, 1, 1),
        ("2026-03-01", 2, 1, 0, 0, 0, 0.0, 1, 1),
    ]


def test_scorecard_holds_seven_metrics_copied_from_their_tables(warehouse):
    columns = [r[0] for r in warehouse.execute("DESCRIBE kpi.kpi_scorecard").fetchall()]
    assert columns == ["month", "active_customers", "new_customers", "revenue", "capture_rate_revenue",
                       "retention_rate", "repeat_rate", "nps"]
    assert rows(warehouse, "SELECT active_customers, new_customers, revenue::DOUBLE, capture_rate_revenue::DOUBLE, "
                           "retention_rate, repeat_rate, nps FROM kpi.kpi_scorecard WHERE month = '2026-02-01'") == [
        (2, None, 120.0, 1.0, 0.5, round(1 / 3, 6), 0.0)]  # new customers: too little history (below)


def test_scorecard_changes_compare_whole_months_only(warehouse):
    """Purchases run from Jan 5 to Mar 20: only February is whole, and it has no whole month before it."""
    assert rows(warehouse, """
        SELECT month::VARCHAR, is_whole_month, count(*), count(change_vs_previous_month), count(change_vs_last_year),
               any_value(history_note)
        FROM kpi.kpi_scorecard_changes GROUP BY ALL ORDER BY 1""") == [
        ("2026-01-01", False, 7, 0, 0, "part of the month only"),
        ("2026-02-01", True, 7, 0, 0, "no whole month before; no whole month a year before"),
        ("2026-03-01", False, 7, 0, 0, "part of the month only"),
    ]
    assert rows(warehouse, "SELECT metric_order, metric, value FROM kpi.kpi_scorecard_changes "
                           "WHERE month = '2026-02-01' ORDER BY metric_order") == [
        (1, "active_customers", 2.0), (2, "new_customers", None), (3, "revenue", 120.0),
        (4, "capture_rate_revenue", 1.0), (5, "retention_rate", 0.5), (6, "repeat_rate", round(1 / 3, 6)),
        (7, "nps", 0.0)]


def test_scorecard_changes_against_the_month_before_and_a_year_before(warehouse):
    """The model's SQL on a hand-made scorecard whose purchases span Feb 2025 to Feb 2026."""
    compiled = next(Path(warehouse.execute("SELECT path FROM duckdb_databases() WHERE database_name = 'story'")
                         .fetchone()[0]).parent.glob("compiled/**/kpi_scorecard_changes.sql"))
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS story")
    con.execute("CREATE SCHEMA story.core; CREATE SCHEMA story.kpi")
    con.execute("CREATE TABLE story.core.fct_orders AS SELECT * FROM (VALUES (DATE '2025-02-01', true), "
                "(DATE '2026-02-28', true), (DATE '2026-03-02', false)) t(order_date, is_purchase)")
    con.execute("""CREATE TABLE story.kpi.kpi_scorecard AS SELECT * FROM (VALUES
        (DATE '2025-02-01', 10, 10, 100.0, 0.5, NULL, 0.0, 20.0),
        (DATE '2026-01-01', 40, 0, 120.0, 0.8, 0.5, 0.4, 20.0),
        (DATE '2026-02-01', 50, 5, 150.0, 0.9, 0.4, 0.5, 10.0))
        t(month, active_customers, new_customers, revenue, capture_rate_revenue, retention_rate, repeat_rate, nps)""")
    got = rows(con, f"""SELECT metric, previous_month_value, change_vs_previous_month, relative_change_vs_previous_month,
                               last_year_value, change_vs_last_year, relative_change_vs_last_year, history_note
                        FROM ({compiled.read_text()}) WHERE month = '2026-02-01' ORDER BY metric_order""")
    assert got == [
        ("active_customers", 40.0, 10.0, 0.25, 10.0, 40.0, 4.0, ""),
        ("new_customers", 0.0, 5.0, None, 10.0, -5.0, -0.5, ""),  # from 0: no relative change
        ("revenue", 120.0, 30.0, 0.25, 100.0, 50.0, 0.5, ""),
        ("capture_rate_revenue", 0.8, 0.1, 0.125, 0.5, 0.4, 0.8, ""),
        ("retention_rate", 0.5, -0.1, -0.2, None, None, None, ""),  # no value a year before: nothing to compare
        ("repeat_rate", 0.4, 0.1, 0.25, 0.0, 0.5, None, ""),
        ("nps", 20.0, -10.0, -0.5, 20.0, -10.0, -0.5, ""),
    ]
    assert rows(con, f"SELECT DISTINCT history_note FROM ({compiled.read_text()}) WHERE month = '2026-01-01'") == [
        ("no whole month before; no whole month a year before",)]


def test_rfm_grid_holds_every_cell_and_adds_up_to_customer_rfm(warehouse):
    assert rows(warehouse, "SELECT count(*), sum(customers), sum(revenue)::DOUBLE, sum(share_of_customers) "
                           "FROM rfm.rfm_grid") == [(25, 4, 405.0, 1.0)]
    # Ann R1 F2, Bob R4 F2, Cat R2 F1, Dan R3 F2 (test_rfm_as_of_the_last_purchase_day)
    assert rows(warehouse, "SELECT r_score, f_score, segment, customers, revenue::DOUBLE FROM rfm.rfm_grid "
                           "WHERE customers > 0 ORDER BY r_score") == [
        (1, 2, "Hibernating", 1, 170.0), (2, 1, "Hibernating", 1, 80.0), (3, 2, "About To Sleep", 1, 115.0),
        (4, 2, "Potential Loyalist", 1, 40.0)]
    assert rows(warehouse, "SELECT segment FROM rfm.rfm_grid WHERE r_score = 5 AND f_score = 5") == [("Champions",)]


def test_segment_migration_counts_each_customer_once_per_snapshot(warehouse):
    history = warehouse.execute("SELECT snapshot_date, previous_segment, segment FROM rfm.customer_rfm_history").df()
    expected = sorted((str(d.date()), f, t, n) for (d, f, t), n in
                      history.fillna({"previous_segment": "-"}).value_counts().items())
    got = rows(warehouse, "SELECT snapshot_date::VARCHAR, coalesce(from_segment, '-'), to_segment, customers "
                          "FROM rfm.rfm_segment_migration ORDER BY ALL")
    assert got == expected
    # January: Ann and Bob enter; February: Dan enters; March: Cat enters, the other three move on
    assert rows(warehouse, "SELECT snapshot_date::VARCHAR, sum(customers) FILTER (WHERE from_segment IS NULL), "
                           "sum(customers) FROM rfm.rfm_segment_migration GROUP BY 1 ORDER BY 1") == [
        ("2026-01-31", 2, 2), ("2026-02-28", 1, 3), ("2026-03-31", 1, 4)]
    assert rows(warehouse, "SELECT DISTINCT round(sum(share_of_from_segment), 9) FROM rfm.rfm_segment_migration "
                           "GROUP BY snapshot_date, from_segment") == [(1.0,)]


def test_touchpoints_carry_every_event_and_its_customer(warehouse):
    expected = sum(len(rows_) for feed, rows_ in FEEDS.items() if feed != "campaigns")
    assert rows(warehouse, "SELECT count(*) FROM core.fct_touchpoints") == [(expected,)]
    assert rows(warehouse, "SELECT feed, count(*) FROM core.fct_touchpoints WHERE customer_id IS NULL "
                           "GROUP BY 1 ORDER BY 1") == [("pos_transactions", 1), ("web_events", 1)]


def test_campaign_reach_counts_again_only_the_campaigns_whose_email_events_changed(tmp_path):
    """int_campaign_email__reach keeps distinct recipients per campaign: an event added to one campaign and the
    only events of another removed change exactly those campaigns; the third is kept as built, and the table
    equals a full build."""
    path = tmp_path / "reach.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA staging")
    con.execute("""CREATE TABLE staging.stg_email_events AS SELECT * FROM (VALUES
        ('C1', 'a@x.org', 'sent'), ('C1', 'b@x.org', 'sent'), ('C1', 'a@x.org', 'opened'), ('C1', 'a@x.org', 'opened'),
        ('C2', 'a@x.org', 'sent'), ('C2', 'c@x.org', 'clicked'),
        ('C3', 'b@x.org', 'sent')) AS events (campaign_id, email, event_type)""")
    con.close()
    build = ("run", "--select", "int_campaign_email__reach", "--quiet")
    reach = "SELECT campaign_id, recipients_sent, recipients_opened, responders FROM intermediate.int_campaign_email__reach"
    with restored_environment():
        os.environ["CRM_WAREHOUSE"] = str(path)
        run_dbt(*build)
        kept = dict(query(path, "SELECT period, fingerprint FROM audit.int_campaign_email__reach__periods"))
        con = duckdb.connect(str(path))
        con.execute("INSERT INTO staging.stg_email_events VALUES ('C1', 'b@x.org', 'clicked')")
        con.execute("DELETE FROM staging.stg_email_events WHERE campaign_id = 'C3'")
        con.close()
        run_dbt(*build)
        incremental = sorted(query(path, reach))
        now = dict(query(path, "SELECT period, fingerprint FROM audit.int_campaign_email__reach__periods"))
        run_dbt(*build, "--full-refresh")
        assert sorted(query(path, reach)) == incremental
    assert incremental == [("C1", 2, 1, 2), ("C2", 1, 0, 1)]  # C1: a and b sent, a opened, a and b responded
    assert set(now) == {"C1", "C2"} and now["C2"] == kept["C2"] and now["C1"] != kept["C1"]
