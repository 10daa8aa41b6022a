"""The serving databases, read by real clients while the pipeline writes: a held SQLAlchemy + duckdb_engine
connection, a second process polling, pooled clients; the files' modes, meta, and a publish that fails."""

import os
import stat
from datetime import date, timedelta

import dagster as dg
import duckdb

from conftest import LAST_DAY
from serving_clients import GENERATION_SQL, bi_engine, scalar


def test_a_held_bi_connection_survives_a_whole_run_and_a_new_one_sees_the_new_day(pipeline):
    seen = pipeline.clients
    assert seen.last_day_before == str(date.fromisoformat(LAST_DAY) - timedelta(days=1))
    # the connection held open through ingest + transform + publish kept answering, from its own generation
    assert seen.held_generation_after == seen.generation_before
    assert seen.held_rows_after == seen.held_rows_before > 0
    # a new connection afterwards sees the new publication and the new day, in meta and in the marts
    assert seen.new_generation != seen.generation_before
    assert seen.new_last_day == LAST_DAY and seen.new_last_touchpoint_day == LAST_DAY


def test_a_second_process_polling_every_half_second_never_fails_and_each_read_matches_its_meta(pipeline):
    polls = pipeline.clients.polls
    assert len(polls) >= 10
    assert [p for p in polls if "error" in p] == []
    assert [p for p in polls if p["mismatched"]] == []
    generations = [p["generation"] for p in polls]
    assert generations[0] == pipeline.clients.generation_before
    assert generations[-1] == pipeline.clients.new_generation  # it read through the publish


def test_files_have_their_modes_and_meta_says_what_and_from_where(pipeline):
    settings = pipeline.settings
    assert stat.S_IMODE(os.stat(settings.bi_database).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(settings.restricted_database).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(settings.secrets_dir / "pii.key").st_mode) == 0o600
    assert list((settings.bi_database.parent / ".drafts").iterdir()) == []
    con = duckdb.connect(str(settings.bi_database), read_only=True)
    try:
        (run_id, version, kind), = con.execute("SELECT run_id, models_version, kind FROM meta.publication").fetchall()
        tables = dict(((s, t), n) for s, t, n in con.execute("SELECT * FROM meta.tables").fetchall())
        schemas = {s for s, _ in tables}
        feeds = dict(con.execute("SELECT feed, last_landing_day FROM meta.feeds").fetchall())
        for (schema, table), rows in tables.items():
            assert con.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0] == rows
        kinds = {r[0] for r in con.execute("SELECT DISTINCT table_type FROM information_schema.tables").fetchall()}
    finally:
        con.close()
    assert kind == "bi" and version.startswith("1.0.0+")
    assert pipeline.instance.get_run_by_id(run_id) is not None  # the Dagster run that published it
    assert schemas == {"core", "rfm", "kpi", "clv", "service", "loyalty", "activation", "sales", "analytics", "reference"}
    assert ("core", "dim_customers") in tables and ("identity", "customer_crosswalk") not in tables
    assert max(feeds.values()).isoformat() == LAST_DAY
    assert kinds == {"BASE TABLE"}  # tables, not views bound to the build database's catalog


def test_a_pooled_client_sees_a_new_publication_after_dispose_or_with_a_null_pool(pipeline):
    from serving.publish import publish_build
    from orchestration.defs.dbt_project import dbt_project

    settings = pipeline.settings
    pooled = bi_engine(settings.bi_database)
    with pooled.connect() as connection:  # back to the pool on exit, still open
        before = scalar(connection, GENERATION_SQL)
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        publication = publish_build(con, settings, dbt_project.manifest_path, run_id="pool-test")
    finally:
        con.close()
    with pooled.connect() as connection:
        assert scalar(connection, GENERATION_SQL) == before  # the pool's open connection holds the old file
    pooled.dispose()
    with pooled.connect() as connection:
        assert scalar(connection, GENERATION_SQL) == publication.generation.generation_id
    pooled.dispose()
    unpooled = bi_engine(settings.bi_database, pooled=False)
    with unpooled.connect() as connection:
        assert scalar(connection, GENERATION_SQL) == publication.generation.generation_id


def test_a_failed_publish_leaves_the_previous_publication_and_fails_an_error_check(pipeline):
    from orchestration.defs.serving import BI_DATABASE, RESTRICTED_DATABASE

    settings = pipeline.settings
    before = {path: (os.stat(path).st_ino, _generation(path)) for path in (settings.bi_database,
                                                                          settings.restricted_database)}
    con = duckdb.connect(str(settings.warehouse_path))  # an analyst's table with an undeclared personal column
    con.execute("CREATE TABLE core.contact_export AS SELECT customer_id, email FROM core.dim_customers")
    con.close()
    try:
        job = pipeline.defs.resolve_implicit_global_asset_job_def()
        result = job.execute_in_process(instance=pipeline.instance, raise_on_error=False,
                                        asset_selection=[BI_DATABASE, RESTRICTED_DATABASE])
    finally:
        con = duckdb.connect(str(settings.warehouse_path))
        con.execute("DROP TABLE core.contact_export")
        con.close()
    assert not result.success
    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    (check,) = [e for e in evaluations if e.check_name == "published"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "core.contact_export" in check.metadata["error"].value and "meta.pii" in check.metadata["error"].value
    after = {path: (os.stat(path).st_ino, _generation(path)) for path in before}
    assert after == before
    assert list((settings.bi_database.parent / ".drafts").iterdir()) == []


def _generation(path) -> str:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{path}' AS published (READ_ONLY)")
        return con.execute("SELECT generation_id FROM published.meta.publication").fetchone()[0]
    finally:
        con.close()
