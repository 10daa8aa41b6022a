"""The engine switch: CRM_ENGINE picks the dbt target, a typo is refused with the choices, and the Dagster
definitions get the engine's resources (the steps kept on DuckDB so far are left out on Spark)."""

import pytest

from scaleout.engine import Engine, current_engine


def test_the_engine_names_the_dbt_target_and_defaults_to_duckdb(monkeypatch):
    monkeypatch.delenv("CRM_ENGINE", raising=False)
    assert current_engine() is Engine.DUCKDB and not current_engine().is_spark
    monkeypatch.setenv("CRM_ENGINE", " Spark_Local ")
    assert current_engine() is Engine.SPARK_LOCAL and current_engine().dbt_target == "spark_local"


def test_an_unknown_engine_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("CRM_ENGINE", "trino")
    with pytest.raises(ValueError, match="duckdb, spark_local, spark_thrift"):
        current_engine()


def test_every_engine_is_a_target_of_the_dbt_profile():
    import yaml

    from orchestration.defs.dbt_project import DBT_PROJECT_DIR

    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["customer_single_view"]
    assert set(profile["outputs"]) == {engine.dbt_target for engine in Engine}
    assert "CRM_ENGINE" in profile["target"]


def test_the_definitions_take_the_engines_resources(monkeypatch):
    from orchestration.definitions import build_definitions
    from orchestration.defs.resources import (DuckDBFeedIngestion, DuckDBStepWarehouse, SparkFeedIngestion,
                                              SparkStepWarehouse)

    monkeypatch.setenv("CRM_ENGINE", "spark_local")
    spark = build_definitions()
    monkeypatch.setenv("CRM_ENGINE", "duckdb")
    duck = build_definitions()
    assert isinstance(spark.resources["warehouse"], SparkStepWarehouse)
    assert isinstance(spark.resources["ingestion"], SparkFeedIngestion) and "duckdb" not in spark.resources
    assert isinstance(duck.resources["warehouse"], DuckDBStepWarehouse)
    assert isinstance(duck.resources["ingestion"], DuckDBFeedIngestion)
    keys = {d.key.to_user_string() for d in spark.resolve_all_asset_specs()}
    assert {"identity/customer_crosswalk", "clv/customer_clv", "serving/bi_database", "raw/web_events"} <= keys
    missing = {d.key.to_user_string() for d in duck.resolve_all_asset_specs()} - keys
    assert missing == {"audit/quality_report", "operations/last_good_build", "privacy/build_database_compacted"}
