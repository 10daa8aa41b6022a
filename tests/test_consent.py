"""Consent is the customer's latest statement, from any channel, on hand-made histories (all 2026):

  Ann  CRM sign-up Jan 1 with email yes / SMS no; unsubscribes from an email Jan 10; re-opts in at the CRM
       Feb 1 (SMS not stated then)                          -> email yes (CRM, Feb 1), SMS no (CRM, Jan 1)
  Bob  CRM email yes Jan 1; a CRM update at 09:00 on Mar 1 still says yes; he unsubscribes at 10:00 that
       day                                                  -> email no (email_events, Mar 1 10:00)
  Cat  CRM email yes at Mar 5 12:00 and an unsubscribe at the same instant -> email no: a withdrawal wins
  Dan  known only from email events, unsubscribed Feb 2     -> email no (email_events)
  Eve  known only from email events, never stated anything  -> email unknown (null), SMS unknown
"""

from datetime import date

import duckdb
import pytest

from story import build_story_warehouse

DAY = date(2026, 3, 31)


def contact(contact_id, first, last, email, updated_at, email_opt_in=None, sms_opt_in=None):
    return dict(contact_id=contact_id, first_name=first, last_name=last, email=email, signup_date="2026-01-01",
                updated_at=updated_at, email_opt_in=email_opt_in, sms_opt_in=sms_opt_in)


def email_event(event_id, email, kind, at):
    return dict(event_id=event_id, campaign_id="CMP-1", email=email, event_type=kind, event_at=at)


FEEDS = {
    "crm_contacts": [
        contact("K1", "Ann", "Ames", "ann@shop.org", "2026-01-01 10:00:00", "true", "false"),
        contact("K1", "Ann", "Ames", "ann@shop.org", "2026-02-01 10:00:00", "true"),
        contact("K2", "Bob", "Burr", "bob@shop.org", "2026-01-01 10:00:00", "true"),
        contact("K2", "Bob", "Burr", "bob@shop.org", "2026-03-01 09:00:00", "true"),
        contact("K3", "Cat", "Cole", "cat@shop.org", "2026-03-05 12:00:00", "true"),
    ],
    "email_events": [
        email_event("E1", "ann@shop.org", "unsubscribed", "2026-01-10 10:00:00"),
        email_event("E2", "bob@shop.org", "unsubscribed", "2026-03-01 10:00:00"),
        email_event("E3", "cat@shop.org", "unsubscribed", "2026-03-05 12:00:00"),
        email_event("E4", "dan@shop.org", "unsubscribed", "2026-02-02 10:00:00"),
        email_event("E5", "eve@shop.org", "sent", "2026-02-02 08:00:00"),
        email_event("E6", "eve@shop.org", "opened", "2026-02-02 09:00:00"),
    ],
    "campaigns": [dict(campaign_id="CMP-1", campaign_name="Winter", channel="email", campaign_code="EM001",
                       start_date="2026-01-01", end_date="2026-03-31", cost="10.00")],
    "pos_transactions": [dict(receipt_id="R1", store_id="S1", transaction_at="2026-01-05 10:00:00",
                              status="completed", amount="10.00")],
}


@pytest.fixture(scope="module")
def consent(tmp_path_factory):
    root = tmp_path_factory.mktemp("consent")
    with pytest.MonkeyPatch.context() as patch:
        path = build_story_warehouse(root, FEEDS, DAY, patch)
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def by_person(con, sql_columns: str) -> dict:
    """Rows of dim_customers keyed by the email that identifies the person in the story."""
    return {row[0]: row[1:] for row in con.execute(
        f"SELECT email, {sql_columns} FROM core.dim_customers WHERE email IS NOT NULL").fetchall()}


def test_email_consent_is_the_latest_statement_from_any_source(consent):
    seen = by_person(consent, "email_opt_in, email_consent_source, strftime(email_consent_at, '%m-%d %H:%M')")
    assert seen == {
        "ann@shop.org": (True, "crm_contacts", "02-01 10:00"),
        "bob@shop.org": (False, "email_events", "03-01 10:00"),
        "cat@shop.org": (False, "email_events", "03-05 12:00"),
        "dan@shop.org": (False, "email_events", "02-02 10:00"),
        "eve@shop.org": (None, None, None),
    }


def test_sms_consent_keeps_the_last_statement_that_stated_it(consent):
    seen = by_person(consent, "sms_opt_in, sms_consent_source, strftime(sms_consent_at, '%m-%d')")
    assert seen["ann@shop.org"] == (False, "crm_contacts", "01-01")
    assert seen["bob@shop.org"] == seen["dan@shop.org"] == seen["eve@shop.org"] == (None, None, None)


def test_one_consent_row_per_customer_and_channel_with_a_statement(consent):
    rows = consent.execute("SELECT channel, count(*), count(DISTINCT customer_id) FROM core.customer_consent "
                           "GROUP BY 1 ORDER BY 1").fetchall()
    assert rows == [("email", 4, 4), ("sms", 1, 1)]  # Eve has no row: unknown is not yes
