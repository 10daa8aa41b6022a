"""What an ingest run tells through Dagster: failed or empty files fail a warn-level check that names them, a
check attaches to the materialisation it judged, and a check that had too little to judge is skipped."""

import dagster as dg
import pytest

from ingestion.contracts import load_contracts
from orchestration.defs.ingestion import FILES_CHECK, FRESHNESS_CHECK, build_feed_asset, feed_asset_key
from orchestration.defs.resources import DuckDBFeedIngestion

DAY = "2026-03-02"
HEADER = "response_id,email,score,comment,responded_at"


@pytest.fixture
def ingested(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_WAREHOUSE", str(tmp_path / "crm.duckdb"))
    folder = tmp_path / "landing" / "survey_responses" / f"date={DAY}"
    folder.mkdir(parents=True)
    (folder / "good.csv").write_text(f"{HEADER}\nR1,a@b.com,9,,{DAY} 10:00:00\nR2,c@d.com,3,,{DAY} 11:00:00\n")
    (folder / "header_only.csv").write_text(HEADER + "\n")
    (folder / "no_email.csv").write_text(f"response_id,score,responded_at\nR3,5,{DAY} 10:00:00\n")
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([build_feed_asset(load_contracts()["survey_responses"])], instance=instance,
                            partition_key=DAY, resources={"ingestion": DuckDBFeedIngestion(database=str(tmp_path / "crm.duckdb"))})
    return result, instance


def evaluations(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_failed_and_empty_files_fail_a_warn_check_that_names_them(ingested):
    result, _ = ingested
    assert result.success  # the good file loaded; the run goes on
    check = evaluations(result)[FILES_CHECK]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    problems = check.metadata["problems"].value
    assert "header_only.csv: empty - header only: no data rows" in problems
    assert "no_email.csv: failed - missing required column(s) ['email']" in problems
    assert "good.csv" not in problems
    assert check.metadata["failed_or_empty"].value == 2
    # it judged this run's materialisation, and says so (the UI shows it on that materialisation)
    assert check.target_materialization_data.run_id == result.run_id


def test_a_check_with_too_little_to_judge_is_skipped_not_passed(ingested):
    result, instance = ingested
    judged = evaluations(result)
    # two rows cannot judge a share of rows (the suite's share rules need 50): no result, so Dagster shows them
    # as skipped; a rule that judges every row still reports
    assert "identifier_coverage" not in judged
    assert judged["rows_delivered"].passed
    key = dg.AssetCheckKey(feed_asset_key("survey_responses"), "identifier_coverage")
    record = instance.event_log_storage.get_asset_check_execution_history(key, limit=1)[0]
    assert record.run_id == result.run_id and record.status.value == "PLANNED"  # resolves to SKIPPED in the UI


def test_a_feed_that_stopped_delivering_fails_its_freshness_check(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_WAREHOUSE", str(tmp_path / "crm.duckdb"))
    contract = load_contracts()["survey_responses"]  # max_days_without_delivery: 7
    folder = tmp_path / "landing" / "survey_responses" / "date=2026-03-01"
    folder.mkdir(parents=True)
    (folder / "part.csv").write_text(f"{HEADER}\nR1,a@b.com,9,,2026-03-01 10:00:00\n")
    asset, instance = build_feed_asset(contract), dg.DagsterInstance.ephemeral()
    resources = {"ingestion": DuckDBFeedIngestion(database=str(tmp_path / "crm.duckdb"))}

    def freshness(day: str) -> dg.AssetCheckEvaluation:
        result = dg.materialize([asset], instance=instance, partition_key=day, resources=resources)
        return evaluations(result)[FRESHNESS_CHECK]

    assert freshness("2026-03-01").passed
    within = freshness("2026-03-08")  # nothing landed for a week: still within 7 days
    assert within.passed and within.metadata["days_without_delivery"].value == 7
    late = freshness("2026-03-09")
    assert not late.passed and late.severity == dg.AssetCheckSeverity.ERROR
    assert late.metadata["newest_delivery"].value == "2026-03-01"
