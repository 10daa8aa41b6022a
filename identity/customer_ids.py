"""Turn cluster labels into customer ids."""

from __future__ import annotations

import hashlib

import pandas as pd


def customer_id_for(member_keys: pd.Series) -> str:
    """Named after the cluster's smallest record key, so the id holds while that record stays in the cluster."""
    anchor = min(member_keys)
    return "CU" + hashlib.md5(anchor.encode()).hexdigest()[:14].upper()


def assign_customer_ids(records: pd.DataFrame) -> pd.DataFrame:
    keys = records["source"] + ":" + records["source_record_id"].astype(str)
    ids = keys.groupby(records["cluster"]).transform(customer_id_for)
    return pd.DataFrame({
        "source": records["source"], "source_record_id": records["source_record_id"], "customer_id": ids,
    })
