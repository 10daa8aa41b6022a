"""BG/NBD + Gamma-Gamma with pymc-marketing: maximum-likelihood fits (MAP with flat priors) and predictions.

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

for name in ("pymc", "pytensor", "pymc_marketing"):
    logging.getLogger(name).setLevel(logging.ERROR)

FLAT = {"r": Prior("HalfFlat"), "alpha": Prior("HalfFlat"), "a": Prior("HalfFlat"), "b": Prior("HalfFlat")}
DAYS_PER_MONTH = 30.4375


@dataclass
class FittedModels:
    bg_nbd: BetaGeoModel
    gamma_gamma: GammaGammaModel | None  # None when no customer has a repeat purchase

    @property
    def parameters(self) -> dict[str, float]:
        params = {k: float(v) for k, v in self.bg_nbd.fit_summary().items()}
        if self.gamma_gamma is not None:
            params |= {k: float(v) for k, v in self.gamma_gamma.fit_summary().items()}
        return params


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
