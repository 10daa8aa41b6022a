"""The demo's runs are where the UI looks: the Jobs page of the code location `make dev` serves lists them
(asked through Dagster's GraphQL API, as the UI asks), and the demo prints one line per stage, not Dagster's log."""

import dagster as dg
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster_graphql.test.utils import execute_dagster_graphql

from conftest import REPO
from ingestion.contracts import load_contracts
from orchestration.demo import run_job
from orchestration.run_log import CODE_LOCATION

JOB_RUNS = """
query JobRuns($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) { __typename ... on Pipeline { runs { runId } } }
}"""

DAY = "2026-03-01"


def test_a_demo_run_is_listed_on_its_jobs_page_and_prints_a_line_per_feed(tmp_path, monkeypatch, capsys):
    from orchestration.definitions import build_definitions

    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_WAREHOUSE", str(tmp_path / "crm.duckdb"))
    folder = tmp_path / "landing" / "survey_responses" / f"date={DAY}"
    folder.mkdir(parents=True)
    (folder / "part.csv").write_text(f"response_id,email,score,comment,responded_at\nR1,a@b.com,9,,{DAY} 10:00:00\n")
    (tmp_path / "dagster").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))
    log = tmp_path / "logs" / "demo.log"
    run_id = run_job(build_definitions(), instance, "ingest_job", log,
                     {"dagster/asset_partition_range_start": DAY, "dagster/asset_partition_range_end": DAY}, bar=True)

    printed = capsys.readouterr().out.splitlines()
    survey = [line for line in printed if "survey_responses" in line]
    assert len(survey) == 1 and "1 rows read" in survey[0]
    steps = len(load_contracts()) + 1  # a step per feed and the quality report
    assert printed[-2].startswith(f"[{'#' * steps}] {steps}/{steps}")  # the bar: every step of the ingest done
    assert len(printed) <= 15  # a line per feed and one for the job, not Dagster's events
    assert f"{run_id[:8]} ingest_survey_responses STEP_SUCCESS" in log.read_text()  # the full log is in the file

    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="orchestration.definitions", working_directory=str(REPO)),
        location_name=CODE_LOCATION)
    with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget([origin])) as workspace:
        result = execute_dagster_graphql(workspace.create_request_context(), JOB_RUNS, {"selector": {
            "pipelineName": "ingest_job", "repositoryName": "__repository__", "repositoryLocationName": CODE_LOCATION}})
    job = result.data["pipelineOrError"]
    assert job["__typename"] == "Pipeline"
    assert [run["runId"] for run in job["runs"]] == [run_id]
