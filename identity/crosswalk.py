"""Stable customer ids: this run's clusters against the previous crosswalk.

- a cluster whose records were known keeps their id;
- a merge (records of several ids now in one cluster) keeps the oldest id; the others are retired;
- a split (one id's records now in several clusters) leaves the id with the part holding most of its records;
- every change is a row in the change table with its reason.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

CHANGE_COLUMNS = ["changed_at", "run_id", "change", "customer_id", "related_customer_id", "records", "reason"]
REGISTRY_COLUMNS = ["customer_id", "created_at", "created_run_id", "status", "merged_into"]


@dataclass
class Assignment:
    crosswalk: pd.DataFrame  # source, source_record_id, customer_id
    registry: pd.DataFrame  # customer_id, created_at, created_run_id, status (active | merged | retired), merged_into
    changes: pd.DataFrame  # CHANGE_COLUMNS, this run's rows only


def new_customer_id(anchor_key: str, taken: set[str], id_key: bytes) -> str:
    """Derived from the cluster's smallest record key, so a rebuild from scratch gives the same ids. Keyed
    (HMAC with the pseudonymisation key): the anchor can be an email, and BI sees customer ids, so an unkeyed
    hash would let anyone with a list of emails find their customers."""
    salt = 0
    while True:
        message = f"{anchor_key}#{salt}" if salt else anchor_key
        digest = hmac.new(id_key, message.encode(), hashlib.sha256).hexdigest()
        candidate = "CU" + digest[:14].upper()
        if candidate not in taken:
            return candidate
        salt += 1


def assign(records: pd.DataFrame, previous: pd.DataFrame, registry: pd.DataFrame, run_id: str, *, id_key: bytes,
           now: datetime | None = None, issued: set[str] | None = None) -> Assignment:
    """records: source, source_record_id, cluster. previous: the last crosswalk. registry: every id ever issued.

    A run may pass part of it all: the records of some customers, those customers' crosswalk rows and registry
    rows, and in `issued` every id ever issued (a new id must differ from all of them). The result then covers
    those customers and the new ones."""
    now = now or datetime.now()
    frame = records[["source", "source_record_id", "cluster"]].copy()
    keys = (frame["source"] + ":" + frame["source_record_id"].astype(str)).to_numpy(dtype=object)
    # Records and ids as integers (the key's rank in sort order, the old id's code): the groupings and sorts
    # below are over numbers, not strings (2.1-2.7 s -> 0.8-1.4 s for 390k records).
    order = np.argsort(keys, kind="stable")
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    known_keys = previous["source"] + ":" + previous["source_record_id"].astype(str)
    found = pd.Index(known_keys).get_indexer(keys)  # the crosswalk holds a key once
    old_code, old_ids = pd.factorize(previous["customer_id"])
    old = np.full(len(keys), -1)
    old[found >= 0] = old_code[found[found >= 0]]
    clusters = frame["cluster"].to_numpy()

    # For each old id, the cluster that keeps it: the one holding most of its records (then the smallest key).
    held = old >= 0
    overlap = (pd.DataFrame({"old": old[held], "cluster": clusters[held], "rank": rank[held]})
               .groupby(["old", "cluster"], sort=False)["rank"].agg(["size", "min"]).reset_index()
               .rename(columns={"size": "records", "min": "first_rank"}))
    overlap = overlap.iloc[np.lexsort((overlap["first_rank"], -overlap["records"], overlap["old"]))]
    winners = overlap.drop_duplicates("old")
    changes: list[dict] = []
    cluster_id: dict = {}
    claim_counts = winners["cluster"].map(winners["cluster"].value_counts())
    single = winners[claim_counts == 1]
    cluster_id.update(zip(single["cluster"], old_ids[single["old"]]))  # the common case: one known id, kept
    merging = winners[claim_counts > 1]
    created = registry.loc[registry["customer_id"].isin(old_ids[merging["old"]]), ["customer_id", "created_at"]]
    created = dict(zip(created["customer_id"], created["created_at"]))
    for cluster, claims in merging.groupby("cluster"):
        claim_records = dict(zip(old_ids[claims["old"]], claims["records"]))
        ids = sorted(claim_records, key=lambda i: (created.get(i, now), i))
        cluster_id[cluster] = ids[0]
        for retired in ids[1:]:  # a merge: the oldest id stays
            changes.append(dict(change="merge", customer_id=retired, related_customer_id=ids[0],
                                records=int(claim_records[retired]),
                                reason=f"records of {retired} and {ids[0]} now match; kept the older id {ids[0]}"))
    new_rows = []
    first_rank = pd.Series(rank).groupby(clusters).min()
    unnamed = first_rank[~first_rank.index.isin(list(cluster_id))]
    sizes = pd.Series(clusters).value_counts()
    # for a cluster that gets a new id although it holds known records: the id they came from (its largest share)
    split_from = (overlap[overlap["cluster"].isin(unnamed.index)]
                  .sort_values(["records", "first_rank"], ascending=[False, True]).drop_duplicates("cluster"))
    split_from = dict(zip(split_from["cluster"], old_ids[split_from["old"]]))
    taken = set(registry["customer_id"]) if issued is None else set(issued)
    for cluster, anchor_rank in zip(unnamed.index, unnamed.to_numpy()):  # by cluster, as ids are taken
        customer_id = new_customer_id(keys[order[anchor_rank]], taken, id_key)
        taken.add(customer_id)
        cluster_id[cluster] = customer_id
        new_rows.append(dict(customer_id=customer_id, created_at=now, created_run_id=run_id, status="active",
                             merged_into=None))
        source_id = split_from.get(cluster)
        if source_id is not None:  # its records belonged to an id that stayed with a larger part elsewhere
            changes.append(dict(change="split", customer_id=customer_id, related_customer_id=source_id,
                                records=int(sizes[cluster]),
                                reason=f"records of {source_id} no longer match the rest; {source_id} stays "
                                       f"with the larger part"))
        else:
            changes.append(dict(change="new", customer_id=customer_id, related_customer_id=None,
                                records=int(sizes[cluster]), reason="first records of a new customer"))
    frame["customer_id"] = frame["cluster"].map(cluster_id)

    added = pd.DataFrame(new_rows, columns=REGISTRY_COLUMNS)
    registry = pd.concat([registry, added], ignore_index=True) if len(registry) else added
    merged = {c["customer_id"]: c["related_customer_id"] for c in changes if c["change"] == "merge"}
    active = set(cluster_id.values())
    registry["merged_into"] = registry["customer_id"].map(merged).combine_first(registry["merged_into"])
    registry["status"] = [
        "active" if cid in active else ("merged" if isinstance(into, str) else "retired")
        for cid, into in zip(registry["customer_id"], registry["merged_into"])
    ]
    for cid in set(previous["customer_id"]) - active - set(merged):  # every record of the id is gone
        changes.append(dict(change="retire", customer_id=cid, related_customer_id=None, records=0,
                            reason="no records left (deleted or re-keyed at the source)"))
    change_frame = pd.DataFrame(changes, columns=CHANGE_COLUMNS[2:]).assign(changed_at=now, run_id=run_id)
    return Assignment(
        crosswalk=frame[["source", "source_record_id", "customer_id"]],
        registry=registry,
        changes=change_frame[CHANGE_COLUMNS],
    )
