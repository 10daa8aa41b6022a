"""Every row-level rule of every suite, broken once: the row goes to quarantine with the exact message (or, for a
rule that nulls an optional attribute, passes with the attribute nulled and the fault recorded), the valid row
beside it passes, and the feed's counts balance.

The corpus is one valid row per feed (tests/corpus/valid_rows.json); the breaking rows are derived from the
suite files, so a rule added to a suite is tested without touching this file.
"""

import csv
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from expectations.suites import expectations_at, load_suite
from expectations.row_sql import SQL_TYPES, outcome_of
from expectations.validator import validate_days
from ingestion.audit import reconcile
from ingestion.contracts import load_contracts
from ingestion.loader import FeedLoader

DAY = date(2026, 3, 1)
VALID_ROWS = json.loads((Path(__file__).parent / "corpus" / "valid_rows.json").read_text())


def breaking_value(expectation: dict, contract) -> tuple[str, str | None]:
    """The column and a value that breaks this expectation and nothing else."""
    kind, kwargs = expectation["type"], expectation["kwargs"]
    column = kwargs.get("column") or kwargs.get("column_A")
    column_type = contract.column(column).type
    if kind == "expect_column_values_to_not_be_null":
        return column, None
    if kind == "expect_column_values_to_be_in_set":
        return column, "no_such_value"
    if kind == "expect_column_values_to_match_regex":
        return column, "not valid!"
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        return column, "2000-01-01 00:00:00"
    if kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if column_type in ("integer", "decimal"):
            return column, str(low - 1) if low is not None else str(high + 1)
        if low is not None and low != "$now":
            return column, "1899-12-31"
        return column, "2999-01-01" if column_type == "date" else "2999-01-01 00:00:00"
    raise AssertionError(f"no breaking value for {kind}: add one to this test")


def corpus(feed: str) -> tuple[list[dict], list[tuple[str, str, str | None, str]]]:
    """Rows (valid first) and, for row 2 onwards, the (rule, column, value, outcome) each one breaks."""
    contract = load_contracts()[feed]
    valid = VALID_ROWS[feed]
    key = contract.natural_key[0]
    rows, broken = [valid], []
    for expectation in expectations_at(load_suite(feed), "row"):
        column, value = breaking_value(expectation, contract)
        broken.append((expectation["meta"]["rule"], column, value, outcome_of(expectation)))
    for column in (c for c in contract.columns if c.type in SQL_TYPES):
        broken.append((f"{column.name}_is_{column.type}", column.name, "abc", "row_quarantined"))
    for n, (_, column, value, _) in enumerate(broken, start=2):
        row = dict(valid, **{key: f"{valid[key]}-{n}"})
        row[column] = value
        rows.append(row)
    return rows, broken


def write(folder: Path, feed: str, fmt: str, rows: list[dict], con) -> str:
    folder.mkdir(parents=True)
    if fmt == "csv":
        with open(folder / f"{feed}.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return f"{feed}.csv"
    if fmt == "jsonl":
        (folder / f"{feed}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return f"{feed}.jsonl"
    import pandas as pd
    frame = pd.DataFrame(rows).astype("string")
    con.execute(f"COPY (SELECT * FROM frame) TO '{folder / f'{feed}.parquet'}' (FORMAT parquet)")
    return f"{feed}.parquet"


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """Land and validate every feed's corpus in one warehouse (campaigns first: email events refer to them)."""
    landing = tmp_path_factory.mktemp("rules") / "landing"
    con = duckdb.connect()
    outcome = {}
    for feed, contract in load_contracts().items():
        rows, broken = corpus(feed)
        name = write(landing / feed / f"date={DAY}", feed, contract.format, rows, con)
        FeedLoader(con, contract, landing).load_day(DAY)
        validation = validate_days(con, contract, DAY, DAY)
        balance = reconcile(con, contract, DAY, DAY, "test-run")
        outcome[feed] = (f"{feed}/date={DAY}/{name}", broken, validation, balance)
    return con, outcome


@pytest.mark.parametrize("feed", sorted(load_contracts()))
def test_each_row_rule_quarantines_its_row_with_the_exact_message(validated, feed):
    con, outcome = validated
    file, broken, validation, balance = outcome[feed]
    contract = load_contracts()[feed]

    def shown(column, value):  # personal values appear in messages by their length only
        if value is None:
            return "null"
        return f"<personal data, {len(value)} characters>" if contract.column(column).pii else f"'{value}'"

    kept = {"attribute_nulled": lambda column: f" (row kept, {column} nulled)", "row_quarantined": lambda _: ""}
    expected = [
        (n, rule, column, value, outcome, f"[{feed}] {file} row {n}: rule {rule} failed on {column} = "
                                          f"{shown(column, value)}{kept[outcome](column)}")
        for n, (rule, column, value, outcome) in enumerate(broken, start=2)
    ]
    actual = con.execute(f"SELECT _row_number, rule, column_name, offending_value, outcome, message "
                         f"FROM quarantine.{feed} ORDER BY _row_number").fetchall()
    missing = [row for row in expected if row not in actual]
    assert not missing, f"rows not quarantined as expected: {missing}"
    # a row may break a second rule too (a future created_at is also before converted_at), never a valid row
    assert {row[0] for row in actual} == {row[0] for row in expected}
    nulled = sum(outcome == "attribute_nulled" for *_, outcome in broken)
    assert validation.rows_checked == len(broken) + 1 and validation.rows_quarantined == len(broken) - nulled
    assert validation.rows_attribute_nulled == nulled
    [day] = balance
    assert (day["rows_read"], day["rows_passed"], day["rows_quarantined"], day["rows_attribute_nulled"],
            day["balanced"]) == (len(broken) + 1, 1 + nulled, len(broken) - nulled, nulled, True)
    assert {c.rule for c in validation.batch_checks if c.passed is False} <= {"identifier_coverage",
                                                                          "duplicate_share_below_5pct"}
