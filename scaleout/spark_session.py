"""A Spark session for the Python steps, configured like dbt's (scaleout/spark_conf.py), and stopped with its
JVM at the end: a local Derby metastore admits one JVM at a time, so a step that kept its JVM would lock dbt's
session out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ingestion.settings import Settings
from scaleout.spark_conf import spark_dir, write_spark_conf


@contextmanager
def spark_session(settings: Settings) -> Iterator["pyspark.sql.SparkSession"]:  # noqa: F821
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    write_spark_conf(settings)
    session = SparkSession.builder.enableHiveSupport().getOrCreate()
    # Splink breaks long query lineages by checkpointing (its Spark default): it needs a folder for them
    session.sparkContext.setCheckpointDir(str(spark_dir(settings) / "checkpoints"))
    try:
        yield session
    finally:
        session.stop()
        gateway = SparkContext._gateway
        if gateway is not None:
            # The JVM exits when its stdin closes (PythonGatewayServer watches it): that releases the metastore.
            gateway.shutdown()
            gateway.proc.stdin.close()
            gateway.proc.wait(timeout=60)
            SparkContext._gateway = None
            SparkContext._jvm = None
