"""BG/NBD + Gamma-Gamma: maximum-likelihood fits with pymc-marketing (MAP with flat priors), and predictions
from the fitted parameters in closed form (analytics/clv_formulas.py).

Input is the usual summary per customer: frequency = repeat purchase occasions, recency and T in days
(first purchase to last purchase, and to the end of the observation period), monetary_value = mean revenue of
the repeat occasions.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pymc_extras.prior import Prior
from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

from analytics import clv_formulas as formulas

for name in ("pymc", "pytensor", "pymc_marketing"):
    logging.getLogger(name).setLevel(logging.ERROR)

FLAT = {"r": Prior("HalfFlat"), "alpha": Prior("HalfFlat"), "a": Prior("HalfFlat"), "b": Prior("HalfFlat")}
BG_NBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "v")
MIN_BACKTEST_CUSTOMERS = 50


@dataclass
class FittedModels:
    bg_nbd: BetaGeoModel
    gamma_gamma: GammaGammaModel | None  # None when no customer has a repeat purchase

    @property
    def parameters(self) -> dict[str, float]:
        """The point estimates, unrounded (fit_summary rounds): all that `predict` needs."""
        params = {k: _point(self.bg_nbd, k) for k in BG_NBD_PARAMETERS}
        if self.gamma_gamma is not None:
            params |= {k: _point(self.gamma_gamma, k) for k in GAMMA_GAMMA_PARAMETERS}
        return params


def _point(model, name: str) -> float:
    return float(model.idata.posterior[name].values.reshape(-1)[0])


def fit(summary: pd.DataFrame) -> FittedModels:
    """Fit both models by maximum likelihood on a summary with customer_id, frequency, recency, T, monetary_value."""
    data = summary[["customer_id", "frequency", "recency", "T"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg_nbd = BetaGeoModel(model_config=FLAT)
        bg_nbd.fit(data, method="map", progressbar=False)
        repeaters = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        gamma_gamma = None
        if len(repeaters) >= 10:
            gamma_gamma = GammaGammaModel()  # its default priors are already flat
            gamma_gamma.fit(repeaters[["customer_id", "frequency", "monetary_value"]], method="map", progressbar=False)
    return FittedModels(bg_nbd, gamma_gamma)


def predict(parameters: dict[str, float], summary: pd.DataFrame, horizon_days: int = 90, clv_months: int = 12,
            monthly_discount_rate: float = 0.01) -> pd.DataFrame:
    """Per customer, from a fit's `parameters`: probability alive, expected purchases in the horizon, expected
    spend and predicted CLV (the last two need the Gamma-Gamma parameters, NaN without them)."""
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    spend = np.full(len(summary), np.nan)
    clv = np.full(len(summary), np.nan)
    if "p" in parameters:
        own_mean = np.where(x > 0, summary["monetary_value"].to_numpy(dtype=float), 0.0)
        spend = formulas.expected_spend(parameters, x, own_mean)
        clv = formulas.lifetime_value(parameters, x, t_x, T, spend, clv_months, monthly_discount_rate)
    return pd.DataFrame({
        "customer_id": summary["customer_id"].to_numpy(),
        "probability_alive": formulas.probability_alive(parameters, x, t_x, T),
        "expected_purchases_90d": formulas.expected_purchases(parameters, x, t_x, T, horizon_days),
        "expected_spend_per_purchase": spend,
        "predicted_clv_12m": clv,
    })


def summarise(occasions: pd.DataFrame, observation_end) -> pd.DataFrame:
    """Per customer from purchase occasions (customer_id, order_date, revenue; one row per customer and day) up
    to observation_end: frequency = repeat occasions, recency and T in days, monetary_value = mean revenue of
    the repeat occasions (0 without one), as BG/NBD and Gamma-Gamma expect."""
    seen = occasions[occasions["order_date"] <= pd.Timestamp(observation_end)].sort_values(["customer_id", "order_date"])
    grouped = seen.groupby("customer_id")
    first, last = grouped["order_date"].min(), grouped["order_date"].max()
    repeat = seen[seen["order_date"] > seen["customer_id"].map(first)]
    summary = pd.DataFrame({
        "frequency": grouped.size() - 1,
        "recency": (last - first).dt.days.astype(float),
        "T": (pd.Timestamp(observation_end) - first).dt.days.astype(float),
        "monetary_value": repeat.groupby("customer_id")["revenue"].mean(),
    }).fillna({"monetary_value": 0.0})
    return summary.reset_index()


def backtest(occasions: pd.DataFrame, last_day, holdout_days: int = 90) -> pd.DataFrame:
    """Fit on the calibration period, predict the holdout's repeat purchases, compare with what happened:
    in aggregate and per decile of predicted purchases."""
    span = (pd.Timestamp(last_day) - occasions["order_date"].min()).days
    holdout_days = min(holdout_days, span // 3)
    calibration_end = pd.Timestamp(last_day) - pd.Timedelta(days=holdout_days)
    calibration = summarise(occasions, calibration_end)
    predicted = predict(fit(calibration).parameters, calibration, horizon_days=holdout_days)
    holdout = occasions[(occasions["order_date"] > calibration_end) & (occasions["order_date"] <= pd.Timestamp(last_day))]
    actual = holdout.groupby("customer_id").size().rename("actual")
    frame = predicted.set_index("customer_id")[["expected_purchases_90d"]].rename(
        columns={"expected_purchases_90d": "predicted"}).join(actual).fillna({"actual": 0}).dropna()
    columns = ["calibration_end", "holdout_days", "group", "customers", "predicted_purchases", "actual_purchases"]
    if len(frame) < MIN_BACKTEST_CUSTOMERS:  # too little history to fit on: no figures rather than noise
        return pd.DataFrame(columns=columns)
    frame["decile"] = pd.qcut(frame["predicted"].rank(method="first"), 10, labels=False) + 1
    rows = [("all", frame)] + [(f"decile {d}", part) for d, part in frame.groupby("decile")]
    return pd.DataFrame([{
        "calibration_end": calibration_end.date(), "holdout_days": holdout_days, "group": name,
        "customers": len(part), "predicted_purchases": float(part["predicted"].sum()),
        "actual_purchases": float(part["actual"].sum()),
    } for name, part in rows])
