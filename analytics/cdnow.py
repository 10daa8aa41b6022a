"""The CDNOW data shipped inside the `lifetimes` package (read with importlib.resources: its own loader needs
pkg_resources): the published calibration summary, and the master transactions (23,570 customers, 1997-98)."""

from __future__ import annotations

import importlib.resources

import pandas as pd


def _dataset(name: str):
    return importlib.resources.files("lifetimes").joinpath("datasets", name)


def calibration_summary() -> pd.DataFrame:
    """The 2,357-customer sample summarised over its 39-week calibration period (time in weeks), as used by
    Fader, Hardie & Lee (2005) for the BG/NBD and Gamma-Gamma estimates."""
    frame = pd.read_csv(_dataset("cdnow_customers_summary_with_transactions.csv"))
    return frame.rename(columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


def master_transactions() -> pd.DataFrame:
    """customer_id, date, cds, amount: one row per purchase of the CDNOW master file."""
    with _dataset("CDNOW_master.txt").open() as handle:
        frame = pd.read_csv(handle, sep=r"\s+", header=0, names=["customer_id", "date", "cds", "amount"],
                            dtype={"customer_id": str, "date": str})
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame
