"""Side-by-side comparisons, each on the same data in the same process: the project's way and what a user would
otherwise reach for. Each returns its figures and whether the outputs agree."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from bench.measure import measured
from identity.evaluation import pairwise_scores
from identity.resolver import resolve
from ingestion.contracts import load_contracts
from ingestion.loader import FeedLoader
from orchestration.defs.resources import dbt_executable

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


def run_dbt(*args: str) -> None:
    """The venv's dbt on the project, under the current settings (CRM_WAREHOUSE)."""
    subprocess.run([dbt_executable(), *args, "--quiet", "--project-dir", str(DBT_PROJECT),
                    "--profiles-dir", str(DBT_PROJECT)], check=True, capture_output=True)


def compiled_models_sql(models: dict[str, str], scratch: Path) -> dict[str, str]:
    """Each model's SQL as dbt compiles it for the current warehouse (CRM_WAREHOUSE) on a full build (an
    incremental model computes everything), names unqualified. models maps a model name to its path under
    models/."""
    run_dbt("compile", "--full-refresh", "--select", *models, "--target-path", str(scratch))
    compiled = scratch / "compiled" / "customer_single_view" / "models"
    # compiled names are database.schema.table; the database is named after the warehouse file
    return {model: re.sub(r'"[^"]+"\.("[^"]+"\."[^"]+")', r"\1", (compiled / relative).read_text())
            for model, relative in models.items()}


def best_of(runs: int, work) -> tuple[float, object]:
    """The fastest of several runs (as timeit advises: slower runs measure the machine's noise) and the result."""
    timings = []
    for _ in range(runs):
        with measured() as run:
            result = work()
        timings.append(run.seconds)
    return min(timings), result


def rfm(warehouse: Path, runs: int = 3) -> dict:
    """The project's RFM models (as dbt compiled them) vs lifetimes and pymc-marketing on the same purchases.
    Like for like is int_customer_rfm__summary, the summary both libraries compute; customer_rfm adds the
    quintile scores and segments on top. Each model runs as dbt runs it: CREATE TABLE AS in the warehouse."""
    from lifetimes.utils import summary_data_from_transaction_data
    from pymc_marketing.clv import rfm_summary

    # compiled first: dbt opens the warehouse for writing, which a reader's connection would block
    sql = compiled_models_sql({"int_customer_rfm__summary": "intermediate/int_customer_rfm__summary.sql",
                               "customer_rfm": "marts/rfm/customer_rfm.sql"}, warehouse.parent / "dbt_compiled")
    con = duckdb.connect(str(warehouse), read_only=True)
    transactions = con.execute("SELECT customer_id, order_date::TIMESTAMP AS order_date, net_revenue::DOUBLE AS revenue "
                               "FROM core.fct_orders WHERE is_purchase AND customer_id IS NOT NULL").df()
    summary_seconds, _ = best_of(runs, lambda: con.execute(
        f"CREATE OR REPLACE TEMP TABLE bench_rfm_summary AS {sql['int_customer_rfm__summary']}"))
    model_seconds, _ = best_of(runs, lambda: con.execute(
        f"CREATE OR REPLACE TEMP TABLE bench_customer_rfm AS {sql['customer_rfm']}"))
    summary = con.execute("SELECT * FROM bench_rfm_summary").df()
    scored = con.execute("SELECT customer_id, frequency, recency_days, monetary_mean FROM bench_customer_rfm").df()
    con.close()
    end = transactions["order_date"].max()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lifetimes_seconds, lifetimes = best_of(runs, lambda: summary_data_from_transaction_data(
            transactions, "customer_id", "order_date", monetary_value_col="revenue", observation_period_end=end,
            include_first_transaction=True))
        pymc_seconds, pymc = best_of(runs, lambda: rfm_summary(
            transactions, "customer_id", "order_date", monetary_value_col="revenue", observation_period_end=end,
            include_first_transaction=True))
    lifetimes = lifetimes.sort_index()
    pymc = pymc.set_index("customer_id").sort_index()
    # ours: frequency = occasions, recency_days = end - last; lifetimes: recency = last - first, T = end - first;
    # pymc-marketing's segmentation form already gives recency = end - last
    agree = all(
        ours.index.equals(lifetimes.index) and ours.index.equals(pymc.index)
        and np.array_equal(ours["frequency"], lifetimes["frequency"])
        and np.array_equal(ours["frequency"], pymc["frequency"])
        and np.allclose(ours["recency_days"], lifetimes["T"] - lifetimes["recency"])
        and np.allclose(ours["recency_days"], pymc["recency"])
        and np.allclose(ours["monetary_mean"].astype(float), lifetimes["monetary_value"])
        and np.allclose(ours["monetary_mean"].astype(float), pymc["monetary_value"])
        for ours in (summary.set_index("customer_id").sort_index(), scored.set_index("customer_id").sort_index())
    )
    return {
        "customers": len(summary), "purchases": len(transactions), "outputs_agree": bool(agree), "runs": runs,
        "summary_seconds": round(summary_seconds, 3), "model_seconds": round(model_seconds, 3),
        "lifetimes_seconds": round(lifetimes_seconds, 3), "pymc_marketing_seconds": round(pymc_seconds, 3),
        "speedup_vs_lifetimes": round(lifetimes_seconds / summary_seconds, 1),
        "speedup_vs_pymc_marketing": round(pymc_seconds / summary_seconds, 1),
        "model_speedup_vs_lifetimes": round(lifetimes_seconds / model_seconds, 1),
    }


def _recordlinkage(records: pd.DataFrame) -> pd.Series:
    """The recordlinkage toolkit's textbook pipeline: blocking, feature comparison, an unsupervised ECM
    classifier; matched pairs are then clustered the same way as ours (connected components)."""
    import recordlinkage
    from identity.clustering import cluster_labels

    frame = records.reset_index(drop=True).copy()
    for column in ("first_name", "last_name", "street", "city", "postcode", "birth_date", "email", "phone"):
        frame[column] = frame[column].astype("string").str.lower().str.strip() if column in frame else pd.NA
    indexer = recordlinkage.Index()
    indexer.block("last_name")
    indexer.block("postcode")
    indexer.block("birth_date")
    pairs = indexer.index(frame)
    compare = recordlinkage.Compare()
    compare.string("first_name", "first_name", method="jarowinkler", threshold=0.85, label="first_name")
    compare.string("last_name", "last_name", method="jarowinkler", threshold=0.85, label="last_name")
    compare.exact("birth_date", "birth_date", label="birth_date")
    compare.string("street", "street", method="jarowinkler", threshold=0.85, label="street")
    compare.exact("postcode", "postcode", label="postcode")
    compare.exact("email", "email", label="email")
    compare.exact("phone", "phone", label="phone")
    features = compare.compute(pairs, frame)
    matches = recordlinkage.ECMClassifier(binarize=0.5).fit_predict(features)
    edges = pd.DataFrame({"left_index": matches.get_level_values(0), "right_index": matches.get_level_values(1)})
    return pd.Series(cluster_labels(len(frame), edges))


def identity(datasets: dict[str, tuple[pd.DataFrame, str, dict]]) -> dict:
    """Our resolver vs recordlinkage on each dataset: pairwise F1 and time."""
    logging.getLogger("recordlinkage").setLevel(logging.ERROR)
    results = {}
    for name, (records, truth, options) in datasets.items():
        with measured() as ours:
            resolution = resolve(records, **options)
        ours_scores = pairwise_scores(resolution.records["cluster"], records[truth])
        with measured() as theirs, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            their_clusters = _recordlinkage(records)
        their_scores = pairwise_scores(their_clusters, records[truth])
        results[name] = {
            "records": len(records),
            "project_f1": round(ours_scores.f1, 4), "project_precision": round(ours_scores.precision, 4),
            "project_seconds": round(ours.seconds, 2),
            "recordlinkage_f1": round(their_scores.f1, 4), "recordlinkage_precision": round(their_scores.precision, 4),
            "recordlinkage_seconds": round(theirs.seconds, 2),
            "speedup": round(theirs.seconds / ours.seconds, 1),
        }
    return results


def ingestion(landing: Path, feed: str, scratch: Path) -> dict:
    """The project's loader (contract, checksums, rejects to quarantine, manifest) vs pandas read_csv + a DuckDB
    insert of the same files, and DuckDB alone reading them once."""
    contract = load_contracts()[feed]
    files = sorted((landing / feed).glob("date=*/*.csv"))
    days = sorted({pd.Timestamp(p.parent.name[5:]).date() for p in files})
    con = duckdb.connect(str(scratch / "ingest_project.duckdb"))
    with measured() as ours:
        loads = FeedLoader(con, contract, landing).load_days(days)
    rows_project = sum(f.rows_read for load in loads for f in load.files if f.status == "loaded")
    con.close()
    con = duckdb.connect(str(scratch / "ingest_pandas.duckdb"))
    with measured() as pandas_time:
        frame = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False, on_bad_lines="skip", encoding_errors="replace")
                           for p in files], ignore_index=True)
        con.execute("CREATE TABLE raw AS SELECT * FROM frame")
    con.close()
    with measured() as floor:
        duckdb.sql(f"SELECT count(*) FROM read_csv({[str(p) for p in files]}, all_varchar = true, "
                   f"ignore_errors = true, hive_partitioning = false)").fetchall()
    return {
        "feed": feed, "files": len(files), "rows_project": rows_project, "rows_pandas": len(frame),
        "project_seconds": round(ours.seconds, 2), "pandas_seconds": round(pandas_time.seconds, 2),
        "duckdb_floor_seconds": round(floor.seconds, 2),
        "project_vs_pandas": round(pandas_time.seconds / ours.seconds, 2),
    }


def floor(landing: Path) -> dict:
    """DuckDB alone reading every landing file once: the least any pipeline over these files can cost."""
    with measured() as read:
        rows = 0
        for feed, contract in load_contracts().items():
            paths = [str(p) for p in sorted((landing / feed).glob("date=*/*")) if p.suffix in contract.suffixes]
            if not paths:
                continue
            reader = {"csv": "read_csv({0}, all_varchar = true, ignore_errors = true, hive_partitioning = false)",
                      "parquet": "read_parquet({0}, hive_partitioning = false)",
                      "jsonl": "read_json({0}, format = 'newline_delimited', ignore_errors = true, "
                               "hive_partitioning = false)"}[contract.format]
            rows += duckdb.sql(f"SELECT count(*) FROM {reader.format(paths)}").fetchone()[0]
    return {"rows": rows, "seconds": round(read.seconds, 2)}


def lead_scores(warehouse: Path) -> list[dict]:
    """The pipeline's own lead-score backtest on the generated leads (whose conversion follows a known logit)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cursor = con.execute("SELECT model, auc, top_decile_predicted_rate, top_decile_actual_rate, "
                             "test_converted_rate, train_leads, test_leads, is_chosen FROM sales.lead_score_backtest")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def affinity(warehouse: Path, runs: int = 3) -> dict:
    """analytics.product_affinity built whole as dbt compiled it (its daily basket counts, then their sums; each
    CREATE TABLE AS in the warehouse) against mlxtend's apriori + association_rules on the same category baskets,
    at the model's minimum support: time side by side, and the same support, confidence and lift for every pair
    of categories."""
    from mlxtend.frequent_patterns import apriori, association_rules

    sql = compiled_models_sql({"int_baskets__daily": "intermediate/int_baskets__daily.sql",
                               "product_affinity": "marts/analytics/product_affinity.sql"},
                              warehouse.parent / "dbt_compiled")
    daily_sql = sql["int_baskets__daily"]
    affinity_sql = sql["product_affinity"].replace('"intermediate"."int_baskets__daily"', "bench_baskets")
    con = duckdb.connect(str(warehouse), read_only=True)

    def modelled() -> None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE bench_baskets AS {daily_sql}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE bench_affinity AS {affinity_sql}")

    model_seconds, _ = best_of(runs, modelled)
    ours = con.execute("SELECT antecedent, consequent, support, confidence, lift FROM bench_affinity "
                       "WHERE level = 'category'").df()
    baskets = con.execute("SELECT DISTINCT order_key, category FROM core.fct_order_lines WHERE is_purchase").df()
    minimum = con.execute("SELECT min(support) FROM bench_affinity WHERE level = 'category'").fetchone()[0] or 0.001
    con.close()

    def mined() -> pd.DataFrame:
        onehot = pd.crosstab(baskets["order_key"], baskets["category"]).astype(bool)
        itemsets = apriori(onehot, min_support=minimum, use_colnames=True, max_len=2)
        return association_rules(itemsets, metric="lift", min_threshold=0.0)

    mlxtend_seconds, rules = best_of(runs, mined)
    pairs = rules[(rules["antecedents"].map(len) == 1) & (rules["consequents"].map(len) == 1)]
    theirs = pd.DataFrame({"antecedent": pairs["antecedents"].map(lambda s: next(iter(s))),
                           "consequent": pairs["consequents"].map(lambda s: next(iter(s))),
                           "support": pairs["support"], "confidence": pairs["confidence"], "lift": pairs["lift"]})
    joined = ours.merge(theirs, on=["antecedent", "consequent"], suffixes=("_ours", "_mlxtend"))
    agree = len(joined) == len(ours) == len(theirs) and all(
        np.allclose(joined[f"{m}_ours"].astype(float), joined[f"{m}_mlxtend"]) for m in ("support", "confidence", "lift"))
    return {"baskets": int(baskets["order_key"].nunique()), "category_pairs": len(ours), "runs": runs,
            "model_seconds": round(model_seconds, 3), "mlxtend_seconds": round(mlxtend_seconds, 3),
            "speedup_vs_mlxtend": round(mlxtend_seconds / model_seconds, 1), "outputs_agree": bool(agree),
            "top": ours[ours["antecedent"] < ours["consequent"]].nlargest(3, "lift")[
                ["antecedent", "consequent", "lift"]].round(3).values.tolist()}


def campaign_lift(warehouse: Path, truth: Path) -> dict:
    """The lift kpi_campaign_performance measures on the generator's audience campaigns, pooled over them, against
    the uplift planted (truth/campaign_lift.json): the planted chance that a treated customer buys because of the
    campaign is estimated as (treated rate - control rate) / (1 - control rate)."""
    planted = json.loads((truth / "campaign_lift.json").read_text())
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        treated, control, treated_rate, control_rate, revenue_lift = con.execute("""
            SELECT sum(treated_customers), sum(control_customers),
                   sum(treated_response_rate * treated_customers) / sum(treated_customers),
                   sum(control_response_rate * control_customers) / sum(control_customers),
                   sum(lift_revenue_per_member * treated_customers) / sum(treated_customers)
            FROM kpi.kpi_campaign_performance WHERE control_customers > 0""").fetchone()
    finally:
        con.close()
    if not control:
        return {"campaigns": len(planted["campaigns"]), "control_customers": 0}
    estimated = (treated_rate - control_rate) / (1 - control_rate)
    return {"campaigns": len(planted["campaigns"]), "treated_customers": int(treated), "control_customers": int(control),
            "treated_response_rate": round(treated_rate, 4), "control_response_rate": round(control_rate, 4),
            "revenue_lift_per_member": round(float(revenue_lift), 2), "estimated_uplift": round(estimated, 4),
            "planted_uplift": round(planted["planted_uplift"], 4)}
