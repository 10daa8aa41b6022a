"""The CLV fit kept beside the warehouse (`data/clv/fit.json`): parameters, the day the fit's history ended and
its backtest. Daily runs predict from it and refit once it is CRM_CLV_REFIT_DAYS old (default 7); the fit is
the expensive part, the predictions are closed-form in its seven parameters. Like the identity model it belongs
to the installation: a warehouse rebuilt with the same `data/clv/` predicts with the same fit. It holds
aggregates only, no customer's values."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from ingestion.settings import get_settings

BACKTEST_COLUMNS = ["calibration_end", "holdout_days", "group", "customers", "predicted_purchases", "actual_purchases"]
DEFAULT_REFIT_DAYS = 7


@dataclass(frozen=True)
class StoredFit:
    observation_end: date  # the last day of the purchase history the fit saw
    fitted_at: datetime
    customers: int
    parameters: dict[str, float]
    backtest: list[dict]

    def is_due(self, last_day: date, refit_days: int) -> bool:
        """Refit when the fit is `refit_days` behind the history, or saw days the history no longer has."""
        age = (last_day - self.observation_end).days
        return age >= refit_days or age < 0

    def backtest_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.backtest, columns=BACKTEST_COLUMNS)
        frame["calibration_end"] = pd.to_datetime(frame["calibration_end"]).dt.date
        return frame.astype({"holdout_days": "int64", "customers": "int64", "predicted_purchases": "float64",
                             "actual_purchases": "float64", "group": "object"})

    def parameter_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"fitted_at": self.fitted_at, "observation_end": self.observation_end, "parameter": k,
                              "value": v, "customers": self.customers} for k, v in self.parameters.items()])


def fit_path() -> Path:
    return get_settings().data_dir / "clv" / "fit.json"


def refit_days() -> int:
    return int(os.environ.get("CRM_CLV_REFIT_DAYS", DEFAULT_REFIT_DAYS))


def stored(backtest: pd.DataFrame, parameters: dict[str, float], observation_end: date, customers: int) -> StoredFit:
    rows = [{**row, "calibration_end": str(row["calibration_end"])} for row in backtest.to_dict("records")]
    return StoredFit(observation_end, datetime.now(), customers, parameters, rows)


def save(fit: StoredFit, path: Path) -> None:
    """Write then rename, so a crash leaves the previous fit or this one, never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = asdict(fit) | {"observation_end": fit.observation_end.isoformat(), "fitted_at": fit.fitted_at.isoformat()}
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(document, indent=1))
    partial.replace(path)


def load(path: Path) -> StoredFit | None:
    if not path.exists():
        return None
    document = json.loads(path.read_text())
    return StoredFit(date.fromisoformat(document["observation_end"]), datetime.fromisoformat(document["fitted_at"]),
                     document["customers"], document["parameters"], document["backtest"])
