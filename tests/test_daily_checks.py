"""Day-over-day checks: a day far below its recent volume, and a day whose newest event is stale, both fail."""

from datetime import date, timedelta

import duckdb

from expectations.validator import validate_days
from ingestion.contracts import load_contracts
from ingestion.loader import FeedLoader

HEADER = "response_id,email,score,comment,responded_at"
FIRST = date(2026, 3, 1)


def test_row_count_against_recent_days_and_freshness_fail_on_a_bad_day(tmp_path):
    landing = tmp_path / "landing"
    volumes = [60] * 7 + [5]  # a normal week, then a day that lost most of its rows
    for offset, rows in enumerate(volumes):
        day = FIRST + timedelta(days=offset)
        stamp = day - timedelta(days=6) if offset == 7 else day  # the last day's newest event is 6 days old
        folder = landing / "survey_responses" / f"date={day}"
        folder.mkdir(parents=True)
        lines = [f"R{offset}-{n},p{n}@example.com,8,,{stamp} 10:00:00" for n in range(rows)]
        (folder / "part.csv").write_text("\n".join([HEADER, *lines]) + "\n")
    con = duckdb.connect()
    contract = load_contracts()["survey_responses"]
    loader = FeedLoader(con, contract, landing)
    for offset in range(len(volumes)):
        loader.load_day(FIRST + timedelta(days=offset))

    checks = {c.rule: c for c in validate_days(con, contract, FIRST, FIRST + timedelta(days=7)).batch_checks}
    assert not checks["row_count_vs_recent_days"].passed
    assert checks["row_count_vs_recent_days"].observed == "1 of 8 days outside: 2026-03-08 (0.08)"
    assert not checks["fresh_within_2_days"].passed
    assert checks["fresh_within_2_days"].observed == "1 of 8 days outside: 2026-03-08 (6.00)"

    # the first week has no day with 7 loaded days before it: the row count is not judged, rather than passed
    first_week = {c.rule: c for c in validate_days(con, contract, FIRST, FIRST + timedelta(days=6)).batch_checks}
    assert first_week["row_count_vs_recent_days"].passed is None
    assert first_week["row_count_vs_recent_days"].observed.startswith("not judged: none of the 7 days has 7 loaded days")
    assert first_week["fresh_within_2_days"].passed


def test_a_normal_day_after_a_full_week_passes(tmp_path):
    landing = tmp_path / "landing"
    for offset in range(9):
        day = FIRST + timedelta(days=offset)
        folder = landing / "survey_responses" / f"date={day}"
        folder.mkdir(parents=True)
        rows = 60 + 5 * (offset % 3)
        lines = [f"R{offset}-{n},p{n}@example.com,8,,{day} 10:00:00" for n in range(rows)]
        (folder / "part.csv").write_text("\n".join([HEADER, *lines]) + "\n")
    con = duckdb.connect()
    contract = load_contracts()["survey_responses"]
    loader = FeedLoader(con, contract, landing)
    for offset in range(9):
        loader.load_day(FIRST + timedelta(days=offset))
    checks = {c.rule: c for c in validate_days(con, contract, FIRST, FIRST + timedelta(days=8)).batch_checks}
    assert checks["row_count_vs_recent_days"].passed
    assert checks["row_count_vs_recent_days"].observed == "all 2 judged days of 9 within"
