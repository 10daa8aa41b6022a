"""Jobs, and the sensors that keep the warehouse current: the automation conditions' sensor, and the landing
folders' sensor for files that arrive or change on any day (late files for old days included)."""


import hashlib
import json

import dagster as dg

from ingestion.contracts import load_contracts
from ingestion.settings import get_settings
from orchestration.defs.ingestion import INGESTION_GROUP, feed_asset_key, quarantine_asset_key
from orchestration.defs.partitions import landing_days
from scaleout.engine import Engine, current_engine

LOCAL_METASTORE_TAG = "crm/local_metastore"


def run_policy(max_runtime_hours: float) -> dict[str, str]:
    """Tags every job carries: retried from the failure after a crash (dagster.yaml's run_retries; a step that
    failed on the data is not retried), and failed by run monitoring once it runs longer than this. On local
    Spark, runs wait for each other (dagster.yaml limits the tag to one run): a Derby metastore admits one JVM."""
    tags = {"dagster/max_retries": "2", "dagster/max_runtime": str(int(max_runtime_hours * 3600))}
    return tags | ({LOCAL_METASTORE_TAG: "derby"} if current_engine() is Engine.SPARK_LOCAL else {})


ingest_job = dg.define_asset_job(
    "ingest_job", selection=dg.AssetSelection.groups(INGESTION_GROUP), partitions_def=landing_days(),
    description="Load, validate and reconcile landing days for every feed (one run may cover a range of days).",
    tags=run_policy(max_runtime_hours=2),
)

transform_job = dg.define_asset_job(
    "transform_job", selection=dg.AssetSelection.all() - dg.AssetSelection.groups(INGESTION_GROUP),
    description="Staging, identity resolution and every mart, from what ingestion holds now.",
    tags=run_policy(max_runtime_hours=4),
)

automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor", target=dg.AssetSelection.all(), default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30, run_tags=run_policy(max_runtime_hours=4),
    description="Evaluates the assets' automation conditions (orchestration/defs/conditions.py): each feed's "
                "latest day at 02:00, everything downstream once what it reads was updated.",
)


@dg.sensor(job=ingest_job, minimum_interval_seconds=60, name="landing_files_sensor",
           default_status=dg.DefaultSensorStatus.RUNNING)
def landing_files_sensor(context: dg.SensorEvaluationContext):
    """Request the partitions whose landing folders gained or changed files since the last look."""
    landing = get_settings().landing_dir
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current: dict[str, str] = {}
    changed: dict[str, set[str]] = {}
    for feed in load_contracts():
        for path in sorted((landing / feed).glob("date=*/*")):
            stat = path.stat()
            signature = f"{stat.st_size}-{int(stat.st_mtime)}"
            current[str(path)] = signature
            if seen.get(str(path)) != signature:
                changed.setdefault(path.parent.name[5:], set()).add(feed)
    partitions = set(landing_days().get_partition_keys())
    for day, feeds in sorted(changed.items()):
        if day not in partitions:
            context.log.warning(f"landing folder date={day} is before the first partition: set CRM_START_DATE "
                                "to it, or reload the code location (partitions start at the first landing day)")
            continue
        files = sorted((p, s) for p, s in current.items() if f"date={day}" in p)
        yield dg.RunRequest(
            run_key=f"{day}-{hashlib.sha1(json.dumps(files).encode()).hexdigest()[:12]}",
            partition_key=day,
            asset_selection=[key for f in sorted(feeds) for key in (feed_asset_key(f), quarantine_asset_key(f))],
        )
    context.update_cursor(json.dumps(current))
