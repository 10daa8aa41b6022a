"""File-level faults: each is named (feed, file, rule), recorded, and never stops the other files."""

from datetime import date

import duckdb
import pytest

from ingestion.contracts import load_contracts
from ingestion.loader import FeedLoader

DAY = date(2026, 3, 1)
HEADER = "response_id,email,score,comment,responded_at"


@pytest.fixture
def landing(tmp_path):
    folder = tmp_path / "landing" / "survey_responses" / f"date={DAY.isoformat()}"
    folder.mkdir(parents=True)
    return tmp_path / "landing", folder


def load(landing_dir, day=DAY):
    con = duckdb.connect()
    loader = FeedLoader(con, load_contracts()["survey_responses"], landing_dir)
    return con, loader, loader.load_day(day)


def by_name(result):
    return {f.file.split("/")[-1]: f for f in result.files}


def test_each_bad_file_is_named_and_the_good_one_still_loads(landing):
    landing_dir, folder = landing
    (folder / "good.csv").write_text(f"{HEADER}\nR1,a@b.com,9,,2026-03-01 10:00:00\nR2,c@d.com,3,bad,2026-03-01 11:00:00\n")
    (folder / "empty.csv").write_bytes(b"")
    (folder / "header_only.csv").write_text(HEADER + "\n")
    (folder / "no_email.csv").write_text("response_id,score,responded_at\nR3,5,2026-03-01 10:00:00\n")
    (folder / "drift.csv").write_text(f"{HEADER},channel\nR4,e@f.com,10,,2026-03-01 09:00:00,app\n")
    (folder / "latin1.csv").write_bytes(f"{HEADER}\nR5,g@h.com,7,caf\xe9,2026-03-01 09:00:00\nR6,i@j.com,8,,2026-03-01 09:30:00\n".encode("latin-1"))
    (folder / "ragged.csv").write_text(f"{HEADER}\nR7,k@l.com,6,,2026-03-01 08:00:00\nR8,m@n.com,6,a,b,2026-03-01 08:00:00\n")
    (folder / "good_again.csv").write_text((folder / "good.csv").read_text())
    (folder / "notes.txt").write_text("hello")
    con, _, result = load(landing_dir)
    files = by_name(result)
    assert files["good.csv"].status == "loaded" and files["good.csv"].rows_loaded == 2
    assert files["empty.csv"].status == "empty" and files["empty.csv"].message == "empty file (0 bytes)"
    assert files["header_only.csv"].status == "empty" and files["header_only.csv"].message == "header only: no data rows"
    assert files["no_email.csv"].status == "failed"
    assert files["no_email.csv"].message.startswith("missing required column(s) ['email']")
    assert "schema drift: unknown column(s) ['channel'] kept in _extra_columns" in files["drift.csv"].message
    assert files["drift.csv"].rows_loaded == 1
    assert con.execute("SELECT _extra_columns FROM raw.survey_responses WHERE response_id = 'R4'").fetchall() == [('{"channel":"app"}',)]
    assert files["latin1.csv"].rows_loaded == 1 and files["latin1.csv"].rows_rejected == 1
    assert "non-UTF-8 bytes from byte" in files["latin1.csv"].message
    assert files["ragged.csv"].rows_loaded == 1 and files["ragged.csv"].rows_rejected == 1
    assert files["good_again.csv"].status == "duplicate"
    assert "same checksum as survey_responses/date=2026-03-01/" in files["good_again.csv"].message
    assert files["notes.txt"].status == "failed" and files["notes.txt"].message.startswith("wrong format: expected .csv")
    quarantined = con.execute("SELECT _source_file, _row_number, rule, message FROM quarantine.survey_responses "
                              "ORDER BY _source_file").fetchall()
    assert quarantined == [
        ("survey_responses/date=2026-03-01/latin1.csv", 1, "invalid_encoding",
         "[survey_responses] survey_responses/date=2026-03-01/latin1.csv row 1: invalid encoding"),
        ("survey_responses/date=2026-03-01/ragged.csv", 2, "malformed_row",
         "[survey_responses] survey_responses/date=2026-03-01/ragged.csv row 2: too many columns"),
    ]
    # the quarantined line is the line as delivered: the byte that is not UTF-8 is escaped, no comma is lost
    assert con.execute("SELECT record FROM quarantine.survey_responses WHERE rule = 'invalid_encoding'").fetchall() == [
        ("R5,g@h.com,7,caf\\xe9,2026-03-01 09:00:00",)]
    # record numbers count malformed records too: R7 is record 1, R6 is record 2 of its file
    assert con.execute("SELECT _row_number FROM raw.survey_responses WHERE response_id = 'R6'").fetchall() == [(2,)]


def test_reloading_a_day_replaces_it_and_a_file_seen_on_another_day_is_skipped(landing, tmp_path):
    landing_dir, folder = landing
    (folder / "a.csv").write_text(f"{HEADER}\nR1,a@b.com,9,,2026-03-01 10:00:00\n")
    con = duckdb.connect()
    loader = FeedLoader(con, load_contracts()["survey_responses"], landing_dir)
    loader.load_day(DAY)
    loader.load_day(DAY)
    assert con.execute("SELECT count(*) FROM raw.survey_responses").fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM audit.load_manifest").fetchall() == [(1,)]
    later = landing_dir / "survey_responses" / "date=2026-03-02"
    later.mkdir()
    (later / "resent.csv").write_text((folder / "a.csv").read_text())
    result = loader.load_day(date(2026, 3, 2))
    assert result.files[0].status == "duplicate"
    assert "(loaded for 2026-03-01)" in result.files[0].message
    assert con.execute("SELECT count(*) FROM raw.survey_responses").fetchall() == [(1,)]
    # both days re-run in one load: the copy still names the other day it was loaded for, not "same delivery"
    first, second = loader.load_days([DAY, date(2026, 3, 2)])
    assert first.files[0].status == "loaded" and second.files[0].status == "duplicate"
    assert second.files[0].message == ("same checksum as survey_responses/date=2026-03-01/a.csv "
                                       "(loaded for 2026-03-01): delivered twice, skipped")


def test_a_csv_with_a_byte_order_mark_loads_every_record(landing):
    landing_dir, folder = landing
    (folder / "excel.csv").write_bytes(b"\xef\xbb\xbf" + f"{HEADER}\nR1,a@b.com,9,,2026-03-01 10:00:00\n"
                                       f"R2,c@d.com,3,,2026-03-01 11:00:00\n".encode())
    con, _, result = load(landing_dir)
    assert (result.files[0].status, result.files[0].rows_loaded, result.files[0].message) == ("loaded", 2, "")
    assert con.execute("SELECT response_id, _row_number FROM raw.survey_responses ORDER BY 1").fetchall() == [
        ("R1", 1), ("R2", 2)]


def test_truncated_parquet_and_malformed_json_lines_are_named(tmp_path):
    landing_dir = tmp_path / "landing"
    pos = landing_dir / "pos_transactions" / f"date={DAY}"
    web = landing_dir / "web_events" / f"date={DAY}"
    pos.mkdir(parents=True), web.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 'R1' AS receipt_id, 'S1' AS store_id, '2026-03-01 10:00:00' AS transaction_at, "
                f"'completed' AS status, '9.99' AS amount) TO '{pos / 'whole.parquet'}' (FORMAT parquet)")
    whole = (pos / "whole.parquet").read_bytes()
    (pos / "truncated.parquet").write_bytes(whole[: len(whole) // 2])
    result = FeedLoader(con, load_contracts()["pos_transactions"], landing_dir).load_day(DAY)
    files = by_name(result)
    assert files["whole.parquet"].status == "loaded" and files["whole.parquet"].rows_loaded == 1
    assert files["truncated.parquet"].status == "failed"
    assert files["truncated.parquet"].describe().startswith(
        "[pos_transactions] pos_transactions/date=2026-03-01/truncated.parquet: failed - unreadable parquet file:")

    (web / "events.jsonl").write_text('{"event_id": "W1", "cookie_id": "c", "event_type": "login", '
                                      '"event_at": "2026-03-01 10:00:00"}\n{"event_id": "W2", "cookie_id"\n[1, 2]\n')
    result = FeedLoader(con, load_contracts()["web_events"], landing_dir).load_day(DAY)
    assert (result.files[0].rows_loaded, result.files[0].rows_rejected) == (1, 2)
    assert con.execute("SELECT _row_number, rule, message FROM quarantine.web_events ORDER BY 1").fetchall() == [
        (2, "malformed_json", "[web_events] web_events/date=2026-03-01/events.jsonl row 2: malformed json"),
        (3, "malformed_json", "[web_events] web_events/date=2026-03-01/events.jsonl row 3: malformed json"),
    ]


def test_a_late_file_loads_into_its_own_day_and_a_fixed_file_loads_on_rerun(landing):
    landing_dir, folder = landing
    loader = FeedLoader(duckdb.connect(), load_contracts()["survey_responses"], landing_dir)
    (folder / "a.csv").write_text(f"{HEADER}\nR1,a@b.com,9,,2026-03-01 10:00:00\n")
    loader.load_day(DAY)
    later = landing_dir / "survey_responses" / "date=2026-03-05"
    later.mkdir()
    (later / "b.csv").write_text(f"{HEADER}\nR2,c@d.com,9,,2026-03-05 10:00:00\n")
    loader.load_day(date(2026, 3, 5))

    (folder / "late.csv").write_text(f"{HEADER}\nR3,e@f.com,7,,2026-03-01 18:00:00\n")
    (folder / "broken.csv").write_text("response_id,score\nR4,3\n")
    files = by_name(loader.load_day(DAY))
    assert files["late.csv"].status == "loaded"
    assert files["late.csv"].message == ("late arrival: delivered after 2026-03-05 was loaded; "
                                         "loaded into its own day 2026-03-01")
    assert files["a.csv"].message == ""  # already known: not late
    assert files["broken.csv"].status == "failed"
    con = loader.con
    assert con.execute("SELECT _load_date::VARCHAR FROM raw.survey_responses WHERE response_id = 'R3'").fetchall() == [
        ("2026-03-01",)]

    (folder / "broken.csv").write_text(f"{HEADER}\nR4,g@h.com,3,,2026-03-01 19:00:00\n")  # the source re-sends it fixed
    files = by_name(loader.load_day(DAY))
    assert files["broken.csv"].status == "loaded" and files["broken.csv"].rows_loaded == 1
    assert files["late.csv"].message.startswith("late arrival: delivered after 2026-03-05")  # a re-run keeps the note
    assert con.execute("SELECT status, count(*) FROM audit.load_manifest WHERE load_date = ? GROUP BY 1",
                       [DAY]).fetchall() == [("loaded", 3)]


def test_a_corrupt_file_read_with_others_fails_alone(tmp_path):
    """Files of a range are read together; when that read fails, each is re-read alone to name the bad one."""
    landing_dir = tmp_path / "landing"
    con = duckdb.connect()
    for offset in (1, 2):
        folder = landing_dir / "pos_transactions" / f"date=2026-03-0{offset}"
        folder.mkdir(parents=True)
        con.execute(f"COPY (SELECT 'R{offset}-' || range AS receipt_id, 'S1' AS store_id, "
                    f"'2026-03-0{offset} 10:00:00' AS transaction_at, 'completed' AS status, '9.99' AS amount "
                    f"FROM range(2000)) TO '{folder / 'receipts.parquet'}' (FORMAT parquet)")
    corrupt = landing_dir / "pos_transactions" / "date=2026-03-02" / "receipts.parquet"
    data = bytearray(corrupt.read_bytes())
    data[8:200] = b"\xff" * 192  # a damaged data page: the footer (schema) still reads
    corrupt.write_bytes(bytes(data))
    loads = FeedLoader(con, load_contracts()["pos_transactions"], landing_dir).load_days([date(2026, 3, 1), date(2026, 3, 2)])
    first, second = loads[0].files[0], loads[1].files[0]
    assert (first.status, first.rows_loaded) == ("loaded", 2000)
    assert second.status == "failed" and second.message.startswith("unreadable parquet file:")
    assert con.execute("SELECT count(*), min(_load_date)::VARCHAR FROM raw.pos_transactions").fetchall() == [
        (2000, "2026-03-01")]
