"""One DuckDB memory limit (CRM_DUCKDB_MEMORY_LIMIT) reaches both processes that open the warehouse."""

import os
import subprocess

from orchestration.defs.dbt_project import DBT_PROJECT_DIR
from orchestration.defs.resources import build_resources, dbt_executable


def test_the_memory_limit_reaches_dagsters_connection_and_dbts(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_WAREHOUSE", str(tmp_path / "crm.duckdb"))
    monkeypatch.setenv("CRM_DUCKDB_MEMORY_LIMIT", "1GB")
    with build_resources()["duckdb"].get_connection() as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"  # 1e9 bytes

    dbt = subprocess.run(
        [dbt_executable(), "--debug", "seed", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        env=os.environ, capture_output=True, text=True)
    assert dbt.returncode == 0, dbt.stdout[-2000:]
    assert "set memory_limit = '1GB'" in dbt.stdout + dbt.stderr
