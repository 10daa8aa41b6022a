"""Predicted CLV: the maximum-likelihood fit reproduces the published CDNOW estimates, a calibration/holdout
backtest on the CDNOW master transactions predicts the holdout purchases, and predictions from a stored fit
equal the fitted models' own."""

from datetime import date

import pandas as pd
import pytest

from analytics import clv_store
from analytics.cdnow import calibration_summary, master_transactions
from analytics.clv import backtest, fit, predict, restore

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def cdnow_fit():
    summary = calibration_summary()
    return summary, fit(summary)


def test_fit_reproduces_the_published_cdnow_estimates(cdnow_fit):
    _, models = cdnow_fit
    for name, published in PUBLISHED.items():
        assert models.parameters[name] == pytest.approx(published, rel=0.005), name


def test_predictions_are_sane(cdnow_fit):
    summary, models = cdnow_fit
    predicted = predict(models, summary, horizon_days=90)
    assert len(predicted) == len(summary)
    assert predicted["probability_alive"].between(0, 1).all()
    assert (predicted["expected_purchases_90d"] >= 0).all()
    # under BG/NBD a customer without a repeat purchase has had no chance to drop out yet
    one_timer = predicted[summary["frequency"] == 0]["probability_alive"]
    assert ((one_timer - 1).abs() < 1e-9).all()
    assert predicted["predicted_clv_12m"].notna().all() and (predicted["predicted_clv_12m"] >= 0).all()


def test_holdout_backtest_on_cdnow_master():
    transactions = master_transactions()
    occasions = (transactions.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
                 .rename(columns={"date": "order_date", "amount": "revenue"}))
    first_cohort = occasions.groupby("customer_id")["order_date"].transform("min") < "1997-04-01"
    assert occasions.loc[first_cohort, "customer_id"].nunique() == 23570
    result = backtest(occasions, occasions["order_date"].max(), holdout_days=273).set_index("group")
    overall = result.loc["all"]
    assert overall.customers == 23570
    # the BG/NBD's known accuracy on CDNOW: aggregate holdout purchases within 10%
    assert overall.predicted_purchases == pytest.approx(overall.actual_purchases, rel=0.10)
    deciles = result.drop(index="all")
    assert len(deciles) == 10 and deciles["customers"].sum() == 23570
    # predicted value ranks customers: the top decile buys far more than the bottom one
    assert deciles.loc["decile 10", "actual_purchases"] > 5 * deciles.loc["decile 1", "actual_purchases"]


def test_the_stored_fit_predicts_what_the_fitted_models_predict(cdnow_fit, tmp_path):
    summary, models = cdnow_fit
    checks = pd.DataFrame([{"calibration_end": date(1997, 9, 30), "holdout_days": 273, "group": "all",
                            "customers": 2357, "predicted_purchases": 1788.25, "actual_purchases": 1788.0}])
    path = tmp_path / "clv" / "fit.json"
    clv_store.save(clv_store.stored(checks, models.parameters, date(1997, 9, 30), len(summary)), path)
    kept = clv_store.load(path)
    assert kept.parameters == models.parameters
    pd.testing.assert_frame_equal(kept.backtest_frame(), checks)
    # a day later, on other customers' histories too: the restored models give the fitted models' figures
    later = summary.assign(T=summary["T"] + 1).iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(predict(restore(kept.parameters, later), later), predict(models, later),
                                  rtol=1e-12)


def test_the_fit_is_redone_once_it_is_refit_days_behind_the_history():
    kept = clv_store.StoredFit(date(2026, 4, 1), pd.Timestamp("2026-04-01").to_pydatetime(), 10, {}, [])
    assert not kept.is_due(date(2026, 4, 1), 7)
    assert not kept.is_due(date(2026, 4, 7), 7)
    assert kept.is_due(date(2026, 4, 8), 7)
    assert kept.is_due(date(2026, 3, 31), 7)  # the history now ends before the fit's: it saw days since removed
    assert kept.is_due(date(2026, 4, 1), 0)  # CRM_CLV_REFIT_DAYS=0: every run


def test_the_asset_predicts_from_the_kept_fit_until_it_is_due_or_a_refit_is_asked(tmp_path, monkeypatch):
    import dagster as dg
    import duckdb

    from orchestration.defs.clv import customer_clv
    from orchestration.defs.resources import DuckDBStepWarehouse

    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CRM_CLV_REFIT_DAYS", raising=False)
    warehouse = tmp_path / "crm.duckdb"
    transactions = master_transactions()
    orders = transactions[transactions["customer_id"] < transactions["customer_id"].unique()[3000]]

    def run(last_day: str, refit: bool = False) -> tuple[str, float]:
        """Orders up to `last_day` in core.fct_orders, then the asset: the fit's last day, and the largest T."""
        con = duckdb.connect(str(warehouse))
        con.register("_orders", orders[orders["date"] <= last_day])
        con.execute("CREATE SCHEMA IF NOT EXISTS core; CREATE OR REPLACE TABLE core.fct_orders AS SELECT customer_id, "
                    "date::DATE AS order_date, amount AS net_revenue, true AS is_purchase FROM _orders")
        con.close()
        assert dg.materialize([customer_clv], resources={"warehouse": DuckDBStepWarehouse(database=str(warehouse))},
                              run_config={"ops": {"clv__customer_clv": {"config": {"refit": refit}}}}).success
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            return con.execute("SELECT (SELECT DISTINCT observation_end::VARCHAR FROM clv.model_parameters), "
                               "(SELECT max(T) FROM clv.customer_clv)").fetchone()
        finally:
            con.close()

    first = run("1998-03-31")
    assert first[0] == "1998-03-31" and (tmp_path / "clv" / "fit.json").exists()
    # three days on: the same fit, predictions as of the new last day
    assert run("1998-04-03") == ("1998-03-31", first[1] + 3)
    assert run("1998-04-03", refit=True)[0] == "1998-04-03"
    assert run("1998-04-10")[0] == "1998-04-10"  # seven days behind: fitted again
