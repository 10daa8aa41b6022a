"""BG/NBD + Gamma-Gamma with pymc-marketing: maximum-likelihood fits (MAP with flat priors) and predictions.

Input is the usual summary per customer: frequency = repeat purchase occasions, recency and T in days
(first purchase to last purchase, and to the end of the observation period), monetary_value = mean revenue of
the repeat occasions.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
from pymc_extras.prior import Prior
from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

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
        """The point estimates, unrounded (fit_summary rounds): what `restore` rebuilds the models from."""
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


def restore(parameters: dict[str, float], summary: pd.DataFrame) -> FittedModels:
    """The models of an earlier fit, from its `parameters`, ready to predict for the customers of `summary`:
    the predictions are closed-form in the parameters, so they equal the fitted models' own."""
    def built(model, data: pd.DataFrame, names: tuple[str, ...]):
        model.build_model(data)
        model.idata = az.from_dict(posterior={k: np.array([[parameters[k]]]) for k in names})
        return model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg_nbd = built(BetaGeoModel(model_config=FLAT), summary[["customer_id", "frequency", "recency", "T"]],
                       BG_NBD_PARAMETERS)
        repeaters = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        gamma_gamma = None
        if "p" in parameters and len(repeaters):
            gamma_gamma = built(GammaGammaModel(), repeaters[["customer_id", "frequency", "monetary_value"]],
                                GAMMA_GAMMA_PARAMETERS)
    return FittedModels(bg_nbd, gamma_gamma)


def _values(array) -> np.ndarray:
    return np.asarray(array).reshape(-1)


def predict(models: FittedModels, summary: pd.DataFrame, horizon_days: int = 90, clv_months: int = 12,
            monthly_discount_rate: float = 0.01) -> pd.DataFrame:
    """Per customer: probability alive, expected purchases in the horizon, expected spend, predicted CLV."""
    data = summary[["customer_id", "frequency", "recency", "T"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alive = _values(models.bg_nbd.expected_probability_alive(data))
        purchases = _values(models.bg_nbd.expected_purchases(data, future_t=horizon_days))
        spend = np.full(len(summary), np.nan)
        clv = np.full(len(summary), np.nan)
        if models.gamma_gamma is not None:
            spend_data = summary[["customer_id", "frequency", "monetary_value"]].assign(
                monetary_value=summary["monetary_value"].where(summary["frequency"] > 0, 0.0))
            spend = _values(models.gamma_gamma.expected_customer_spend(spend_data))
            clv = _values(models.gamma_gamma.expected_customer_lifetime_value(
                transaction_model=models.bg_nbd, data=summary[["customer_id", "frequency", "recency", "T", "monetary_value"]]
                .assign(monetary_value=spend_data["monetary_value"]),
                future_t=clv_months, discount_rate=monthly_discount_rate, time_unit="D"))
    return pd.DataFrame({
        "customer_id": summary["customer_id"].to_numpy(),
        "probability_alive": alive,
        "expected_purchases_90d": purchases,
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
    predicted = predict(fit(calibration), calibration, horizon_days=holdout_days)
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
