"""The resolver the pipeline and the evaluation command share: records in, a cluster per record out."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from identity.clustering import cluster_labels
from identity.deterministic import deterministic_edges
from identity.models import Model, for_records
from identity.probabilistic import probabilistic_edges
from identity.rules import MatchRules

RECORD_COLUMNS = [
    "source", "source_record_id", "first_name", "last_name", "email", "phone", "birth_date",
    "street", "city", "postcode", "country", "loyalty_id", "account_id",
]


@dataclass
class Resolution:
    records: pd.DataFrame  # the input plus `cluster` (an integer label)
    edges: pd.DataFrame  # left_index, right_index, rule, match_weight, match_probability (indices into records)


def prepare(records: pd.DataFrame) -> pd.DataFrame:
    """Reset the index and add any missing layout column as null."""
    prepared = records.reset_index(drop=True).copy()
    for column in RECORD_COLUMNS:
        if column not in prepared.columns:
            prepared[column] = None
    return prepared


def resolve(records: pd.DataFrame, rules: MatchRules | None = None, model: Model | None = None,
            layout: pd.DataFrame | None = None) -> Resolution:
    """Every record resolved: deterministic and probabilistic edges, clustered together. Without `model`: what a
    new warehouse does with these records (a model fitted on them, unsupervised: no labels are read; the shipped
    one for a few). `layout`: the records in Splink's layout, when the caller made it already."""
    rules = rules or MatchRules()
    prepared = prepare(records)
    model = model or for_records(prepared, None)
    deterministic = deterministic_edges(prepared, rules).assign(match_probability=1.0)
    splink = probabilistic_edges(prepared, rules.threshold_for(model.threshold), model.source, layout)
    edges = pd.concat([deterministic, splink], ignore_index=True)
    prepared["cluster"] = cluster_labels(len(prepared), edges)
    return Resolution(prepared, edges)
