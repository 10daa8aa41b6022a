"""Ingestion on Spark (scaleout/spark_ingest.py) keeps DuckDB's contract on the same landing days: the same raw rows
with the same file and record numbers, the same quarantine (unparseable records, type and row rules, with the
same messages), the same manifest and a balanced reconciliation; and loading a day again changes nothing.

The landing is three weeks of generated feeds with their injected faults, every row rule broken once, and a day of
broken files: ragged and non-UTF-8 CSV rows, malformed JSON lines, an empty file, a header-only file, a file
without a required column, a re-delivered file and a file of the wrong format."""

import dataclasses
import shutil
from datetime import date

import duckdb
import pytest

from ingestion.audit import MALFORMED_RULES
from ingestion.contracts import load_contracts
from test_row_rules_sql import CORPUS_DAY, FEEDS, FIRST, NOW, landed  # noqa: F401  (the module's landing fixture)

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (`make java` installs it)")

DAYS = [date.fromordinal(d) for d in range(FIRST.toordinal(), CORPUS_DAY.toordinal() + 1)]
SURVEY_HEADER = "response_id,email,score,comment,responded_at"


def add_broken_files(landing) -> None:
    survey = landing / "survey_responses" / f"date={CORPUS_DAY}"
    (survey / "empty.csv").write_bytes(b"")
    (survey / "header_only.csv").write_text(SURVEY_HEADER + "\n")
    (survey / "no_email.csv").write_text("response_id,score,responded_at\nR3,5,2026-03-01 10:00:00\n")
    (survey / "drift.csv").write_text(f"{SURVEY_HEADER},channel\nR4,e@f.com,10,,2026-03-01 09:00:00,app\n")
    (survey / "latin1.csv").write_bytes(f"{SURVEY_HEADER}\nR5,g@h.com,7,caf\xe9,2026-03-01 09:00:00\n"
                                        f"R6,i@j.com,8,,2026-03-01 09:30:00\n".encode("latin-1"))
    (survey / "ragged.csv").write_text(f"{SURVEY_HEADER}\nR7,k@l.com,6,,2026-03-01 08:00:00\n"
                                       f"R8,m@n.com,6,a,b,2026-03-01 08:00:00\nR9,o@p.com,6\n")
    (survey / "notes.txt").write_text("hello")
    earlier = sorted((landing / "survey_responses").glob("date=2026-02-*/*.csv"))[0]
    shutil.copy(earlier, survey / "redelivered.csv")
    events = landing / "web_events" / f"date={CORPUS_DAY}"
    (events / "broken.jsonl").write_text('{"event_id": "E1", "cookie_id": "c1", "event_type": "login", '
                                         '"event_at": "2026-03-01 10:00:00"}\n{"event_id": "E2", \n[1, 2]\n\n'
                                         '{"event_id": "E3", "cookie_id": "c3", "event_type": "login", '
                                         '"event_at": "2026-03-01 11:00:00", "campaign": "x"}\n')


@pytest.fixture(scope="module")
def both(landed, tmp_path_factory):  # noqa: F811
    """DuckDB's warehouse loaded the old way and a Spark warehouse loaded by SparkFeedLoader (twice for the last
    day), with the landing's broken files added to both; the Spark tables copied into a DuckDB file to compare."""
    from ingestion.audit import reconcile
    from ingestion.loader import FeedLoader
    from ingestion.settings import get_settings
    from expectations.validator import validate_days
    from scaleout.spark_ingest import SparkFeedLoader
    from scaleout.spark_session import spark_session
    from scaleout.table_copy import spark_to_duckdb

    path, _ = landed
    landing = path.parent / "landing"
    add_broken_files(landing)
    work = tmp_path_factory.mktemp("spark-ingest")
    duck = work / "duckdb.duckdb"
    con = duckdb.connect(str(duck))
    for contract in load_contracts().values():
        FeedLoader(con, contract, landing).load_days(DAYS)
        validate_days(con, contract, FIRST, CORPUS_DAY, now=NOW)
        reconcile(con, contract, FIRST, CORPUS_DAY, "duckdb")
    con.close()
    settings = dataclasses.replace(get_settings(), data_dir=work / "spark-data")
    spark_copy = work / "spark.duckdb"
    loads, reloads = {}, {}
    with spark_session(settings) as spark:
        for contract in load_contracts().values():
            loads[contract.feed] = SparkFeedLoader(spark, contract, landing).load_days(DAYS, "spark", now=NOW)
        for feed in ("survey_responses", "web_events", "crm_contacts"):
            reloads[feed] = SparkFeedLoader(spark, load_contracts()[feed], landing).load_days(
                [CORPUS_DAY], "spark-again", now=NOW)
        target = duckdb.connect(str(spark_copy))
        spark_to_duckdb(spark, target, [f"{schema}.{feed}" for feed in FEEDS for schema in ("raw", "quarantine")]
                        + ["audit.load_manifest", "audit.load_reconciliation"])
        target.close()
    return duck, spark_copy, loads, reloads


def _rows(path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return sorted(con.execute(sql).fetchall(), key=repr)
    finally:
        con.close()


@pytest.mark.parametrize("feed", FEEDS)
def test_raw_rows_are_the_same(both, feed):
    duck, spark, *_ = both
    columns = ", ".join(load_contracts()[feed].column_names)
    sql = (f"SELECT _source_file, _row_number, _load_date, _file_checksum, _extra_columns, {columns} "
           f"FROM raw.{feed}")
    expected, actual = _rows(duck, sql), _rows(spark, sql)
    assert len(expected) > 0 and actual == expected


@pytest.mark.parametrize("feed", FEEDS)
def test_quarantine_is_the_same(both, feed):
    duck, spark, *_ = both
    rules = ("SELECT _source_file, _row_number, _load_date, rule, column_name, offending_value, outcome, "
             f"CASE WHEN rule IN {MALFORMED_RULES} THEN NULL ELSE message END FROM quarantine.{feed}")
    assert _rows(spark, rules) == _rows(duck, rules)


def test_broken_files_are_named_and_counted_as_on_duckdb(both):
    duck, spark, loads, _ = both
    sql = ("SELECT feed, load_date, file_path, checksum, status, rows_read, rows_loaded, rows_rejected, message "
           "FROM audit.load_manifest")
    assert _rows(spark, sql) == _rows(duck, sql)
    statuses = {f.file.split("/")[-1]: f.status for f in loads["survey_responses"].files}
    assert {statuses[n] for n in ("empty.csv", "header_only.csv")} == {"empty"}
    assert statuses["no_email.csv"] == statuses["notes.txt"] == "failed" and statuses["redelivered.csv"] == "duplicate"
    malformed = _rows(spark, "SELECT rule, count(*) FROM quarantine.survey_responses "
                             f"WHERE rule IN {MALFORMED_RULES} GROUP BY 1")
    assert malformed == [("invalid_encoding", 1), ("malformed_row", 2)]
    assert _rows(spark, "SELECT _row_number FROM quarantine.web_events WHERE rule = 'malformed_json' "
                        "AND _source_file LIKE '%broken.jsonl'") == [(2,), (3,)]


def test_every_day_balances_as_on_duckdb(both):
    duck, spark, loads, _ = both
    assert all(load.balanced for load in loads.values())
    sql = ("SELECT feed, load_date, files_loaded, files_skipped_duplicate, files_failed, rows_read, rows_passed, "
           "rows_quarantined, redeliveries_removed, rows_unique, balanced, rows_attribute_nulled "
           "FROM audit.load_reconciliation")
    expected = _rows(duck, sql)
    assert len(expected) >= len(DAYS) * 3 and all(row[10] for row in expected)
    assert _rows(spark, sql) == expected


def test_loading_a_day_again_changes_nothing(both):
    _, _, loads, reloads = both
    for feed, again in reloads.items():
        [before] = [day for day in loads[feed].balance if day["load_date"] == CORPUS_DAY]
        [after] = again.balance
        figures = ("rows_read", "rows_passed", "rows_quarantined", "rows_attribute_nulled", "files_loaded")
        assert {k: after[k] for k in figures} == {k: before[k] for k in figures}
