"""The suites' row rules compiled to SQL (expectations/row_sql.py) quarantine exactly the rows GX quarantines, with
the same rule and outcome: on DuckDB, and on Spark over the same raw rows. The input is every rule broken once
(the corpus of test_row_rules.py) and three weeks of generated feeds with their injected faults."""

import shutil
from datetime import date, datetime

import duckdb
import pytest

from expectations.row_sql import DUCKDB, SPARK, failures_sql
from expectations.suites import load_suite
from expectations.validator import validate_days
from ingestion.audit import MALFORMED_RULES
from ingestion.contracts import load_contracts
from ingestion.generator.writer import GeneratorConfig, generate
from ingestion.loader import FeedLoader
from test_row_rules import corpus, write

CORPUS_DAY, FIRST, LAST = date(2026, 3, 1), date(2026, 2, 8), date(2026, 2, 28)
NOW = datetime(2026, 3, 2, 12, 0)
FEEDS = list(load_contracts())  # campaigns before email events, which refer to them


def _quarantined_by_gx(con, feed: str) -> set[tuple]:
    return set(con.execute(
        f"SELECT _source_file, _row_number, rule, column_name, outcome FROM quarantine.{feed} "
        f"WHERE rule NOT IN {MALFORMED_RULES}").fetchall())


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    """Both inputs loaded and validated by GX in one DuckDB warehouse; its path and GX's quarantine per feed."""
    root = tmp_path_factory.mktemp("rules-sql")
    landing = root / "landing"
    generate(GeneratorConfig(customers=300, days=(LAST - FIRST).days + 1, seed=3, end_date=LAST), landing,
             root / "truth")
    path = root / "crm.duckdb"
    con = duckdb.connect(str(path))
    for feed, contract in load_contracts().items():
        write(landing / feed / f"date={CORPUS_DAY}", feed, contract.format, corpus(feed)[0], con)
    for feed, contract in load_contracts().items():
        FeedLoader(con, contract, landing).load_days(
            [date.fromordinal(d) for d in range(FIRST.toordinal(), CORPUS_DAY.toordinal() + 1)])
        validate_days(con, contract, FIRST, CORPUS_DAY, now=NOW)
    expected = {feed: _quarantined_by_gx(con, feed) for feed in FEEDS}
    con.close()
    return path, expected


def _sql(feed: str, dialect) -> str:
    return failures_sql(load_contracts()[feed], load_suite(feed), dialect, NOW, f"raw.{feed}", FEEDS)


def test_the_input_breaks_every_kind_of_rule(landed):
    _, expected = landed
    rules = {rule for rows in expected.values() for _, _, rule, _, _ in rows}
    outcomes = {outcome for rows in expected.values() for *_, outcome in rows}
    assert len(rules) >= 40 and outcomes == {"row_quarantined", "attribute_nulled"}
    assert sum(len(rows) for rows in expected.values()) > 100


@pytest.mark.parametrize("feed", FEEDS)
def test_sql_on_duckdb_quarantines_what_gx_quarantines(landed, feed):
    path, expected = landed
    con = duckdb.connect(str(path), read_only=True)
    try:
        actual = set(con.execute(_sql(feed, DUCKDB)).fetchall())
    finally:
        con.close()
    assert actual == expected[feed], (sorted(actual - expected[feed])[:5], sorted(expected[feed] - actual)[:5])


@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (`make java` installs it)")
def test_sql_on_spark_quarantines_what_gx_quarantines(landed, tmp_path, monkeypatch):
    from ingestion.settings import get_settings
    from scaleout.spark_session import spark_session
    from scaleout.table_copy import duckdb_to_spark

    path, expected = landed
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    con = duckdb.connect(str(path), read_only=True)
    try:
        with spark_session(get_settings()) as spark:
            duckdb_to_spark(con, spark, [f"raw.{feed}" for feed in FEEDS])
            actual = {feed: {tuple(row) for row in spark.sql(_sql(feed, SPARK)).collect()} for feed in FEEDS}
    finally:
        con.close()
    differing = {feed: (sorted(actual[feed] - expected[feed])[:3], sorted(expected[feed] - actual[feed])[:3])
                 for feed in FEEDS if actual[feed] != expected[feed]}
    assert not differing
