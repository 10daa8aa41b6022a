"""Predicted CLV: the maximum-likelihood fit reproduces the published CDNOW estimates, a calibration/holdout
backtest on the CDNOW master transactions predicts the holdout purchases, the closed-form predictions from a
stored fit equal pymc-marketing's own, and stay finite where the fit of a small history runs off to infinity."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics import clv_store
from analytics.cdnow import calibration_summary, master_transactions
from analytics import clv_formulas
from analytics.clv import backtest, fit, predict

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
    predicted = predict(models.parameters, summary, horizon_days=90)
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
    # a day later, on other customers' histories too: the closed forms give pymc-marketing's figures
    later = summary.assign(T=summary["T"] + 1).iloc[::-1].reset_index(drop=True)
    ours = predict(kept.parameters, later, horizon_days=90, clv_months=12, monthly_discount_rate=0.01)
    with_spend = later.assign(monetary_value=later["monetary_value"].where(later["frequency"] > 0, 0.0))
    theirs = {
        "probability_alive": models.bg_nbd.expected_probability_alive(later),
        "expected_purchases_90d": models.bg_nbd.expected_purchases(later, future_t=90),
        "expected_spend_per_purchase": models.gamma_gamma.expected_customer_spend(with_spend),
        "predicted_clv_12m": models.gamma_gamma.expected_customer_lifetime_value(
            transaction_model=models.bg_nbd, data=with_spend, future_t=12, discount_rate=0.01, time_unit="D"),
    }
    for column, values in theirs.items():
        np.testing.assert_allclose(ours[column], np.asarray(values).reshape(-1), rtol=1e-10, err_msg=column)


# A fit on a ridge: the dashboard test's first month (62 customers, 29 days) shows no heterogeneity in dropout,
# its likelihood keeps rising as a and b (and q and v) grow, and one run's optimiser stopped at these a, b, q, v
# (r and alpha here are of the order such months give).
RIDGE = {"r": 10.0, "alpha": 33.3, "a": 2.76e15, "b": 1.75e15, "p": 2.81, "q": 1.0e7, "v": 1.7e8}


def test_predictions_stay_finite_when_the_fit_runs_off_along_a_ridge():
    new_customers = pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"], "frequency": [0.0, 1.0, 0.0, 4.0],
                                  "recency": [0.0, 4.0, 0.0, 20.0], "T": [0.0, 6.0, 25.0, 25.0],
                                  "monetary_value": [0.0, 55.75, 0.0, 30.0]})
    # scipy's hyp2f1, which pymc-marketing calls, has no value for these: a new customer's month 12 gives z > 0.9
    z = 360 / (RIDGE["alpha"] + 0 + 360)
    assert z > 0.9 and np.isnan(clv_formulas.hyp2f1(RIDGE["r"], RIDGE["b"], RIDGE["a"] + RIDGE["b"] - 1, z))
    predicted = predict(RIDGE, new_customers)
    assert np.isfinite(predicted.drop(columns="customer_id").to_numpy()).all()
    assert (predicted["predicted_clv_12m"] > 0).all()
    # and they are the limit of fits that stopped earlier on the same ridge (same a / (a + b))
    nearer = predict(RIDGE | {"a": 2.76e8, "b": 1.75e8}, new_customers)
    pd.testing.assert_frame_equal(predicted, nearer, rtol=1e-6)


def test_a_history_without_repeat_purchases_predicts_from_the_limit_at_a_equal_one():
    # nobody bought twice: the likelihood does not depend on a and b, which stay at the optimiser's start, 1
    params = {"r": 0.5, "alpha": 20.0, "a": 1.0, "b": 1.0}
    x, t_x, T = np.array([0.0, 0.0, 2.0]), np.array([0.0, 0.0, 5.0]), np.array([0.0, 10.0, 20.0])
    at_one = clv_formulas.expected_purchases(params, x, t_x, T, 90)
    above, below = (clv_formulas.expected_purchases(params | {"a": a}, x, t_x, T, 90) for a in (1.001, 0.999))
    assert np.isfinite(at_one).all() and (below > at_one).all() and (at_one > above).all()
    np.testing.assert_allclose(at_one, (above + below) / 2, rtol=1e-5)


def test_a_and_b_summing_below_one_give_the_textbook_expectation():
    # c = a + b - 1 < 0 for a one-timer, and 2F1 is negative: the value scipy gives is the right one there
    params = {"r": 0.5, "alpha": 5.0, "a": 0.3, "b": 0.5}
    x, t_x, T, t = np.array([0.0, 1.0, 3.0]), np.array([0.0, 3.0, 10.0]), np.array([0.0, 5.0, 19.0]), 90
    r, alpha, a, b = params.values()
    z = t / (alpha + T + t)
    assert clv_formulas.hyp2f1(r, b, a + b - 1, z[0]) < 0
    textbook = ((a + b + x - 1) / (a - 1) * (1 - (1 - z) ** (r + x) * clv_formulas.hyp2f1(r + x, b + x, a + b + x - 1, z))
                / (1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)))
    expected = clv_formulas.expected_purchases(params, x, t_x, T, t)
    assert (expected > 0).all()
    np.testing.assert_allclose(expected, textbook, rtol=1e-12)


def test_the_series_agrees_with_scipy_where_scipy_has_a_value():
    A, B, C, z = np.meshgrid([0.2, 1.0, 5.0, 40.0], [0.5, 3.0, 50.0], [2.0, 10.0, 80.0], [0.05, 0.5, 0.85])
    A, B, C, z = (v.reshape(-1) for v in (A, B, C, z))
    np.testing.assert_allclose(clv_formulas._log_series(A, B, C, z), np.log(clv_formulas.hyp2f1(A, B, C, z)),
                               rtol=1e-12, atol=1e-12)


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
        result = dg.materialize([customer_clv], resources={"warehouse": DuckDBStepWarehouse(database=str(warehouse))},
                                run_config={"ops": {"clv__customer_clv": {"config": {"refit": refit}}}})
        assert result.success
        assert [check.passed for check in result.get_asset_check_evaluations()] == [True]
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
