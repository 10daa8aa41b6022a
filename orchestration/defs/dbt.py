"""dbt models as Dagster assets, split around the Python assets they depend on: staging + customer records
run before identity resolution, the marts after it, and the models tagged after_clv after the CLV asset.
dbt tests become asset checks."""


from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ingestion.settings import get_settings
from operations.last_good import checkpoint, restore_if_damaged
from orchestration.defs.conditions import AFTER_UPSTREAM, WHEN_MISSING
from orchestration.defs.dbt_project import dbt_project
from orchestration.defs.dbt_targets import prune_invocation_targets
from orchestration.defs.resources import DUCKDB_POOL

PRE_IDENTITY = "staging int_customer_records"
AFTER_CLV = "tag:after_clv"


class ProjectTranslator(DagsterDbtTranslator):
    """Models are keyed <schema>/<name> (staging/stg_crm_contacts, core/dim_customers) and grouped by schema;
    sources use the asset key in their meta (the ingestion and identity assets)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("schema") if dbt_resource_props["resource_type"] != "source" else None

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        return WHEN_MISSING if dbt_resource_props["resource_type"] == "seed" else AFTER_UPSTREAM


class DbtBuildConfig(dg.Config):
    """`full_refresh`: rebuild the incremental models whole (`dbt build --full-refresh`) instead of applying
    what arrived since their last build."""

    full_refresh: bool = False


def build(context: dg.AssetExecutionContext, dbt: DbtCliResource, args: list[str],
          config: DbtBuildConfig | None = None) -> Iterator:
    restore_if_damaged(get_settings().warehouse_path)  # dbt opens the file itself
    invocation = dbt.cli(args + (["--full-refresh"] if config and config.full_refresh else []), context=context)
    yield from invocation.stream()
    checkpoint(get_settings().warehouse_path)
    prune_invocation_targets(invocation.target_path.parent)


translator = ProjectTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=dbt_project.manifest_path, select=PRE_IDENTITY, dagster_dbt_translator=translator,
            name="dbt_staging", pool=DUCKDB_POOL, project=dbt_project)
def dbt_staging(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    # cautious: tests that also read marts (the reconciliation tests) wait for the marts run.
    yield from build(context, dbt, ["build", "--indirect-selection", "cautious"], config)


@dbt_assets(manifest=dbt_project.manifest_path, exclude=f"{PRE_IDENTITY} {AFTER_CLV}", dagster_dbt_translator=translator,
            name="dbt_marts", pool=DUCKDB_POOL, project=dbt_project)
def dbt_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    yield from build(context, dbt, ["build", "--indirect-selection", "cautious"], config)


@dbt_assets(manifest=dbt_project.manifest_path, select=AFTER_CLV, dagster_dbt_translator=translator,
            name="dbt_after_clv", pool=DUCKDB_POOL, project=dbt_project)
def dbt_after_clv(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from build(context, dbt, ["build"])
