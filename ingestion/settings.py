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
    start_date: str
    # DuckDB's memory_limit in each process that opens the warehouse (e.g. "8GB"): the Dagster process and dbt's
    # run on one machine, and unset each lets DuckDB take 80% of RAM
    duckdb_memory_limit: str | None = None

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


def get_settings() -> Settings:
    data_dir = Path(os.environ.get("CRM_DATA_DIR", REPO_ROOT / "data")).resolve()
    warehouse = Path(os.environ.get("CRM_WAREHOUSE", data_dir / "warehouse" / "crm.duckdb")).resolve()
    # First day a landing partition may exist; CDNOW (1997) sets it earlier.
    start_date = os.environ.get("CRM_START_DATE", "2024-01-01")
    return Settings(data_dir=data_dir, warehouse_path=warehouse, start_date=start_date,
                    duckdb_memory_limit=os.environ.get("CRM_DUCKDB_MEMORY_LIMIT") or None)
