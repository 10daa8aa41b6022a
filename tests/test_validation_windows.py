"""A long run is validated in windows of days (bounded pandas batches); the outcome is the same as in one batch."""

import gc
import weakref
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from expectations import validator
from ingestion.contracts import load_contracts
from ingestion.generator import GeneratorConfig, generate
from ingestion.loader import FeedLoader

END = date(2026, 6, 30)
DAYS = 30


def _quarantine(con, feed: str) -> set[tuple]:
    return set(con.execute(f"SELECT _source_file, _row_number, rule, column_name, offending_value "
                           f"FROM quarantine.{feed}").fetchall())


def test_windows_of_days_quarantine_the_same_rows_and_judge_the_batch_whole(tmp_path, monkeypatch):
    generate(GeneratorConfig(400, DAYS, 7, end_date=END), tmp_path / "landing", tmp_path / "truth")
    contract = load_contracts()["email_events"]
    first = END - timedelta(days=DAYS - 1)
    con = duckdb.connect()
    FeedLoader(con, contract, tmp_path / "landing").load_days([first + timedelta(days=n) for n in range(DAYS)])

    whole = validator.validate_days(con, contract, first, END)
    in_one_batch = _quarantine(con, contract.feed)
    monkeypatch.setattr(validator, "MAX_BATCH_ROWS", whole.rows_checked // 7)
    assert len(validator._day_windows(con, contract, (first, END))) > 2  # campaigns send on a few days
    windowed = validator.validate_days(con, contract, first, END)

    assert whole.rows_quarantined > 0 and windowed.rows_quarantined == whole.rows_quarantined
    assert _quarantine(con, contract.feed) == in_one_batch
    assert windowed.failures_by_rule == whole.failures_by_rule
    assert [(c.rule, c.passed, c.observed) for c in windowed.batch_checks] == \
           [(c.rule, c.passed, c.observed) for c in whole.batch_checks]


def test_a_validated_window_is_not_kept_by_gx():
    """GX's execution engine caches every batch it validates; each window's frame must be freed after its run,
    or a year's backfill holds every window at once."""
    frame = pd.DataFrame({"email": ["a@example.com", None], validator.ROW_ID: range(2)})
    expectations = [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "email"},
                     "meta": {"rule": "email_required"}}]
    result = validator._run_suite("email_events", expectations, datetime.now(), None, frame,
                                  {"result_format": "COMPLETE", "unexpected_index_column_names": [validator.ROW_ID]})
    assert not result.success and [row[validator.ROW_ID] for row in result.results[0].result["unexpected_index_list"]] == [1]

    freed = weakref.ref(frame)
    del frame
    gc.collect()
    assert freed() is None
    assert not validator._gx_context().data_sources.all()
