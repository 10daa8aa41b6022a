"""Staging standardises identifiers: exact outputs for emails, phones and names, run through dbt."""

from datetime import date

import duckdb
import pytest

from conftest import run_dbt
from ingestion.contracts import load_contracts
from ingestion.loader import FeedLoader

DAY = date(2026, 5, 1)
HEADER = ("case_id,email,phone,first_name,last_name,channel,category,agent_id,opened_at,first_response_at,"
          "resolved_at,contacts,csat,renewal_outcome")
CASES = {
    # case_id: (email, phone, first_name, last_name)
    "K1": ("  John.Smith@Example.COM ", "+44 7700 900123", "  JOHN ", "Smith"),
    "K2": ("MARY@mail.co.uk", "07700 900123", "Zoë", "O'Brien"),
    "K3": ("not-an-email", "0044 7700900123", "anne  marie", "van  der Berg"),
    "K4": ("", "(07700) 900-123", "", "Lee"),
    "K5": ("a@b", "00000000000", "Bob", "Jones"),
    "K6": ("x@y.org", "+44 (0)20 7946 0123", "Al", "Ng"),
    "K7": ("z@q.io", "12345", "Al", "Ng"),
    "K8": ("z@q.io", "447700900123", "Al", "Ng"),
}
EXPECTED = {
    "K1": ("john.smith@example.com", "+447700900123", "john", "smith"),
    "K2": ("mary@mail.co.uk", "+447700900123", "zoe", "o'brien"),
    "K3": (None, "+447700900123", "anne marie", "van der berg"),
    "K4": (None, "+447700900123", None, "lee"),
    "K5": (None, None, "bob", "jones"),
    "K6": ("x@y.org", "+442079460123", "al", "ng"),
    "K7": ("z@q.io", None, "al", "ng"),
    "K8": ("z@q.io", "+447700900123", "al", "ng"),
}


@pytest.fixture(scope="module")
def staged(tmp_path_factory, monkeypatch_module):
    root = tmp_path_factory.mktemp("std")
    warehouse = root / "std.duckdb"
    folder = root / "landing" / "service_cases" / f"date={DAY.isoformat()}"
    folder.mkdir(parents=True)
    lines = [HEADER] + [f'{k},"{e}","{p}","{f}","{l}",phone,inquiry,AG01,2026-05-01 09:00:00,,,1,,'
                        for k, (e, p, f, l) in CASES.items()]
    (folder / "cases.csv").write_text("\n".join(lines) + "\n")
    con = duckdb.connect(str(warehouse))
    FeedLoader(con, load_contracts()["service_cases"], root / "landing").load_day(DAY)
    con.close()
    monkeypatch_module.setenv("CRM_WAREHOUSE", str(warehouse))
    run_dbt("run", "--select", "stg_service_cases", "--quiet")
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute("SELECT case_id, email, phone, first_name, last_name FROM staging.stg_service_cases").fetchall()
    con.close()
    return {r[0]: r[1:] for r in rows}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.parametrize("case_id", sorted(EXPECTED))
def test_identifiers_are_standardised(staged, case_id):
    assert staged[case_id] == EXPECTED[case_id]
