"""When assets materialise on their own (Declarative Automation, evaluated by `automation_sensor`).

* Landing data: each feed's latest landing day at 02:00 UTC (a day's files are in by then); days whose files
  change later, late files for old days included, are requested by `landing_files_sensor`.
* Everything downstream: as soon as what it reads was updated, once nothing upstream is still running. Unlike
  Dagster's `eager()`, a partition of a feed that has not landed yet does not hold the marts back, and the
  condition acts on every updated day, not only the latest (dagster issue 24474).
"""

import dagster as dg

DAILY_LANDING = dg.AutomationCondition.on_cron("0 2 * * *")

AFTER_UPSTREAM = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after upstream")

# dbt seeds read nothing: built when missing (and with every run of their dbt step)
WHEN_MISSING = dg.AutomationCondition.missing().since_last_handled().with_label("when missing")


def after_days_landed(landed: dg.AssetSelection) -> dg.AutomationCondition:
    """For a per-day asset: its days that `landed` (per-day assets) updated. An unpartitioned dependency (a
    quarantine table) would otherwise request every day at once."""
    return (
        dg.AutomationCondition.any_deps_updated().allow(landed).since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("after its days landed")
