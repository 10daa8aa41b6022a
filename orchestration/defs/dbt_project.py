"""The dbt project as Dagster sees it: parsed and run for the engine's target (CRM_ENGINE, scaleout/engine.py)."""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

from scaleout.engine import current_engine

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=current_engine().dbt_target)
# Under `dagster dev` the manifest is rebuilt from the SQL on load; elsewhere `make` runs `dbt parse` first.
dbt_project.prepare_if_dev()
