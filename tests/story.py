"""A hand-made story through the real chain: landing files -> loader -> row rules and reconciliation -> dbt
staging -> identity resolution -> dbt marts, into a warehouse of its own."""

import json
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import run_dbt
from expectations.validator import validate_days
from identity.store import resolve_warehouse
from ingestion.audit import reconcile
from ingestion.contracts import load_contracts
from ingestion.loader import FeedLoader
from ingestion.warehouse import ensure_feed_tables


def land(landing: Path, con, feeds: dict[str, list[dict]], day: date) -> None:
    """Write each feed's rows as one file of its contract's format in date=<day>/, load and validate it. A feed the
    story leaves out is there, empty."""
    for contract in load_contracts().values():
        ensure_feed_tables(con, contract)
    for feed, rows in feeds.items():
        contract = load_contracts()[feed]
        folder = landing / feed / f"date={day}"
        folder.mkdir(parents=True)
        frame = pd.DataFrame([{c: row.get(c) for c in contract.column_names} for row in rows]).astype("string")
        if contract.format == "csv":
            frame.to_csv(folder / f"{feed}.csv", index=False)
        elif contract.format == "jsonl":
            (folder / f"{feed}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        else:
            con.execute(f"COPY (SELECT * FROM frame) TO '{folder / f'{feed}.parquet'}' (FORMAT parquet)")
        FeedLoader(con, contract, landing).load_day(day)
    for feed in sorted(feeds, key=lambda f: f != "campaigns"):  # email events' campaign_exists reads campaigns
        validate_days(con, load_contracts()[feed], day, day)
        reconcile(con, load_contracts()[feed], day, day, "story")


def stand_in_clv(path: Path) -> None:
    """Known CLV predictions (100 + the customer's rank by id) for the models built after the CLV asset, which a
    story does not fit (tests/test_clv.py tests the fit)."""
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA IF NOT EXISTS clv; CREATE OR REPLACE TABLE clv.customer_clv AS SELECT customer_id, "
                "100.0 + row_number() OVER (ORDER BY customer_id) AS predicted_clv_12m, 0.5 AS probability_alive "
                "FROM core.dim_customers")
    con.close()


def build_story_warehouse(root: Path, feeds: dict[str, list[dict]], day: date, patch: pytest.MonkeyPatch) -> Path:
    """Land the story, stage it, resolve identities and build the marts; CRM_WAREHOUSE stays on it in `patch`."""
    path = root / "story.duckdb"
    con = duckdb.connect(str(path))
    land(root / "landing", con, feeds, day)
    con.close()
    patch.setenv("CRM_WAREHOUSE", str(path))
    run_dbt("build", "--select", "staging", "int_customer_records", "--indirect-selection", "cautious", "--quiet")
    con = duckdb.connect(str(path))
    resolve_warehouse(con, "story-test", id_key=b"test-key")
    con.close()
    run_dbt("build", "--exclude", "staging", "int_customer_records", "tag:after_clv", "--quiet")
    return path
