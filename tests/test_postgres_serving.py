"""PostgreSQL as a serving target, against a real server the tests start on a loopback port: roles, row counts
equal to the DuckDB publication's, and readers that never see an error or a mixed generation while publishes
swap schemas under them."""

import shutil
import threading
import time
from datetime import datetime

import dagster as dg
import duckdb
import psycopg
import pytest

from orchestration.defs.dbt_project import dbt_project
from serving.meta import Generation
from serving.policy import load_policy
from serving.postgres import publish_postgres
from serving.publish import publish

ANALYST, CRM_TEAM = ("analyst", "analyst-password"), ("crm_team", "crm-team-password")
CONSISTENT_READ = """
    SELECT p.generation_id,
           (SELECT count(*) FROM core.dim_customers) AS dim_customers,
           (SELECT count(*) FROM core.fct_orders) AS fct_orders,
           (SELECT count(*) FROM core.fct_touchpoints) AS fct_touchpoints,
           (SELECT json_object_agg(table_name, row_count) FROM meta.tables WHERE schema_name = 'core') AS listed
    FROM meta.publication AS p"""


@pytest.fixture(scope="module")
def logins(pipeline, postgres_server):
    """Two people's logins, members of the roles the publish created."""
    with postgres_server.connect(autocommit=True) as con:
        con.execute(f"CREATE ROLE {ANALYST[0]} LOGIN PASSWORD '{ANALYST[1]}' IN ROLE crm_bi")
        con.execute(f"CREATE ROLE {CRM_TEAM[0]} LOGIN PASSWORD '{CRM_TEAM[1]}' IN ROLE crm_restricted")
    return postgres_server


def test_a_bi_login_reads_the_bi_tables_and_is_refused_the_restricted_ones(logins):
    with logins.connect(*ANALYST) as con:
        customers, email = con.execute("SELECT count(*), min(email) FROM core.dim_customers").fetchone()
        assert customers > 100 and len(email) == 64 and "@" not in email  # a pseudonym
        assert con.execute("SELECT count(*) FROM kpi.kpi_scorecard").fetchone()[0] > 0
    for table in ("core_restricted.dim_customers", "core_restricted.fct_touchpoints"):
        with logins.connect(*ANALYST) as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute(f"SELECT count(*) FROM {table}")
    with logins.connect(*CRM_TEAM) as con:
        (email,) = con.execute("SELECT min(email) FROM core_restricted.dim_customers").fetchone()
        assert "@" in email
        # tables without personal data are mirrored as views, so the restricted schema is complete
        assert con.execute("SELECT count(*) FROM core_restricted.fct_touchpoints").fetchone()[0] > 0


def test_postgres_row_counts_equal_the_duckdb_publication(pipeline, logins):
    con = duckdb.connect()
    con.execute(f"ATTACH '{pipeline.settings.bi_database}' AS bi (READ_ONLY)")
    published = {f"{s}.{t}": n for s, t, n in con.execute("SELECT * FROM bi.meta.tables").fetchall()}
    con.close()
    with logins.connect(*ANALYST) as pg:
        counted = {table: pg.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in published}
    assert counted == published
    evaluations = [e for e in pipeline.instance.get_records_for_run(
        run_id=_last_transform_run(pipeline)).records if e.event_log_entry.dagster_event
        and e.event_log_entry.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"]
    checks = {e.event_log_entry.dagster_event.event_specific_data.check_name:
              e.event_log_entry.dagster_event.event_specific_data.passed for e in evaluations}
    assert checks["postgres_matches_publication"] is True


def _last_transform_run(pipeline) -> str:
    runs = pipeline.instance.get_runs(filters=dg.RunsFilter(job_name="transform_job"))
    return next(r.run_id for r in runs if r.is_success)


def test_a_reader_through_three_publishes_sees_no_error_and_one_generation_per_result(pipeline, logins, tmp_path):
    build = tmp_path / "build.duckdb"
    shutil.copy(pipeline.settings.warehouse_path, build)
    policy = load_policy(dbt_project.manifest_path)
    stop, results, errors = threading.Event(), [], []

    def read_in_a_loop():
        with logins.connect(*ANALYST, autocommit=True) as con:
            while not stop.is_set():
                try:
                    results.append(con.execute(CONSISTENT_READ).fetchone())
                except psycopg.Error as error:
                    errors.append(repr(error))

    reader = threading.Thread(target=read_in_a_loop)
    reader.start()
    generations = []
    try:
        for publish_number in range(1, 4):
            con = duckdb.connect(str(build))  # each generation holds different row counts
            for table in ("core.fct_touchpoints", "core.fct_orders", "core.dim_customers"):
                con.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} LIMIT {publish_number})")
            generation = Generation(f"test-{publish_number}", datetime.now(), "loop", "test")
            publish(con, tmp_path / "crm.duckdb", tmp_path / "crm_restricted.duckdb", policy, b"k", generation)
            con.close()
            publish_postgres(logins.url(), tmp_path / "crm.duckdb", tmp_path / "crm_restricted.duckdb")
            generations.append(generation.generation_id)
            time.sleep(0.3)
    finally:
        stop.set()
        reader.join(timeout=30)
    assert errors == []
    seen = {row[0] for row in results}
    assert set(generations) <= seen  # the reader was reading through every publish
    for generation_id, customers, orders, touchpoints, listed in results:
        assert (customers, orders, touchpoints) == (listed["dim_customers"], listed["fct_orders"],
                                                    listed["fct_touchpoints"]), generation_id

