"""Erasure in Dagster: `erasure_job` forgets the requested people in the build database and the landing files;
the transform that follows (sensor `transform_after_erasure`, or `python -m privacy forget`, which runs both)
rebuilds without them and publishes afresh; its last asset compacts the build database so that no deleted
value stays in its bytes. Run metadata carries request ids and counts, never an identifier."""

import csv
from pathlib import Path
from typing import Optional

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingestion.settings import get_settings
from activation.exports import exports_dir, forget_exports
from operations.last_good import forget_last_good
from orchestration.defs.automation import run_policy, transform_job
from orchestration.defs.conditions import AFTER_UPSTREAM
from orchestration.defs.resources import DUCKDB_POOL
from orchestration.defs.serving import BI_DATABASE, RESTRICTED_DATABASE
from privacy.compaction import compact, pending_purges
from privacy.erasure import ErasureRequest, ErasureResult, forget
from serving.keys import pii_key
from serving.working_copy import WorkingCopies

PRIVACY_GROUP = "privacy"
COMPACTED = dg.AssetKey(["privacy", "build_database_compacted"])


class ForgetConfig(dg.Config):
    """One person (exactly one of email, phone, customer_id) or a CSV of requests (columns email, phone,
    customer_id, reason; one identifier per row). Dagster keeps a run's config in its run storage: give
    identifiers through `from_file` (an owner-only file, removed afterwards; `python -m privacy forget` does
    so), so that none outlives the erasure there."""

    email: Optional[str] = None
    phone: Optional[str] = None
    customer_id: Optional[str] = None
    reason: str = ""
    from_file: Optional[str] = None
    asked_by: str = ""


def requests_from(config: ForgetConfig) -> list[ErasureRequest]:
    if config.from_file:
        with Path(config.from_file).open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        return [ErasureRequest(reason=(row.get("reason") or config.reason).strip(),
                               **{k: (row.get(k) or "").strip() or None for k in ("email", "phone", "customer_id")})
                for row in rows]
    return [ErasureRequest(reason=config.reason, email=config.email, phone=config.phone,
                           customer_id=config.customer_id)]


@dg.op(pool=DUCKDB_POOL, out=dg.Out(list))
def forget_people(context: dg.OpExecutionContext, config: ForgetConfig, duckdb: DuckDBResource) -> list:
    settings = get_settings()
    requests = requests_from(config)
    with duckdb.get_connection() as con:
        results = forget(con, pii_key(settings.secrets_dir), settings.landing_dir, requests, config.asked_by)
    if any(r.status == "erased" for r in results):
        # the next publish rewrites both serving databases from nothing: a working copy keeps earlier versions
        # of changed rows in its free blocks
        WorkingCopies.beside(settings.restricted_database).remove()
        forget_last_good(settings.warehouse_path)  # it holds them; the transform that follows takes a new one
        forget_exports(exports_dir(settings.data_dir))  # so do the audiences' files; the next publish rewrites them
    for result in results:
        context.log.info(f"{result.request_id}: {result.status} - {result.message}")
    context.add_output_metadata({
        "requests": len(results),
        "erased": sum(r.status == "erased" for r in results),
        "already_erased": sum(r.status == "already erased" for r in results),
        "not_found": sum(r.status == "not found" for r in results),
        "rows_touched": sum(sum(r.rows_touched.values()) for r in results),
        "landing_files_rewritten": sum(r.files_rewritten for r in results),
    })
    return results


@dg.job(description="Forget people on request (GDPR Art. 17, CCPA deletion): their identifiers join the "
                    "suppression list, their rows leave raw, quarantine, identity and the landing files; their "
                    "purchases and events stay as anonymous facts. transform_job follows.",
        tags=run_policy(max_runtime_hours=2))
def erasure_job():
    forget_people()


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[erasure_job], request_job=transform_job,
                      name="transform_after_erasure", default_status=dg.DefaultSensorStatus.RUNNING)
def transform_after_erasure(context: dg.RunStatusSensorContext):
    """An erasure is complete only once the marts and the serving databases were rebuilt without the person."""
    return dg.RunRequest(run_key=f"after-{context.dagster_run.run_id}")


@dg.asset(key=COMPACTED, deps=[BI_DATABASE, RESTRICTED_DATABASE], group_name=PRIVACY_GROUP,
          automation_condition=AFTER_UPSTREAM,
          pool=DUCKDB_POOL, kinds={"duckdb"}, output_required=False,
          description="After an erasure: the build database copied into a fresh file and swapped in, so no "
                      "erased value survives in its free blocks. Not materialised when no erasure is pending.")
def build_database_compacted(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    with duckdb.get_connection() as con:
        pending = pending_purges(con)
    if not pending:
        context.log.info("no erasure waits for its purge: nothing to compact")
        return
    done = compact(get_settings().warehouse_path)
    with duckdb.get_connection() as con:
        con.execute("UPDATE audit.erasure_requests SET status = 'purged' WHERE status = 'erased'")
    yield dg.Output(None, metadata={"erasures_purged": pending, "seconds": round(done.seconds, 2),
                                    "mib_before": round(done.bytes_before / 2**20, 1),
                                    "mib_after": round(done.bytes_after / 2**20, 1)})


def results_text(results: list[ErasureResult]) -> str:
    return "\n".join(f"{r.request_id}: {r.status} - {r.message}" for r in results)
