"""Reading the published BI database: short read-only connections, results cached per publication.

The publish replaces the BI file by a rename, so a connection held open would keep reading the file it opened;
each read opens and closes its own, and the cache is keyed by the publication's generation id, so a new publish
shows on the next page load and an unchanged one costs no query.
"""

from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from ingestion.settings import get_settings


class NotPublished(RuntimeError):
    """No BI database has been published yet."""


def bi_database() -> Path:
    return get_settings().bi_database


def _connect() -> duckdb.DuckDBPyConnection:
    path = bi_database()
    if not path.exists():
        raise NotPublished(f"No published BI database at {path}: run `make demo` (or the pipeline's transform_job).")
    return duckdb.connect(str(path), read_only=True)


def generation() -> dict:
    """The publication on disk now: generation id, when and from which run it was published."""
    with _connect() as con:
        row = con.execute("SELECT generation_id, published_at, run_id, models_version FROM meta.publication").fetchone()
    return dict(zip(("generation_id", "published_at", "run_id", "models_version"), row))


@st.cache_data(max_entries=256, show_spinner=False)
def _query(sql: str, generation_id: str) -> pd.DataFrame:
    with _connect() as con:
        return con.execute(sql).df()


def table(name: str, order_by: str | None = None) -> pd.DataFrame:
    """A published table as it is (the marts hold every figure; pages only pick rows and columns)."""
    return _query(f"SELECT * FROM {name}" + (f" ORDER BY {order_by}" if order_by else ""),
                  generation()["generation_id"])

