"""Operations with no one watching: dead runs are failed, failed runs alert, and each successful transform
keeps a copy of the warehouse to fall back to."""

import time

import dagster as dg

from ingestion.settings import get_settings
from operations.alerts import build_alert, deliver
from operations.dead_runs import fail_dead_runs
from operations.last_good import backup_of, keep_last_good
from orchestration.defs.conditions import AFTER_UPSTREAM
from orchestration.defs.resources import DUCKDB_POOL
from orchestration.defs.serving import BI_DATABASE, RESTRICTED_DATABASE

LAST_GOOD_BUILD = dg.AssetKey(["operations", "last_good_build"])


@dg.asset(key=LAST_GOOD_BUILD, deps=[BI_DATABASE, RESTRICTED_DATABASE], group_name="operations", pool=DUCKDB_POOL,
          kinds={"duckdb"}, automation_condition=AFTER_UPSTREAM,
          description="A copy of the build database after a successful transform (data/warehouse/"
                      "crm.last_good.duckdb, owner-only), put in its place when the warehouse cannot be opened.")
def last_good_build() -> dg.MaterializeResult:
    started = time.perf_counter()
    warehouse = get_settings().warehouse_path
    copied = keep_last_good(warehouse)
    path = backup_of(warehouse)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "copied": copied,
                                          "mib": round(path.stat().st_size / 2**20, 1),
                                          "seconds": round(time.perf_counter() - started, 2)})


@dg.sensor(name="dead_run_sensor", minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Fails STARTED runs whose process is gone (killed, crashed) and frees their pool slots, "
                       "so the runs queued behind them proceed.")
def dead_run_sensor(context: dg.SensorEvaluationContext):
    failed = fail_dead_runs(context.instance)
    for run in failed:
        context.log.warning(f"run {run.run_id} of {run.job_name}: process {run.pid} is gone; marked failed, "
                            f"{run.slots_freed} pool slot(s) freed")
    return dg.SkipReason(f"{len(failed)} dead run(s) failed" if failed else "no dead runs")


@dg.run_failure_sensor(name="run_failure_alert", default_status=dg.DefaultSensorStatus.RUNNING,
                       monitor_all_code_locations=True,
                       description="Sends each failed run to data/alerts.log and to CRM_ALERT_WEBHOOK when set.")
def run_failure_alert(context: dg.RunFailureSensorContext):
    settings = get_settings()
    step_failures = context.get_step_failure_events()
    step = step_failures[0].step_key if step_failures else None
    error = step_failures[0].event_specific_data.error if step_failures else None
    error = _readable(error) if error else context.failure_event.message
    alert = build_alert(context.dagster_run.job_name, context.dagster_run.run_id, step, error or "", settings.ui_url)
    problem = deliver(alert, settings.alerts_log, settings.alert_webhook)
    if problem:
        context.log.warning(problem)


def _readable(error) -> str:
    """`ValueError: ...` for an exception, the message alone for a dagster Failure, without module paths."""
    prefix, separator, rest = error.message.partition(": ")
    if separator and error.cls_name and prefix.endswith(error.cls_name):
        return rest if error.cls_name == "Failure" else f"{error.cls_name}: {rest}"
    return error.message
