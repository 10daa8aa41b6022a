"""The engine switch: CRM_ENGINE picks the dbt target, a typo is refused with the choices, and the Dagster
pipeline, whose Python steps run on DuckDB only so far, refuses a Spark engine instead of failing mid-run."""

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


def test_the_pipeline_refuses_a_spark_engine_with_a_reason(monkeypatch):
    from orchestration.definitions import build_definitions

    monkeypatch.setenv("CRM_ENGINE", "spark_thrift")
    with pytest.raises(RuntimeError, match="Python steps .* run on DuckDB only"):
        build_definitions()
