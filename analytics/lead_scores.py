"""Lead scoring: the probability that an open sales lead converts, fitted on the closed ones (won or lost).

Two models compete in a time-split backtest (train on the older 70% of closed leads, test on the newest 30%):
a logistic regression and gradient boosting, both on every feature; the one with the higher test AUC scores
the open leads after a refit on every closed lead. A one-feature baseline (sales calls alone) is backtested
beside them, so the gain from the other features is measured, not assumed. Each score carries its top reasons:
how much the probability moves when a feature is set back to its typical value (model-agnostic, so the same
for either model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["sales_calls", "email_responses_before", "web_visit_days_before", "lead_age_days"]
FLAGS = ["is_existing_customer", "has_campaign"]
CATEGORICAL = ["lead_source"]
FEATURES = NUMERIC + FLAGS + CATEGORICAL
BASELINE_FEATURE = "sales_calls"
TRAIN_SHARE = 0.7
MIN_CLOSED = 40  # below this (or without both outcomes on each side of the split) there is nothing to learn from
REASONS = 3
LABELS = {"sales_calls": "sales calls", "email_responses_before": "email opens and clicks",
          "web_visit_days_before": "web visit days", "lead_age_days": "days since created",
          "is_existing_customer": "already a customer", "has_campaign": "came from a campaign",
          "lead_source": "source"}


def _model(kind: str, features: list[str]) -> Pipeline:
    numeric = [f for f in features if f in NUMERIC + FLAGS]
    categorical = [f for f in features if f in CATEGORICAL]
    prepare = ColumnTransformer([("numeric", StandardScaler(), numeric),
                                 ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical)],
                                sparse_threshold=0)
    estimator = (LogisticRegression(max_iter=1000) if kind != "gradient_boosting"
                 else HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_depth=3, random_state=0))
    return Pipeline([("prepare", prepare), ("model", estimator)])


CANDIDATES = {"logistic_regression": FEATURES, "gradient_boosting": FEATURES,
              f"baseline ({BASELINE_FEATURE} only)": [BASELINE_FEATURE]}


def _frame(leads: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    frame = leads[features].copy()
    for flag in (f for f in features if f in FLAGS):
        frame[flag] = frame[flag].astype(float)
    return frame


@dataclass
class LeadScores:
    scores: pd.DataFrame  # lead_id, customer_id, created_at, stage, conversion_probability, top_reasons, model
    backtest: pd.DataFrame  # one row per model: AUC and top-decile calibration on the newest closed leads
    chosen: str | None  # None: too few closed leads to fit anything


BACKTEST_COLUMNS = {"model": str, "auc": float, "top_decile_predicted_rate": float, "top_decile_actual_rate": float,
                    "test_converted_rate": float, "train_leads": int, "test_leads": int,
                    "split_at": "datetime64[us]", "is_chosen": bool}


def backtest(closed: pd.DataFrame) -> pd.DataFrame:
    """Each candidate trained on the older TRAIN_SHARE of closed leads (by creation time), tested on the rest."""
    ordered = closed.sort_values(["created_at", "lead_id"]).reset_index(drop=True)
    cut = int(len(ordered) * TRAIN_SHARE)
    train, test = ordered.iloc[:cut], ordered.iloc[cut:]
    if len(closed) < MIN_CLOSED or train["is_converted"].nunique() < 2 or test["is_converted"].nunique() < 2:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in BACKTEST_COLUMNS.items()})
    rows = []
    for name, features in CANDIDATES.items():
        model = _model(name, features).fit(_frame(train, features), train["is_converted"].astype(int))
        predicted = model.predict_proba(_frame(test, features))[:, 1]
        top = np.argsort(-predicted, kind="stable")[:max(1, len(test) // 10)]
        rows.append({"model": name, "auc": roc_auc_score(test["is_converted"].astype(int), predicted),
                     "top_decile_predicted_rate": float(predicted[top].mean()),
                     "top_decile_actual_rate": float(test["is_converted"].to_numpy()[top].mean()),
                     "test_converted_rate": float(test["is_converted"].mean()),
                     "train_leads": len(train), "test_leads": len(test),
                     "split_at": test["created_at"].iloc[0]})
    result = pd.DataFrame(rows)
    contenders = result[~result["model"].str.startswith("baseline")]
    result["is_chosen"] = result["model"] == contenders.sort_values("auc", ascending=False)["model"].iloc[0]
    return result[list(BACKTEST_COLUMNS)]


def _reasons(model: Pipeline, open_leads: pd.DataFrame, reference: dict) -> list[list[str]]:
    """Per lead, the features that raise its probability most over the same lead with that feature typical."""
    base = model.predict_proba(_frame(open_leads, FEATURES))[:, 1]
    lifts = {}
    for feature in FEATURES:
        typical = open_leads.assign(**{feature: reference[feature]})
        lifts[feature] = base - model.predict_proba(_frame(typical, FEATURES))[:, 1]
    reasons = []
    for i, (_, lead) in enumerate(open_leads.iterrows()):
        ranked = sorted(((lifts[f][i], f) for f in FEATURES if lifts[f][i] > 0.005), reverse=True)[:REASONS]
        reasons.append([f"{LABELS[f]}: {_shown(lead[f])} (+{lift * 100:.0f} pts)" for lift, f in ranked])
    return reasons


def _shown(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    return str(int(value)) if isinstance(value, (int, np.integer, float)) and float(value).is_integer() else str(value)


def score_leads(leads: pd.DataFrame) -> LeadScores:
    """Backtest, choose, refit on every closed lead and score the open ones."""
    closed = leads[leads["is_closed"]]
    open_leads = leads[~leads["is_closed"]].reset_index(drop=True)
    checks = backtest(closed)
    columns = ["lead_id", "customer_id", "created_at", "stage", "conversion_probability", "top_reasons", "model"]
    empty = open_leads[["lead_id", "customer_id", "created_at", "stage"]].head(0).assign(
        conversion_probability=pd.Series(dtype=float), top_reasons=pd.Series(dtype=object), model=pd.Series(dtype=str))
    if checks.empty:
        return LeadScores(empty[columns], checks, None)
    chosen = checks.loc[checks["is_chosen"], "model"].iloc[0]
    model = _model(chosen, FEATURES).fit(_frame(closed, FEATURES), closed["is_converted"].astype(int))
    scores = open_leads[["lead_id", "customer_id", "created_at", "stage"]].copy()
    if len(open_leads):
        reference = {f: (closed[f].median() if f in NUMERIC else closed[f].mode().iloc[0]) for f in FEATURES}
        scores["conversion_probability"] = model.predict_proba(_frame(open_leads, FEATURES))[:, 1]
        scores["top_reasons"] = _reasons(model, open_leads, reference)
    else:
        scores = empty
    scores["model"] = chosen
    return LeadScores(scores[columns].sort_values("conversion_probability", ascending=False), checks, chosen)
