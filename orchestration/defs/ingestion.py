"""One partitioned asset per feed contract: load the landing days, validate them, reconcile the counts.

The asset writes raw.<feed> and quarantine.<feed>, and reports the GX batch-level expectations of the feed's
suite as asset checks; error-severity checks are blocking, so a bad batch stops the marts downstream. A check
that had too little to judge yields no result, so the UI shows it as skipped rather than passed. One more
warn-level check fails when a file of the run failed or was empty, and names the files.
"""


from datetime import date

import dagster as dg

from expectations.suites import expectations_at, load_suite
from ingestion.contracts import FeedContract, load_contracts
from orchestration.defs.conditions import DAILY_LANDING
from orchestration.defs.partitions import landing_days
from orchestration.defs.resources import DUCKDB_POOL, FeedIngestion
from scaleout.engine import current_engine

INGESTION_GROUP = "ingestion"


def feed_asset_key(feed: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", feed])


def quarantine_asset_key(feed: str) -> dg.AssetKey:
    return dg.AssetKey(["quarantine", feed])


FILES_CHECK = "files_loaded"
FRESHNESS_CHECK = "delivered_recently"


def batch_check_specs(contract: FeedContract) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(
        name=FILES_CHECK, asset=feed_asset_key(contract.feed),
        description="Every landing file of the run loaded: a failed or empty file fails this check, by name",
    ), dg.AssetCheckSpec(
        name=FRESHNESS_CHECK, asset=feed_asset_key(contract.feed),
        description=f"Error when the newest landing day with rows is more than {contract.max_days_without_delivery} "
                    "day(s) before the last day loaded (max_days_without_delivery in the feed's contract); not "
                    "judged before the feed's first delivery",
    )] + [
        dg.AssetCheckSpec(
            name=e["meta"]["rule"], asset=feed_asset_key(contract.feed),
            blocking=e["meta"].get("severity") == "error",
            description=f"GX {e['type']} {e['kwargs']} (severity {e['meta'].get('severity', 'warn')})",
        )
        for level in ("batch", "daily") for e in expectations_at(load_suite(contract.feed), level)
    ]


def build_feed_asset(contract: FeedContract) -> dg.AssetsDefinition:
    check_specs = batch_check_specs(contract)

    @dg.multi_asset(
        name=f"ingest_{contract.feed}",
        specs=[dg.AssetSpec(
            feed_asset_key(contract.feed), group_name=INGESTION_GROUP, description=contract.description,
            kinds={current_engine().kind, contract.format}, partitions_def=landing_days(), automation_condition=DAILY_LANDING,
            metadata={"natural_key": list(contract.natural_key), "format": contract.format,
                      "pii_columns": [c.name for c in contract.columns if c.pii]},
        ), dg.AssetSpec(
            # not partitioned: one table of every held-back row, which revalidation empties across days; per-day
            # counts live in audit.load_reconciliation (and partitioning it doubled a backfill's Dagster events)
            quarantine_asset_key(contract.feed), group_name=INGESTION_GROUP, kinds={current_engine().kind},
            description=f"Rows of {contract.feed} held back: feed, file, row, rule, offending value, record.",
        )],
        check_specs=check_specs,
        can_subset=True,  # lets a check that judged nothing go unreported (skipped); both tables are always built
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=DUCKDB_POOL,
    )
    def ingest(context: dg.AssetExecutionContext, ingestion: FeedIngestion):
        days = [date.fromisoformat(k) for k in context.partition_keys]
        done = ingestion.ingest(contract, days, context.run_id)
        files, balance = done.files, done.balance
        context.log.info(f"[{contract.feed}] validated {done.rows_checked:,} rows in {done.validate_seconds:.1f}s "
                         f"({done.rows_checked / max(done.validate_seconds, 1e-9):,.0f} rows/s)")
        for problem in (f for f in files if f.status != "loaded" or f.warnings):
            context.log.warning(problem.describe())
        unbalanced = [r["load_date"].isoformat() for r in balance if not r["balanced"]]
        if unbalanced:
            raise dg.Failure(f"[{contract.feed}] rows read != passed + quarantined + suppressed on {unbalanced}")
        if quarantine_asset_key(contract.feed) in context.selected_asset_keys:
            yield dg.MaterializeResult(asset_key=quarantine_asset_key(contract.feed), metadata={
                "rows_quarantined": sum(r["rows_quarantined"] for r in balance),
                "rows_attribute_nulled": sum(r["rows_attribute_nulled"] for r in balance),
                "failures_by_rule": dg.MetadataValue.json(done.failures_by_rule),
            })
        yield dg.MaterializeResult(asset_key=feed_asset_key(contract.feed), metadata={
            "days": len(days),
            "files_loaded": sum(f.status == "loaded" for f in files),
            "files_duplicate": sum(f.status == "duplicate" for f in files),
            "files_failed": sum(f.status in ("failed", "empty") for f in files),
            "validate_seconds": round(done.validate_seconds, 3),
            "validation_rows_per_second": round(done.rows_checked / max(done.validate_seconds, 1e-9)),
            "rows_read": sum(r["rows_read"] for r in balance),
            "rows_passed": sum(r["rows_passed"] for r in balance),
            "rows_quarantined": sum(r["rows_quarantined"] for r in balance),
            "rows_suppressed": sum(r["rows_suppressed"] for r in balance),
            "rows_attribute_nulled": sum(r["rows_attribute_nulled"] for r in balance),
            "redeliveries_removed": sum(r["redeliveries_removed"] for r in balance),
            "failures_by_rule": dg.MetadataValue.json(done.failures_by_rule),
            "file_problems": dg.MetadataValue.md("\n".join(f"- {f.describe()}" for f in files
                                                            if f.status != "loaded" or f.warnings) or "none"),
        })
        # after the materialisation: a check result attaches to the latest materialisation of its asset
        checks = context.selected_asset_check_keys
        last = max(days)
        yield from (r for r in _check_results(files, done.batch_checks, check_specs, context,
                                              _freshness(contract, done.newest_delivery, last))
                    if dg.AssetCheckKey(feed_asset_key(contract.feed), r.check_name) in checks)

    return ingest


def _freshness(contract: FeedContract, newest: date | None, last: date) -> dg.AssetCheckResult | None:
    if newest is None:
        return None  # never delivered yet: nothing to expect
    days = (last - newest).days
    return dg.AssetCheckResult(
        check_name=FRESHNESS_CHECK, passed=days <= contract.max_days_without_delivery,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"newest_delivery": newest.isoformat(), "days_without_delivery": days,
                  "allowed": contract.max_days_without_delivery})


def _check_results(files, batch_checks, check_specs: list[dg.AssetCheckSpec], context, freshness):
    problems = [f for f in files if f.status in ("failed", "empty")]
    yield dg.AssetCheckResult(
        check_name=FILES_CHECK, passed=not problems, severity=dg.AssetCheckSeverity.WARN,
        metadata={"files": len(files), "failed_or_empty": len(problems),
                  "problems": dg.MetadataValue.md("\n".join(f"- {f.describe()}" for f in problems) or "none")},
    )
    if freshness is not None:
        yield freshness
    evaluated = {check.rule: check for check in batch_checks}
    for spec in (s for s in check_specs if s.name not in (FILES_CHECK, FRESHNESS_CHECK)):
        check = evaluated.get(spec.name)
        severity = dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN
        if check is None and spec.name == "rows_delivered":  # no rows landed in these days
            yield dg.AssetCheckResult(check_name=spec.name, passed=False, severity=severity,
                                      metadata={"observed": "no rows"})
        elif check is None or check.passed is None:
            context.log.info(f"check {spec.name}: not judged ({check.observed if check else 'no rows'})")
        else:
            yield dg.AssetCheckResult(
                check_name=check.rule, passed=check.passed, severity=severity,
                metadata={"observed": dg.MetadataValue.text(check.shown), "expectation": check.expectation},
            )


def build_ingestion_assets() -> list[dg.AssetsDefinition]:
    return [build_feed_asset(contract) for contract in load_contracts().values()]
