"""Which Splink model a resolution uses, and at which threshold.

A warehouse fits a model of its own on its own records the first time identity runs (unsupervised: u from random
pairs, the prior from the deterministic rules' pairs, m by EM where a blocking gives enough pairs, the settings'
priors elsewhere), saves it under data/identity/ and uses it until `python -m identity train` fits it again. The
model shipped in the package was fitted on generated feeds: it stands in only while a warehouse has too few
records to fit on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from identity.probabilistic import MODEL_PATH, splink_input, train
from ingestion.settings import get_settings

logger = logging.getLogger(__name__)
# Fewer named records than this give EM too few pairs to learn what a match looks like.
MIN_RECORDS_TO_FIT = 500
# A model fitted on the data it scores is calibrated to it: a pair is an edge when a match is more likely than
# not. The shipped model's m values are priors set by hand, so it needs the stricter threshold it was tuned at.
FITTED_THRESHOLD, SHIPPED_THRESHOLD = 0.5, 0.99


@dataclass(frozen=True)
class Model:
    source: dict | Path  # what Splink loads: a saved model's path, or a model fitted in memory
    threshold: float  # match probability at or above which a pair is an edge (CRM_MATCH_THRESHOLD overrides)
    origin: str  # said in logs and by `identity evaluate`


def warehouse_model_path() -> Path:
    """Where the warehouse's own model lives: beside it, under the data folder."""
    return get_settings().data_dir / "identity" / "splink_model.json"


SHIPPED = Model(MODEL_PATH, SHIPPED_THRESHOLD, f"shipped {MODEL_PATH.name} (fitted on generated feeds)")


def saved(path: Path) -> Model:
    """A model saved by `fit` (or the shipped one, at its own threshold)."""
    if Path(path).resolve() == MODEL_PATH.resolve():
        return SHIPPED
    return Model(Path(path), FITTED_THRESHOLD, f"fitted, saved at {path}")


def fit(records: pd.DataFrame, path: Path | None) -> Model:
    """Fit a model on `records` and save it at `path` (None: keep it in memory)."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    fitted = train(records, path, em=True)
    return saved(path) if path is not None else Model(fitted, FITTED_THRESHOLD, "fitted on these records")


def for_records(records: pd.DataFrame, path: Path | None) -> Model:
    """The model for a warehouse whose own model lives at `path`: the saved one, or one fitted now on `records`
    and saved there; the shipped one while there are too few records to fit. `path` None: what a new warehouse
    would do with these records, without saving anything (`identity evaluate`)."""
    if path is not None and path.exists():
        return saved(path)
    named = len(splink_input(records))
    if named < MIN_RECORDS_TO_FIT:
        logger.info("identity: %d named records, fewer than %d to fit a model on: the shipped model scores them",
                    named, MIN_RECORDS_TO_FIT)
        return SHIPPED
    logger.info("identity: fitting a model on %d named records%s", named, f", saved at {path}" if path else "")
    return fit(records, path)
