"""`python -m expectations revalidate`: after a rule is fixed, rows that now pass leave quarantine; the rest stay."""

import json
import shutil
from datetime import date

import duckdb

import expectations.suites
from expectations.__main__ import main
from expectations.revalidate import revalidate
from expectations.validator import validate_days
from ingestion.audit import reconcile
from ingestion.contracts import load_contracts
from ingestion.loader import FeedLoader
from conftest import query, run_dbt
from story import land
from test_kpis import DAY as STORY_DAY, FEEDS

DAY = date(2026, 3, 1)
HEADER = "case_id,email,channel,category,opened_at,csat"


def land_cases(con, landing):
    folder = landing / "service_cases" / f"date={DAY}"
    folder.mkdir(parents=True)
    (folder / "cases.csv").write_text(
        f"{HEADER}\nS1,a@b.com,phone,complaint,2026-03-01 09:00:00,5\n"
        "S2,c@d.com,phone,billing,2026-03-01 09:10:00,4\n"
        "S3,e@f.com,fax,inquiry,2026-03-01 09:20:00,5\n")
    contract = load_contracts()["service_cases"]
    FeedLoader(con, contract, landing).load_day(DAY)
    validate_days(con, contract, DAY, DAY)
    return contract


def edit_rule(tmp_path, monkeypatch, feed: str, rule: str, edit) -> None:
    """Use a copy of the shipped suites in which `edit` changed the kwargs of `feed`'s expectation `rule`."""
    suites = tmp_path / "suites"
    if not suites.exists():
        shutil.copytree(expectations.suites.SUITES_DIR, suites)
    suite = json.loads((suites / f"{feed}.json").read_text())
    for expectation in suite["expectations"]:
        if expectation["meta"]["rule"] == rule:
            edit(expectation["kwargs"])
    (suites / f"{feed}.json").write_text(json.dumps(suite))
    monkeypatch.setattr(expectations.suites, "SUITES_DIR", suites)


def test_fixing_a_rule_releases_the_rows_that_now_pass(tmp_path, monkeypatch):
    con = duckdb.connect()
    contract = land_cases(con, tmp_path / "landing")
    assert con.execute("SELECT case_id, rule FROM quarantine.service_cases q JOIN raw.service_cases r "
                       "USING (_source_file, _row_number) ORDER BY 1").fetchall() == [
        ("S2", "category_in_set"), ("S3", "channel_in_set")]

    # the business added a category
    edit_rule(tmp_path, monkeypatch, "service_cases", "category_in_set", lambda kwargs: kwargs["value_set"].append("billing"))

    [released] = revalidate(con, [contract], "rerun")
    assert (released.before, released.after, released.released) == (2, 1, 1)
    assert released.describe() == "[service_cases] 2026-03-01 .. 2026-03-01: 2 quarantined before, 1 after, " \
                                  "1 released to staging"
    assert con.execute("SELECT rule, offending_value FROM quarantine.service_cases").fetchall() == [("channel_in_set", "fax")]
    [day] = reconcile(con, contract, DAY, DAY, "check")
    assert (day["rows_read"], day["rows_passed"], day["rows_quarantined"], day["balanced"]) == (3, 2, 1, True)


def test_the_command_reports_per_feed(tmp_path, monkeypatch, capsys):
    warehouse = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(warehouse))
    land_cases(con, tmp_path / "landing")
    con.close()
    monkeypatch.setenv("CRM_WAREHOUSE", str(warehouse))
    assert main(["revalidate", "--feed", "service_cases"]) == 0
    assert capsys.readouterr().out == ("[service_cases] 2026-03-01 .. 2026-03-01: 2 quarantined before, "
                                       "2 after, 0 released to staging\n")


def test_the_incremental_event_table_follows_a_revalidation_both_ways(tmp_path, monkeypatch):
    """A rule relaxed releases a quarantined event, a rule tightened quarantines staged ones: the next incremental
    build of stg_email_events takes the first in and the others out (the revalidation logs the day it changed),
    as a full build does."""
    forwarded = dict(FEEDS["email_events"][0], event_id="E-FWD", event_type="forwarded")
    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    land(tmp_path / "landing", con, {"campaigns": FEEDS["campaigns"],
                                     "email_events": FEEDS["email_events"] + [forwarded]}, STORY_DAY)
    con.close()
    monkeypatch.setenv("CRM_WAREHOUSE", str(path))

    def staged() -> set[str]:
        return {event for (event,) in query(path, "SELECT event_id FROM staging.stg_email_events")}

    run_dbt("run", "--select", "stg_email_events", "--quiet")
    before = staged()
    opened = {e["event_id"] for e in FEEDS["email_events"] if e["event_type"] == "opened"}
    assert "E-FWD" not in before and opened <= before and opened

    edit_rule(tmp_path, monkeypatch, "email_events", "event_type_in_set", lambda kwargs: kwargs.update(
        value_set=[v for v in kwargs["value_set"] if v != "opened"] + ["forwarded"]))
    con = duckdb.connect(str(path))
    revalidate(con, [load_contracts()["email_events"]], "rerun")
    con.close()

    run_dbt("run", "--select", "stg_email_events", "--quiet")
    assert staged() == before - opened | {"E-FWD"}
    incremental = query(path, "SELECT * EXCLUDE (_loaded_at) FROM staging.stg_email_events ORDER BY event_id")
    run_dbt("run", "--select", "stg_email_events", "--full-refresh", "--quiet")
    assert query(path, "SELECT * EXCLUDE (_loaded_at) FROM staging.stg_email_events ORDER BY event_id") == incremental


def test_the_order_lines_table_follows_a_redelivery_and_its_quarantine(tmp_path, monkeypatch):
    """stg_order_lines is incremental on a composite key staged from raw text (channel lower-cased, line number
    cast). A line re-delivered on a later day wins; quarantined by a tightened rule, the earlier delivery comes
    back. A line typed '01' compares unequal as text with its staged 1, so it is ranked again, and must stay.
    (A re-validation re-checks the days that hold quarantined rows: the line ordered 0 is one.)"""
    def line(order_id, channel, number, quantity):
        return {"order_id": order_id, "channel": channel, "line_number": number, "sku": "SKU-1",
                "quantity": quantity, "unit_price": "10.00", "discount": None, "ordered_at": "2026-03-01 10:00:00"}

    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    land(tmp_path / "landing", con, {"order_lines": [line("O1", "store", "1", "2"), line("O2", "web", "1", "3")]},
         DAY)
    con.close()
    monkeypatch.setenv("CRM_WAREHOUSE", str(path))

    def staged() -> list[tuple]:
        return query(path, "SELECT order_id, channel, line_number, quantity, _load_date "
                           "FROM staging.stg_order_lines ORDER BY ALL")

    run_dbt("run", "--select", "stg_order_lines", "--quiet")
    later = date(2026, 3, 2)
    con = duckdb.connect(str(path))
    # a line of quantity 0: quarantined, so a re-validation re-checks the day
    land(tmp_path / "landing", con, {"order_lines": [line("O2", "web", "1", "900"), line("O3", "store", "01", "1"),
                                                     line("O4", "web", "1", "0")]}, later)
    con.close()
    run_dbt("run", "--select", "stg_order_lines", "--quiet")
    assert staged() == [("O1", "store", 1, 2, DAY), ("O2", "web", 1, 900, later), ("O3", "store", 1, 1, later)]

    edit_rule(tmp_path, monkeypatch, "order_lines", "quantity_in_range", lambda kwargs: kwargs.update(max_value=500))
    con = duckdb.connect(str(path))
    revalidate(con, [load_contracts()["order_lines"]], "rerun")
    con.close()

    run_dbt("run", "--select", "stg_order_lines", "--quiet")
    incremental = staged()
    assert incremental == [("O1", "store", 1, 2, DAY), ("O2", "web", 1, 3, DAY), ("O3", "store", 1, 1, later)]
    run_dbt("run", "--select", "stg_order_lines", "--full-refresh", "--quiet")
    assert staged() == incremental
