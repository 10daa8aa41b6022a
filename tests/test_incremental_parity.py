"""Daily runs give the warehouse a full rebuild gives: a generated stretch of days delivered day by day (with a
re-delivered day, a late file for an old day and a day whose new contact merges two existing customers)
against one load of the same landing files into a new warehouse. Every mart table must compare equal, with
customer ids compared through their clusters (a merge keeps the older id, a rebuild derives a new one)."""

import csv
import os
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from conftest import query, restored_environment, run_ingest, run_transform
from warehouse_compare import differences

END = date(2026, 4, 8)
DAYS = 8
# the marts, and the staging and intermediate tables the incremental models build on
COMPARED_SCHEMAS = ("staging", "intermediate", "core", "rfm", "kpi", "clv", "service", "loyalty", "activation", "sales", "analytics")


def day(n: int) -> str:
    return (END - timedelta(days=DAYS - n)).isoformat()


@dataclass
class Warehouses:
    daily: Path
    rebuilt: Path
    merged: tuple[str, str]  # the two customer ids the last day's contact merged, in the daily warehouse
    resolution_modes: list[str]


def _environment(root: Path) -> dict:
    return {"CRM_DATA_DIR": str(root / "data"), "CRM_WAREHOUSE": str(root / "data" / "warehouse" / "crm.duckdb"),
            "DAGSTER_HOME": str(root / "dagster")}


def _point_at(root: Path) -> None:
    os.environ.update(_environment(root))
    (root / "dagster").mkdir(parents=True, exist_ok=True)



def _add_merging_contact(landing: Path, warehouse: Path) -> tuple[str, str]:
    """A new CRM contact on the last day with one customer's email and another's loyalty id."""
    (first, email), (second, loyalty) = query(warehouse, """
        WITH holders AS (
            SELECT c.customer_id, any_value(r.email) FILTER (r.email IS NOT NULL) AS email,
                   any_value(r.loyalty_id) FILTER (r.loyalty_id IS NOT NULL) AS loyalty_id
            FROM identity.customer_crosswalk c JOIN intermediate.int_customer_records r USING (source, source_record_id)
            GROUP BY 1)
        (SELECT customer_id, email FROM holders WHERE email IS NOT NULL AND loyalty_id IS NULL ORDER BY 1 LIMIT 1)
        UNION ALL
        (SELECT customer_id, loyalty_id FROM holders WHERE loyalty_id IS NOT NULL AND email IS NULL ORDER BY 1 LIMIT 1)""")
    folder = landing / "crm_contacts" / f"date={day(DAYS)}"
    source = sorted(folder.glob("*.csv"))[0]
    with source.open(newline="") as handle:
        header = next(csv.reader(handle))
    row = dict.fromkeys(header, "")
    row |= {"contact_id": "C99999999", "email": email, "loyalty_id": loyalty, "first_name": "Sam", "last_name": "Merge",
            "country": "GB", "signup_date": day(DAYS), "signup_channel": "store", "tier": "bronze",
            "updated_at": f"{day(DAYS)} 12:00:00"}
    with (folder / "part-9000.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerow(row)
    return first, second


def _add_late_file(landing: Path) -> None:
    """A file that arrives for an old day after that day was loaded: the third day's orders, delivered again
    under new order ids (a second till's export)."""
    folder = landing / "ecommerce_orders" / f"date={day(3)}"
    source = sorted(folder.glob("*.csv"))[0]
    with source.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (folder / "part-8000.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "order_id": f"LATE-{r['order_id']}"} for r in rows[:10])


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    from ingestion.generator import GeneratorConfig, generate
    from orchestration.definitions import build_definitions

    root = tmp_path_factory.mktemp("parity")
    daily, rebuilt = root / "daily", root / "rebuilt"
    landing = daily / "data" / "landing"
    with restored_environment():
        os.environ.pop("CRM_SERVING_POSTGRES_URL", None)
        generate(GeneratorConfig(customers=150, days=DAYS, seed=5, end_date=END), landing, root / "truth")
        _point_at(daily)
        defs, instance = build_definitions(), dg.DagsterInstance.get()
        modes = []

        def load(first: str, last: str) -> None:
            assert run_ingest(defs, instance, first, last).success
            assert run_transform(defs, instance).success
            modes.append(query(daily / "data" / "warehouse" / "crm.duckdb", "SELECT mode FROM identity.resolution_runs "
                                "ORDER BY resolved_at DESC LIMIT 1")[0][0])

        load(day(1), day(5))
        load(day(6), day(6))
        load(day(7), day(7))
        load(day(6), day(6))  # re-delivered: the same files again
        _add_late_file(landing)
        load(day(3), day(3))
        merged = _add_merging_contact(landing, daily / "data" / "warehouse" / "crm.duckdb")
        load(day(8), day(8))
        instance.dispose()

        # the same installation rebuilt from its landing files: same files, same key, same identity model and
        # CLV fit (the daily runs fitted on the first load and predicted from that fit since)
        for folder in ("landing", "secrets", "identity", "clv"):
            if (daily / "data" / folder).exists():
                shutil.copytree(daily / "data" / folder, rebuilt / "data" / folder)
        _point_at(rebuilt)
        defs, instance = build_definitions(), dg.DagsterInstance.get()
        assert run_ingest(defs, instance, day(1), day(DAYS)).success
        assert run_transform(defs, instance).success
        instance.dispose()
        yield Warehouses(daily / "data" / "warehouse" / "crm.duckdb", rebuilt / "data" / "warehouse" / "crm.duckdb",
                         merged, modes)


def test_the_daily_runs_resolved_incrementally_and_merged_the_two_customers(warehouses):
    assert warehouses.resolution_modes[0] == "full" and set(warehouses.resolution_modes[1:]) == {"incremental"}
    first, second = warehouses.merged
    (kept,), = query(warehouses.daily, "SELECT count(DISTINCT customer_id) FROM identity.customer_crosswalk "
                      "WHERE (source, source_record_id) IN (SELECT (source, source_record_id) FROM "
                      "identity.customer_crosswalk WHERE customer_id IN (?, ?)) OR source_record_id = 'C99999999'",
                      [first, second])
    assert kept == 1
    assert query(warehouses.daily, "SELECT count(*) FROM identity.customer_id_changes WHERE change = 'merge' "
                  "AND related_customer_id IN (?, ?)", [first, second])[0][0] >= 1


def test_the_daily_runs_predicted_clv_from_the_fit_of_the_first_load(warehouses):
    assert query(warehouses.daily, "SELECT DISTINCT observation_end::VARCHAR FROM clv.model_parameters") == [(day(5),)]


def test_every_table_equals_the_full_rebuild(warehouses):
    tables, found = differences(warehouses.daily, warehouses.rebuilt, COMPARED_SCHEMAS)
    assert len(tables) >= 19 and ("staging", "stg_web_events") in tables
    assert found == {}
