"""End to end through Dagster on small generated data: counts, reconciliation, idempotent re-runs."""

import hashlib

import duckdb
import pandas as pd

from conftest import run_ingest, run_transform
from ingestion.contracts import load_contracts

MART_TABLES = ["core.dim_customers", "core.fct_orders", "rfm.customer_rfm", "kpi.kpi_customers_monthly",
               "kpi.kpi_capture_rate_daily", "identity.customer_crosswalk"]


def table_digest(con, table: str) -> str:
    """Order-independent fingerprint of a table's content, load timestamps left out."""
    frame = con.execute(f"SELECT * FROM {table}").df()
    frame = frame.drop(columns=[c for c in frame.columns if c in ("_loaded_at", "loaded_at", "quarantined_at",
                                                                     "reconciled_at", "run_id")])
    rows = sorted(frame.astype(str).apply("|".join, axis=1))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def query(settings, sql: str):
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_row_written_is_read_or_in_a_skipped_duplicate_file(pipeline):
    written, settings = pipeline.written, pipeline.settings
    for feed in load_contracts():
        (read,), = query(settings, f"SELECT coalesce(sum(rows_read), 0) FROM audit.load_manifest WHERE feed = '{feed}'")
        duplicates = query(settings, f"SELECT count(*) FROM audit.load_manifest WHERE feed = '{feed}' AND status = 'duplicate'")[0][0]
        assert read <= written[feed]
        assert read == written[feed] or duplicates > 0, feed


def test_rows_read_equal_passed_plus_quarantined_for_every_feed_and_day(pipeline):
    settings = pipeline.settings
    rows = query(settings, "SELECT feed, load_date, rows_read, rows_passed, rows_quarantined, balanced "
                           "FROM audit.load_reconciliation")
    assert {r[0] for r in rows} == set(load_contracts())
    for feed, day, read, passed, quarantined, balanced in rows:
        assert read == passed + quarantined and balanced, (feed, day)
    (quarantined,), = query(settings, "SELECT sum(rows_quarantined) FROM audit.load_reconciliation")
    assert quarantined > 0  # the generator's faulty rows were caught


def test_quarantine_names_feed_file_row_and_rule(pipeline):
    settings = pipeline.settings
    union = " UNION ALL ".join(f"SELECT feed, _source_file, _row_number, rule, message FROM quarantine.{feed}"
                               for feed in load_contracts())
    rows = query(settings, union)
    assert len(rows) >= 3
    for feed, source_file, row_number, rule, message in rows:
        assert message.startswith(f"[{feed}] {source_file} row {row_number}")
        assert rule in message or rule.startswith("malformed")


def test_marts_reconcile_with_staging(pipeline):
    settings = pipeline.settings
    (staged,), = query(settings, """
        SELECT (SELECT coalesce(sum(amount), 0) FROM staging.stg_pos_transactions WHERE status = 'completed')
             + (SELECT coalesce(sum(amount), 0) FROM staging.stg_ecommerce_orders WHERE status = 'completed')""")
    (fact,), = query(settings, "SELECT sum(net_revenue) FROM core.fct_orders")
    (rfm,), = query(settings, "SELECT sum(monetary_total) FROM rfm.customer_rfm")
    (identified,), = query(settings, "SELECT sum(net_revenue) FROM core.fct_orders WHERE customer_id IS NOT NULL")
    (monthly,), = query(settings, "SELECT sum(revenue) FROM kpi.kpi_customers_monthly")
    (dim,), = query(settings, "SELECT sum(revenue_to_date) FROM core.dim_customers")
    assert staged == fact == monthly
    assert rfm == identified == dim
    (orders,), = query(settings, "SELECT (SELECT count(*) FROM staging.stg_pos_transactions) "
                                 "+ (SELECT count(*) FROM staging.stg_ecommerce_orders)")
    assert orders == query(settings, "SELECT count(*) FROM core.fct_orders")[0][0]


def test_single_view_counts(pipeline):
    settings = pipeline.settings
    (customers, unique_ids), = query(settings, "SELECT count(*), count(DISTINCT customer_id) FROM core.dim_customers")
    assert customers == unique_ids > 0
    # every customer-bearing record is in exactly one customer
    (records,), = query(settings, "SELECT count(*) FROM intermediate.int_customer_records")
    assert records == query(settings, "SELECT count(*) FROM identity.customer_crosswalk")[0][0]
    assert customers < records
    (capture,), = query(settings, "SELECT avg(is_identified::int) FROM core.fct_orders WHERE is_purchase")
    assert 0.3 < capture < 0.95  # receipts without a loyalty card stay anonymous
    segments = query(settings, "SELECT count(*) FROM rfm.customer_rfm WHERE segment IS NULL")[0][0]
    assert segments == 0


def test_materialising_a_day_twice_changes_nothing(pipeline):
    defs, instance, settings = pipeline.defs, pipeline.instance, pipeline.settings
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    raw_tables = [f"{schema}.{feed}" for feed in load_contracts() for schema in ("raw", "quarantine")]
    before = {t: table_digest(con, t) for t in raw_tables + MART_TABLES + ["audit.load_manifest"]}
    con.close()
    day = "2026-06-15"
    assert run_ingest(defs, instance, day, day).success
    assert run_ingest(defs, instance, day, day).success
    assert run_transform(defs, instance).success
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    after = {t: table_digest(con, t) for t in before}
    con.close()
    assert after == before


def test_identity_quality_against_the_generator_truth(pipeline):
    from identity.evaluation import generator_records, pairwise_scores

    settings = pipeline.settings
    records = generator_records(settings.warehouse_path, settings.truth_dir)
    crosswalk = pd.DataFrame(query(settings, "SELECT source, source_record_id, customer_id "
                                             "FROM identity.customer_crosswalk"),
                             columns=["source", "source_record_id", "customer_id"])
    joined = records.merge(crosswalk, on=["source", "source_record_id"], validate="one_to_one")
    assert len(joined) == len(records) > 500
    scores = pairwise_scores(joined["customer_id"], joined["person_id"])
    assert scores.f1 >= 0.97 and scores.precision >= 0.97, scores.describe()


def test_ids_survive_the_added_day(pipeline):
    settings = pipeline.settings
    (kept, moved), = query(settings, """
        SELECT count(*) FILTER (WHERE b.customer_id = a.customer_id),
               count(*) FILTER (WHERE b.customer_id <> a.customer_id
                                AND NOT EXISTS (SELECT 1 FROM identity.customer_id_changes c
                                                WHERE c.change = 'merge' AND c.customer_id = b.customer_id))
        FROM before_last_day b JOIN identity.customer_crosswalk a USING (source, source_record_id)""")
    assert kept > 500 and moved == 0  # an id only changes through a logged merge


def test_lineage_lists_the_records_and_the_edge_behind_each_join(pipeline):
    from identity.store import lineage

    settings = pipeline.settings
    (customer_id, records), = query(settings, "SELECT customer_id, count(*) FROM identity.customer_crosswalk "
                                              "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    frame = lineage(con, customer_id)
    con.close()
    assert (frame["kind"] == "record").sum() == records
    edges = frame[frame["kind"] == "edge"]
    assert len(edges) >= records - 1 and edges["rule"].notna().all()
