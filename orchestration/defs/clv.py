"""Predicted CLV: BG/NBD + Gamma-Gamma fitted on the purchase history in fct_orders, with a holdout backtest."""

import os
import time
from datetime import datetime

import dagster as dg
import pandas as pd

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


def _replace(con, table: str, frame: pd.DataFrame) -> None:
    con.register("_frame", frame)
    con.execute(f"CREATE OR REPLACE TABLE clv.{table} AS SELECT * FROM _frame")
    con.unregister("_frame")


@dg.asset(key=CUSTOMER_CLV, deps=[FCT_ORDERS], group_name="clv", pool=DUCKDB_POOL,
          kinds={current_engine().kind, "pymc"},
          automation_condition=AFTER_UPSTREAM,
          description="Per customer: probability alive, expected purchases in 90 days, predicted 12-month CLV "
                      "(monthly discount CRM_CLV_MONTHLY_DISCOUNT, default 1%). Also clv.model_parameters and "
                      "clv.backtest (calibration/holdout, aggregate and per decile).")
def customer_clv(context: dg.AssetExecutionContext, warehouse: StepWarehouse) -> dg.MaterializeResult:
    discount = float(os.environ.get("CRM_CLV_MONTHLY_DISCOUNT", "0.01"))
    with warehouse.step(queries={"_occasions": OCCASIONS_SQL}) as con:
        occasions = con.execute("SELECT * FROM _occasions").df()
    occasions["order_date"] = pd.to_datetime(occasions["order_date"])
    last_day = occasions["order_date"].max()
    started = time.perf_counter()
    summary = summarise(occasions, last_day)
    models = fit(summary)
    predictions = predict(models, summary, monthly_discount_rate=discount)
    checks = backtest(occasions, last_day)
    seconds = time.perf_counter() - started
    parameters = pd.DataFrame([{"fitted_at": datetime.now(), "observation_end": last_day.date(), "parameter": k,
                                "value": v, "customers": len(summary)} for k, v in models.parameters.items()])
    with warehouse.step(writes=("clv",)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS clv")
        _replace(con, "customer_clv", predictions.merge(summary, on="customer_id"))
        _replace(con, "model_parameters", parameters)
        _replace(con, "backtest", checks)
    overall = checks[checks["group"] == "all"]
    backtest_note = (f"backtest predicted {overall.predicted_purchases.iloc[0]:,.0f} vs actual "
                     f"{overall.actual_purchases.iloc[0]:,.0f} holdout purchases" if len(overall)
                     else "backtest skipped: too little history")
    context.log.info(f"CLV fitted on {len(summary):,} customers in {seconds:.1f}s; {backtest_note}")
    return dg.MaterializeResult(metadata={
        "customers": len(summary),
        "parameters": dg.MetadataValue.json({k: round(v, 4) for k, v in models.parameters.items()}),
        "backtest": backtest_note,
        "fit_seconds": round(seconds, 1),
    })
