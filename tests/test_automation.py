"""Declarative Automation: nothing downstream is requested before data lands; once a day lands, the whole
transform and publish is, and that day's quality report, while the landing data waits for its cron."""

import dagster as dg

from ingestion.contracts import load_contracts
from orchestration.defs.ingestion import feed_asset_key, quarantine_asset_key
from orchestration.defs.clv import CUSTOMER_CLV
from orchestration.defs.identity import CROSSWALK
from orchestration.defs.operations import LAST_GOOD_BUILD
from orchestration.defs.quality import QUALITY_REPORT
from orchestration.defs.serving import BI_DATABASE

DAY = "2026-03-01"


def requested(result, key: dg.AssetKey) -> set[str | None]:
    return set(result.get_requested_partitions(key))


def test_the_transform_follows_an_ingest_on_its_own(tmp_path, monkeypatch):
    from orchestration.definitions import build_definitions

    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_WAREHOUSE", str(tmp_path / "crm.duckdb"))
    folder = tmp_path / "landing" / "survey_responses" / f"date={DAY}"
    folder.mkdir(parents=True)
    (folder / "part.csv").write_text(f"response_id,email,score,comment,responded_at\nR1,a@b.com,9,,{DAY} 10:00:00\n")
    defs, instance = build_definitions(), dg.DagsterInstance.ephemeral()

    before = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    for key in (CROSSWALK, dg.AssetKey(["core", "dim_customers"]), BI_DATABASE, QUALITY_REPORT):
        assert not requested(before, key), key  # nothing has landed: nothing to transform

    # the day loaded as landing_files_sensor requests it: the feeds' tables, not the report
    landed = [key for feed in load_contracts() for key in (feed_asset_key(feed), quarantine_asset_key(feed))]
    assert defs.resolve_job_def("ingest_job").execute_in_process(
        instance=instance, partition_key=DAY, asset_selection=landed).success
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=before.cursor)
    downstream = [CROSSWALK, dg.AssetKey(["staging", "stg_survey_responses"]), dg.AssetKey(["core", "dim_customers"]),
                  CUSTOMER_CLV, dg.AssetKey(["rfm", "rfm_segment_summary"]), BI_DATABASE, LAST_GOOD_BUILD]
    for key in downstream:
        assert requested(after, key) == {None}, key  # the whole chain, in the same tick
    assert requested(after, QUALITY_REPORT) == {DAY}
    assert not requested(after, dg.AssetKey(["raw", "survey_responses"]))  # it waits for 02:00

    settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after.cursor)
    assert not requested(settled, CROSSWALK)  # requested once, not on every tick
