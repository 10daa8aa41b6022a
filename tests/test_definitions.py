"""The Dagster definitions load, and their asset graph matches the reviewed snapshot."""

from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_keys.txt"


def test_definitions_load_with_every_layer():
    from orchestration.definitions import defs

    repo = defs.get_repository_def()
    keys = sorted(k.to_user_string() for k in repo.asset_graph.get_all_asset_keys())
    for feed in ["crm_contacts", "pos_transactions", "ecommerce_orders", "web_events", "email_events",
                 "campaigns", "service_cases", "survey_responses", "sales_leads"]:
        assert f"raw/{feed}" in keys and f"quarantine/{feed}" in keys and f"staging/stg_{feed}" in keys
    for mart in ["identity/customer_crosswalk", "core/dim_customers", "core/fct_orders", "rfm/customer_rfm",
                 "kpi/kpi_customers_monthly", "kpi/kpi_capture_rate_daily", "reference/rfm_segments"]:
        assert mart in keys
    graph = repo.asset_graph
    # raw tables are tracked per landing day; quarantine is one table across days (revalidation empties it)
    assert graph.get(dg.AssetKey(["raw", "web_events"])).partitions_def is not None
    assert graph.get(dg.AssetKey(["quarantine", "web_events"])).partitions_def is None
    assert "\n".join(keys) + "\n" == SNAPSHOT.read_text(), "asset graph changed: update tests/snapshots/asset_keys.txt"
    assert {j.name for j in repo.get_all_jobs()} >= {"ingest_job", "transform_job", "erasure_job"}
    assert {s.name for s in repo.schedule_defs} == set()  # the ingest's cron is an automation condition
    sensors = {s.name: s for s in repo.sensor_defs}
    assert set(sensors) == {"automation_sensor", "landing_files_sensor", "transform_after_erasure", "dead_run_sensor",
                            "run_failure_alert"}
    assert {s.default_status for s in sensors.values()} == {dg.DefaultSensorStatus.RUNNING}  # on with `make dev`


def test_lineage_is_one_graph():
    """dbt sources resolve to the ingestion and identity assets, so staging depends on raw and marts on identity."""
    from orchestration.definitions import defs

    graph = defs.get_repository_def().asset_graph
    parents = lambda key: {p.to_user_string() for p in graph.get(dg.AssetKey.from_user_string(key)).parent_keys}
    assert {"raw/pos_transactions", "quarantine/pos_transactions"} <= parents("staging/stg_pos_transactions")
    assert "intermediate/int_customer_records" in parents("identity/customer_crosswalk")
    assert "identity/customer_crosswalk" in parents("core/fct_orders")


def test_every_writer_shares_the_duckdb_pool():
    from orchestration.definitions import defs

    for assets_def in defs.get_repository_def().asset_graph.assets_defs:
        if assets_def.is_executable:
            assert assets_def.node_def.pool == "duckdb", assets_def.node_def.name
    erasure = defs.get_repository_def().get_job("erasure_job")
    assert {node.definition.pool for node in erasure.nodes} == {"duckdb"}
