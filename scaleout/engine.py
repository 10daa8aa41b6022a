"""The one switch that selects the engine (CRM_ENGINE). Its values are also the dbt targets' names in
dbt_project/profiles.yml, so dbt and Dagster always agree on where the models run."""

from __future__ import annotations

import os
from enum import Enum


class Engine(str, Enum):
    DUCKDB = "duckdb"  # the embedded warehouse (default)
    SPARK_LOCAL = "spark_local"  # an in-process Spark session, local[N]: development and CI
    SPARK_THRIFT = "spark_thrift"  # a Spark Thrift Server (a cluster's, or one started by scaleout.thrift_server)

    @property
    def is_spark(self) -> bool:
        return self is not Engine.DUCKDB

    @property
    def kind(self) -> str:
        """How Dagster's UI tags the assets that run on it."""
        return "spark" if self.is_spark else "duckdb"

    @property
    def dbt_target(self) -> str:
        return self.value


def current_engine() -> Engine:
    value = os.environ.get("CRM_ENGINE", Engine.DUCKDB.value).strip().lower()
    try:
        return Engine(value)
    except ValueError:
        choices = ", ".join(engine.value for engine in Engine)
        raise ValueError(f"CRM_ENGINE={value!r} is not an engine this project runs on (choose one of: {choices})")
