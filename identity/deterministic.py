"""Deterministic edges: records that share a trustworthy identifier value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from identity.rules import MatchRules, is_junk

EDGE_COLUMNS = ["left_index", "right_index", "rule", "match_weight"]


def shared_values(records: pd.DataFrame, identifier: str, rules: MatchRules) -> pd.DataFrame:
    """Rows (index, value) for identifier values that are not junk and not shared by a crowd."""
    values = records[[identifier]].dropna()
    values = values[values[identifier].astype(str).str.len() > 0]
    if values.empty:
        return values
    # each distinct value once, as an integer code: the crowd counts below are bincounts, not string group-bys
    codes, distinct = pd.factorize(values[identifier].astype(str))
    # a value one record holds joins nothing: only the shared ones are judged, in Python per value (at 100k
    # customers 196k of the 290k distinct values: deterministic_edges 2.0 s -> 1.7 s, the same edges)
    shared = np.bincount(codes, minlength=len(distinct)) > 1
    junk = np.zeros(len(distinct), dtype=bool)
    junk[shared] = [is_junk(identifier, value, rules) for value in distinct[shared]]
    values, codes = values[shared[codes] & ~junk[codes]], codes[shared[codes] & ~junk[codes]]
    if values.empty:
        return values
    crowded = np.zeros(len(distinct), dtype=bool)
    for partner in (c for c in rules.identifiers if c != identifier):
        partner_codes = pd.factorize(records.loc[values.index, partner])[0]  # -1 where the record has none
        held, width = partner_codes >= 0, np.int64(partner_codes.max() + 1)
        pairs = pd.unique(codes[held].astype(np.int64) * width + partner_codes[held])  # distinct (value, partner)
        crowded |= np.bincount(pairs // width, minlength=len(distinct)) > rules.max_distinct_partners
    return values[~crowded[codes]]


def identifier_edges(records: pd.DataFrame, identifier: str, rules: MatchRules) -> pd.DataFrame:
    """Star edges from the first record holding each shared value of `identifier` to every other record holding
    it. What a value gives depends only on the records that hold it, so `records` may be just those records."""
    values = shared_values(records, identifier, rules).reset_index(names="index")
    if identifier == "phone" and rules.phone_needs_name_match:
        names = records.loc[values["index"], ["first_name", "last_name"]].reset_index(drop=True)
        values["name_key"] = names["last_name"].fillna("").str.strip() + "|" + names["first_name"].fillna("").str[:1]
        values = values[names["last_name"].notna().to_numpy() & names["first_name"].notna().to_numpy()]
        group_key = [identifier, "name_key"]
    else:
        group_key = [identifier]
    anchor = values.groupby(group_key)["index"].transform("min")
    pairs = values.assign(anchor=anchor)
    pairs = pairs[pairs["index"] != pairs["anchor"]]
    return pd.DataFrame({
        "left_index": pairs["anchor"].to_numpy(dtype="int64"), "right_index": pairs["index"].to_numpy(dtype="int64"),
        "rule": f"same_{identifier}", "match_weight": float("inf"),
    })


def deterministic_edges(records: pd.DataFrame, rules: MatchRules) -> pd.DataFrame:
    """Every identifier's star edges (`identifier_edges`)."""
    edges = [identifier_edges(records, identifier, rules) for identifier in rules.identifiers
             if identifier in records.columns]
    if not edges:
        return pd.DataFrame(columns=EDGE_COLUMNS)
    return pd.concat(edges, ignore_index=True)
