"""BG/NBD and Gamma-Gamma predictions in closed form from the seven point estimates.

pymc-marketing fits the models; the predictions are computed here because its expected purchases call
scipy's hyp2f1, which returns NaN once c is large and z > 0.9. Small histories meet exactly that: their
maximum-likelihood fit runs off along a ridge (a and b towards infinity with a / (a + b) fixed: no visible
heterogeneity in dropout), and a new customer's 12-month horizon gives z = t / (alpha + T + t) > 0.9. Where
scipy has no finite value the Gauss series is summed in log space (there c > 0 and every term is positive);
it converges for every 0 <= z < 1.

Formulas: Fader, Hardie & Lee (2005), "Counting your customers the easy way", eq. (10) and the P(alive) of
their note 021; Gamma-Gamma's conditional expected spend (Fader, Hardie & Lee 2005, "RFM and CLV").
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, hyp2f1

SERIES_TERMS_LIMIT = 1_000_000
NEGLIGIBLE_LOG_TERM = -40.0  # a term below e^-40 of the sum so far no longer changes a double
A_STEP = 1e-6


def _log_series(A: np.ndarray, B: np.ndarray, C: np.ndarray, z: np.ndarray) -> np.ndarray:
    """log 2F1(A, B; C; z) summed term by term, for A, B, C > 0 and 0 <= z < 1 (the terms are positive)."""
    log_term = np.zeros_like(z)
    log_sum = np.zeros_like(z)
    active = np.arange(len(z))
    for n in range(SERIES_TERMS_LIMIT):
        a, b, c, w = A[active], B[active], C[active], z[active]
        log_ratio = np.log(a + n) + np.log(b + n) - np.log(c + n) - np.log(n + 1.0) + np.log(w)
        log_term[active] += log_ratio
        log_sum[active] = np.logaddexp(log_sum[active], log_term[active])
        # past the largest term the ratio stays below one and the rest is a geometric tail
        done = (log_ratio < 0) & (log_term[active] - log_sum[active] < NEGLIGIBLE_LOG_TERM)
        active = active[~done]
        if not len(active):
            return log_sum
    raise ArithmeticError(f"2F1 series did not converge in {SERIES_TERMS_LIMIT:,} terms for {len(active)} values")


def discounted_hyp2f1(A, B, C, z) -> np.ndarray:
    """(1 - z)^A * 2F1(A, B; C; z) for positive A, B and 0 <= z < 1.

    scipy's 2F1 where it has a value: C may be negative there (a + b < 1, no repeat purchase), and 2F1 with it.
    Where scipy has none, C is large (the ridge) and the terms are positive. A positive product is taken in
    logs: with a large A one factor underflows while the other overflows."""
    A, B, C, z = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(A, B, C, z))
    with np.errstate(all="ignore"):
        log_discount, gauss = A * np.log1p(-z), hyp2f1(A, B, C, z)
        value = np.where(gauss > 0, np.exp(log_discount + np.log(np.abs(gauss))), np.exp(log_discount) * gauss)
    failed = ~np.isfinite(gauss) | ~np.isfinite(value)
    if failed.any():
        if (C[failed] <= 0).any():
            raise ArithmeticError("2F1 has no finite value from scipy and its series needs c > 0: "
                                  f"c = {C[failed].min():.6g}")
        value[failed] = np.exp(A[failed] * np.log1p(-z[failed])
                               + _log_series(A[failed], B[failed], C[failed], z[failed]))
    return value


def probability_alive(params: dict[str, float], x, t_x, T) -> np.ndarray:
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    # log of a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x); log1p keeps it exact when alpha is huge
    log_odds_dead = np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * np.log1p((T - t_x) / (alpha + t_x))
    return np.where(x == 0, 1.0, expit(-log_odds_dead))


def expected_purchases(params: dict[str, float], x, t_x, T, t) -> np.ndarray:
    """Expected repeat purchases in (T, T + t] given x repeat purchases, the last at t_x, observed up to T."""
    if params["a"] == 1:
        # 0 / 0 in the formula. A history without repeat purchases leaves a and b where the optimiser started
        # (1, 1): the likelihood does not depend on them. The mean of two close neighbours is the limit (its
        # error is of order A_STEP squared).
        return sum(expected_purchases(params | {"a": 1 + step}, x, t_x, T, t) for step in (A_STEP, -A_STEP)) / 2
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
    z = t / (alpha + T + t)
    # (alpha + T) / (alpha + T + t) = 1 - z
    unconditional = (a + b + x - 1) / (a - 1) * (1 - discounted_hyp2f1(r + x, b + x, a + b + x - 1, z))
    return unconditional * probability_alive(params, x, t_x, T)


def expected_spend(params: dict[str, float], x, m) -> np.ndarray:
    """Gamma-Gamma: the expected mean order value, between the population mean and the customer's own m."""
    p, q, v = params["p"], params["q"], params["v"]
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    own_weight = p * x / (p * x + q - 1)
    return (1 - own_weight) * (v * p / (q - 1)) + own_weight * m


def lifetime_value(params: dict[str, float], x, t_x, T, spend, months: int, monthly_discount_rate: float,
                   days_per_month: int = 30) -> np.ndarray:
    """Discounted value of the next `months`: each month's expected purchases times the expected spend."""
    value = np.zeros(np.shape(x), dtype=float)
    purchased = np.zeros(np.shape(x), dtype=float)
    for month in range(1, months + 1):
        cumulative = expected_purchases(params, x, t_x, T, month * days_per_month)
        value += spend * (cumulative - purchased) / (1 + monthly_discount_rate) ** month
        purchased = cumulative
    return value
