"""The Spark configuration shared by every process that starts a Spark JVM: dbt's session (dbt-spark's `session`
method), the Python steps, and the Thrift server. It is written as spark-defaults.conf into a folder that
SPARK_CONF_DIR names, because dbt runs in a process of its own and spark-submit reads that file at every start:
one place, so that all of them see the same metastore, warehouse and time zone.

Local defaults suit a 2-core machine (local[2], a 2 GB driver, 2 shuffle partitions, no UI); on a cluster set
CRM_SPARK_MASTER and the memory, or use spark_thrift against the cluster's own server (docs/scale-out.md)."""

from __future__ import annotations

import os
from pathlib import Path

from ingestion.settings import Settings


def spark_dir(settings: Settings) -> Path:
    return settings.data_dir / "spark"


def spark_conf(settings: Settings) -> dict[str, str]:
    from splink.backends.spark import similarity_jar_location

    root = spark_dir(settings)
    return {
        "spark.master": os.environ.get("CRM_SPARK_MASTER", "local[2]"),
        "spark.driver.memory": os.environ.get("CRM_SPARK_DRIVER_MEMORY", "2g"),
        "spark.sql.shuffle.partitions": os.environ.get("CRM_SPARK_SHUFFLE_PARTITIONS", "2"),
        # Splink's string-similarity functions (Jaro-Winkler and others), shipped in its wheel
        "spark.jars": similarity_jar_location(),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # dbt reports a failing statement itself; Spark's JSON log would repeat each with its whole stack
        "spark.log.level": os.environ.get("CRM_SPARK_LOG_LEVEL", "ERROR"),
        "spark.log.structuredLogging.enabled": "false",
        # Tables and their metastore live beside the DuckDB warehouse, not in whichever folder a process started.
        "spark.sql.warehouse.dir": str(root / "warehouse"),
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL":
            f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={root} -Duser.timezone=UTC",
        # Timestamps are naive wall-clock times in the feeds, as in DuckDB: no conversion through a zone.
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.timestampType": "TIMESTAMP_NTZ",
        # dbt-spark turns ANSI mode off in its own sessions; every other process must agree, or one model gives
        # an error on one path and a null on the other.
        "spark.sql.ansi.enabled": "false",
        # Derby cannot filter partitions by a DATE (raw and quarantine are partitioned by _load_date): list them all
        # and filter in Spark. A cluster's metastore (MySQL, PostgreSQL) filters them itself.
        "spark.sql.hive.metastorePartitionPruningFallbackOnException": "true",
    }


def write_spark_conf(settings: Settings) -> Path:
    """Write spark-defaults.conf and point SPARK_CONF_DIR at it (inherited by dbt and the Thrift server)."""
    folder = spark_dir(settings) / "conf"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{key} {value}" for key, value in spark_conf(settings).items()]
    (folder / "spark-defaults.conf").write_text("\n".join(lines) + "\n")
    os.environ["SPARK_CONF_DIR"] = str(folder)
    return folder
