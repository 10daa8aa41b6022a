"""Paths and knobs, read from environment variables with embedded defaults under `data/`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse_path: Path
    # the first landing-day partition (CRM_START_DATE); unset, the first date= folder under landing/ is
    start_date: str | None
    # DuckDB's memory_limit in each process that opens the warehouse (e.g. "8GB"): the Dagster process and dbt's
    # run on one machine, and unset each lets DuckDB take 80% of RAM
    duckdb_memory_limit: str | None = None
    # where the published BI and restricted databases live (CRM_SERVING_DIR)
    serving_dir: Path = Path("data/serving")
    # optional PostgreSQL serving target (CRM_SERVING_POSTGRES_URL), e.g. postgresql://publisher@host/crm
    serving_postgres_url: str | None = None
    # where failure alerts are POSTed (CRM_ALERT_WEBHOOK, Slack-compatible); they always go to alerts_log too
    alert_webhook: str | None = None
    # the Dagster UI that alerts link to (CRM_UI_URL)
    ui_url: str = "http://127.0.0.1:3000"

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def truth_dir(self) -> Path:
        """Ground truth written by the generator; the pipeline never reads it."""
        return self.data_dir / "truth"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def alerts_log(self) -> Path:
        return self.data_dir / "alerts.log"

    @property
    def secrets_dir(self) -> Path:
        """Keys the pipeline generates for itself (the pseudonymisation key); owner-only, never in the repository."""
        return self.data_dir / "secrets"

    @property
    def bi_database(self) -> Path:
        return self.serving_dir / "crm.duckdb"

    @property
    def restricted_database(self) -> Path:
        return self.serving_dir / "crm_restricted.duckdb"


def get_settings() -> Settings:
    data_dir = Path(os.environ.get("CRM_DATA_DIR", REPO_ROOT / "data")).resolve()
    warehouse = Path(os.environ.get("CRM_WAREHOUSE", data_dir / "warehouse" / "crm.duckdb")).resolve()
    start_date = os.environ.get("CRM_START_DATE") or None
    serving = os.environ.get("CRM_SERVING_DIR")
    return Settings(data_dir=data_dir, warehouse_path=warehouse, start_date=start_date,
                    duckdb_memory_limit=os.environ.get("CRM_DUCKDB_MEMORY_LIMIT") or None,
                    serving_dir=Path(serving).resolve() if serving else data_dir / "serving",
                    serving_postgres_url=os.environ.get("CRM_SERVING_POSTGRES_URL") or None,
                    alert_webhook=os.environ.get("CRM_ALERT_WEBHOOK") or None,
                    ui_url=os.environ.get("CRM_UI_URL") or Settings.ui_url)
