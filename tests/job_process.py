"""Run one job of the project in this process against the instance in DAGSTER_HOME, as a run worker would:
`python tests/job_process.py ingest_job 2026-03-01 2026-03-08` (a range for a partitioned job)."""

import sys

import dagster as dg

from orchestration.definitions import build_definitions

job, *days = sys.argv[1:]
tags = {"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[1]} if days else {}
with dg.DagsterInstance.get() as instance:
    build_definitions().resolve_job_def(job).execute_in_process(instance=instance, tags=tags)
