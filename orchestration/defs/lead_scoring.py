"""Lead scoring asset: every open lead's conversion probability and reasons, from a model chosen by backtest."""

from datetime import datetime

import dagster as dg
import pandas as pd

from analytics.lead_scores import score_leads
from orchestration.defs.conditions import AFTER_UPSTREAM
from orchestration.defs.resources import DUCKDB_POOL, StepWarehouse
from scaleout.engine import current_engine

LEAD_SCORES = dg.AssetKey(["sales", "lead_scores"])
LEAD_FEATURES = dg.AssetKey(["intermediate", "int_lead__features"])


SCHEMAS = {  # typed here: a column pandas holds as all None would otherwise come out as INTEGER
    "lead_scores": "lead_id VARCHAR, customer_id VARCHAR, created_at TIMESTAMP, stage VARCHAR, "
                   "conversion_probability DOUBLE, top_reasons VARCHAR[], model VARCHAR, scored_at TIMESTAMP",
    "lead_score_backtest": "model VARCHAR, auc DOUBLE, top_decile_predicted_rate DOUBLE, top_decile_actual_rate DOUBLE, "
                           "test_converted_rate DOUBLE, train_leads BIGINT, test_leads BIGINT, split_at TIMESTAMP, "
                           "is_chosen BOOLEAN, fitted_at TIMESTAMP",
}


def _replace(con, table: str, frame: pd.DataFrame) -> None:
    con.execute(f"CREATE OR REPLACE TABLE sales.{table} ({SCHEMAS[table]})")
    if len(frame):
        con.register("_frame", frame)
        con.execute(f"INSERT INTO sales.{table} BY NAME SELECT * FROM _frame")
        con.unregister("_frame")


@dg.asset(key=LEAD_SCORES, deps=[LEAD_FEATURES], group_name="sales", pool=DUCKDB_POOL,
          kinds={current_engine().kind, "scikit-learn"}, automation_condition=AFTER_UPSTREAM,
          description="sales.lead_scores: every open lead with its conversion probability and top reasons; "
                      "sales.lead_score_backtest: AUC and top-decile calibration of logistic regression, gradient "
                      "boosting and a sales-calls-only baseline on the newest 30% of closed leads (the better "
                      "of the first two scores).")
def lead_scores(context: dg.AssetExecutionContext, warehouse: StepWarehouse) -> dg.MaterializeResult:
    with warehouse.step(reads=("intermediate.int_lead__features",)) as con:
        leads = con.execute("SELECT * FROM intermediate.int_lead__features").df()
    result = score_leads(leads)
    fitted_at = datetime.now()
    with warehouse.step(writes=("sales",)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS sales")
        _replace(con, "lead_scores", result.scores.assign(scored_at=fitted_at))
        _replace(con, "lead_score_backtest", result.backtest.assign(fitted_at=fitted_at))
    if result.chosen is None:
        context.log.info(f"lead scoring skipped: {int(leads['is_closed'].sum())} closed leads, too few (or one "
                         "outcome only) to fit and backtest")
    aucs = {row.model: round(row.auc, 4) for row in result.backtest.itertuples()} if len(result.backtest) else {}
    return dg.MaterializeResult(metadata={
        "open_leads_scored": len(result.scores), "closed_leads": int(leads["is_closed"].sum()),
        "model": result.chosen or "none (too few closed leads)", "backtest_auc": dg.MetadataValue.json(aucs),
    })
