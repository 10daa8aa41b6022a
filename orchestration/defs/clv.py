"""Predicted CLV: BG/NBD + Gamma-Gamma fitted on the purchase history in fct_orders, with a holdout backtest;
refitted every CRM_CLV_REFIT_DAYS, predicted every run from the stored fit (analytics/clv_store.py)."""

import os
import time

import dagster as dg
import numpy as np
import pandas as pd

from analytics import clv_store
from analytics.clv import backtest, fit, predict, summarise
from orchestration.defs.conditions import AFTER_UPSTREAM
from orchestration.defs.resources import DUCKDB_POOL, StepWarehouse
from scaleout.engine import current_engine

CUSTOMER_CLV = dg.AssetKey(["clv", "customer_clv"])
FCT_ORDERS = dg.AssetKey(["core", "fct_orders"])
# Purchase occasions (one row per customer and day), aggregated by the engine; the per-customer summary, the fit
# and the backtest's calibration/holdout split run on the driver (docs/scale-out.md: why, and up to what size).
OCCASIONS_SQL = """
SELECT customer_id, order_date, sum(net_revenue)::DOUBLE AS revenue FROM core.fct_orders
WHERE is_purchase AND customer_id IS NOT NULL GROUP BY customer_id, order_date
"""


PREDICTIONS_CHECK = "predictions_are_usable"


class CLVConfig(dg.Config):
    refit: bool = False  # fit again in this run, whatever the stored fit's age (e.g. after a change of history)


def _replace(con, table: str, frame: pd.DataFrame) -> None:
    con.register("_frame", frame)
    con.execute(f"CREATE OR REPLACE TABLE clv.{table} AS SELECT * FROM _frame")
    con.unregister("_frame")


def _unusable_predictions(predictions: pd.DataFrame, parameters: dict[str, float]) -> int:
    """Customers whose predictions are not numbers a CRM user can act on (the check below counts them)."""
    measures = ["probability_alive", "expected_purchases_90d"]
    if "p" in parameters:  # without a spend model CLV is NULL by design
        measures += ["expected_spend_per_purchase", "predicted_clv_12m"]
    values = predictions[measures]
    usable = np.isfinite(values).all(axis=1) & (values >= 0).all(axis=1) & (predictions["probability_alive"] <= 1)
    return int((~usable).sum())


def _fitted(occasions: pd.DataFrame, summary: pd.DataFrame, last_day: pd.Timestamp) -> clv_store.StoredFit:
    models = fit(summary)
    return clv_store.stored(backtest(occasions, last_day), models.parameters, last_day.date(), len(summary))


@dg.asset(key=CUSTOMER_CLV, deps=[FCT_ORDERS], group_name="clv", pool=DUCKDB_POOL,
          kinds={current_engine().kind, "pymc"},
          check_specs=[dg.AssetCheckSpec(PREDICTIONS_CHECK, asset=CUSTOMER_CLV,
                                         description="Every customer's predictions are finite and in range.")],
          automation_condition=AFTER_UPSTREAM,
          description="Per customer: probability alive, expected purchases in 90 days, predicted 12-month CLV "
                      "(monthly discount CRM_CLV_MONTHLY_DISCOUNT, default 1%). Also clv.model_parameters and "
                      "clv.backtest (calibration/holdout, aggregate and per decile). The fit is kept in "
                      "data/clv/fit.json and redone every CRM_CLV_REFIT_DAYS days (default 7) or on `refit`.")
def customer_clv(context: dg.AssetExecutionContext, config: CLVConfig, warehouse: StepWarehouse) -> dg.MaterializeResult:
    discount = float(os.environ.get("CRM_CLV_MONTHLY_DISCOUNT", "0.01"))
    with warehouse.step(queries={"_occasions": OCCASIONS_SQL}) as con:
        occasions = con.execute("SELECT * FROM _occasions").df()
    occasions["order_date"] = pd.to_datetime(occasions["order_date"])
    last_day = occasions["order_date"].max()
    started = time.perf_counter()
    summary = summarise(occasions, last_day)
    path, refit_days = clv_store.fit_path(), clv_store.refit_days()
    kept = clv_store.load(path)
    refitted = config.refit or kept is None or kept.is_due(last_day.date(), refit_days)
    if refitted:
        kept = _fitted(occasions, summary, last_day)
        clv_store.save(kept, path)
    predictions = predict(kept.parameters, summary, monthly_discount_rate=discount)
    seconds = time.perf_counter() - started
    checks = kept.backtest_frame()
    with warehouse.step(writes=("clv",)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS clv")
        _replace(con, "customer_clv", predictions.merge(summary, on="customer_id"))
        _replace(con, "model_parameters", kept.parameter_frame())
        _replace(con, "backtest", checks)
    overall = checks[checks["group"] == "all"]
    backtest_note = (f"backtest predicted {overall.predicted_purchases.iloc[0]:,.0f} vs actual "
                     f"{overall.actual_purchases.iloc[0]:,.0f} holdout purchases" if len(overall)
                     else "backtest skipped: too little history")
    fit_note = ("fitted now" if refitted else
                f"fit of {kept.observation_end} reused (refit every {refit_days} days)")
    context.log.info(f"CLV for {len(summary):,} customers in {seconds:.1f}s, {fit_note}; {backtest_note}")
    unusable = _unusable_predictions(predictions, kept.parameters)
    return dg.MaterializeResult(check_results=[dg.AssetCheckResult(
        check_name=PREDICTIONS_CHECK, passed=not unusable, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"customers_without_usable_predictions": unusable})], metadata={
        "customers": len(summary),
        "fit": fit_note,
        "fit_observation_end": kept.observation_end.isoformat(),
        "parameters": dg.MetadataValue.json({k: round(v, 4) for k, v in kept.parameters.items()}),
        "backtest": backtest_note,
        "seconds": round(seconds, 1),
    })
