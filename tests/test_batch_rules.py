"""Batch rules judge the run's rows as a whole; ids reach GX as 64-bit hashes and are judged as the text was."""

from datetime import date, timedelta

import duckdb
import pandas as pd

from expectations import validator
from ingestion.contracts import load_contracts
from ingestion.generator import GeneratorConfig, generate
from ingestion.loader import FeedLoader

END = date(2026, 6, 30)
DAYS = 10


def test_duplicate_share_is_measured_exactly_on_hashed_ids(tmp_path, monkeypatch):
    generate(GeneratorConfig(2000, DAYS, 7, end_date=END), tmp_path / "landing", tmp_path / "truth")
    contract = load_contracts()["email_events"]
    first = END - timedelta(days=DAYS - 1)
    con = duckdb.connect()
    FeedLoader(con, contract, tmp_path / "landing").load_days([first + timedelta(days=n) for n in range(DAYS)])
    # a sender that reuses event ids: every fifth row repeats one of three ids
    con.execute("UPDATE raw.email_events SET event_id = 'REUSED-' || (_row_number % 3) WHERE _row_number % 5 = 0")
    # the batch is every row whose values parse as the contract's types
    (share_in_sql,), = con.execute(
        "SELECT count(DISTINCT event_id) / count(event_id) FROM raw.email_events "
        "WHERE try_cast(trim(event_at) AS TIMESTAMP) IS NOT NULL OR nullif(trim(event_at), '') IS NULL").fetchall()

    hashed = {c.rule: c for c in validator.validate_days(con, contract, first, END).batch_checks}
    monkeypatch.setattr(validator, "HASHABLE", set())
    as_text = {c.rule: c for c in validator.validate_days(con, contract, first, END).batch_checks}

    duplicates = hashed["duplicate_share_below_5pct"]
    assert not duplicates.passed and duplicates.observed == share_in_sql < 0.95
    assert [(c.rule, c.passed, c.observed) for c in hashed.values()] == \
           [(c.rule, c.passed, c.observed) for c in as_text.values()]


def test_only_columns_read_by_counting_rules_are_hashed():
    frame = pd.DataFrame({"event_id": ["a", "b", "a", None], "email": ["x@y.z", None, "x@y.z", "w@y.z"],
                          validator.ROW_ID: range(4)})
    expectations = [
        {"type": "expect_column_proportion_of_unique_values_to_be_between", "kwargs": {"column": "event_id"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "email"}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "email", "regex": "@"}},
    ]

    columns = validator._batch_columns(expectations, frame)

    assert str(columns["event_id"].dtype) == "UInt64" and columns["email"].dtype == object
    assert columns["event_id"].isna().tolist() == [False, False, False, True]
    assert columns["event_id"][0] == columns["event_id"][2] != columns["event_id"][1]
