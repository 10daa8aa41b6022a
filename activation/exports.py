"""One CSV per audience for a marketing automation tool: the treated members (the holdout is never contacted)
in the columns such tools import, written from the restricted publication.

data/exports/<audience>/<date>.csv holds personal data: the folders are 0700 and the files 0600, written to a
draft and renamed, so a tool never picks up half a file. Re-running on the same day replaces that day's file.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

# the address column is named as the tools name it (Mailchimp, Braze and Klaviyo import "email" / "phone")
ADDRESS_COLUMN = {"email": "email", "sms": "phone"}
COLUMNS = ["first_name", "last_name", "customer_id", "audience", "offer"]


@dataclass(frozen=True)
class Export:
    audience: str
    channel: str
    path: Path
    rows: int


def exports_dir(data_dir: Path) -> Path:
    return data_dir / "exports"


def _private_folder(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def forget_exports(folder: Path) -> int:
    """After an erasure every export written before it may hold the person: remove them all (the next publish
    writes today's again, without them). Returns how many files went."""
    files = list(folder.glob("*/*.csv")) if folder.exists() else []
    for path in files:
        path.unlink()
    return len(files)


def write_exports(restricted_database: Path, folder: Path, day: date) -> list[Export]:
    """Write <folder>/<audience>/<day>.csv for every audience of the publication (an empty audience gets a file
    with its header only, so a tool sees that nobody qualified today); return what was written."""
    # a fresh in-memory database attaching the file read-only: duckdb.connect(path) could hand back a
    # database this process already holds open at that path
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{restricted_database}' AS published (READ_ONLY)")
        audiences = con.execute("SELECT audience, channel FROM published.activation.audience_summary "
                                "ORDER BY priority").fetchall()
        members = con.execute(f"""SELECT audience, contact_address, {', '.join(COLUMNS)}
            FROM published.activation.audience_members WHERE NOT is_holdout ORDER BY audience, customer_id""").fetchall()
    finally:
        con.close()
    _private_folder(folder)
    written = []
    for audience, channel in audiences:
        rows = [row[1:] for row in members if row[0] == audience]
        target = folder / audience / f"{day.isoformat()}.csv"
        _private_folder(target.parent)
        draft = target.with_name(f".{target.name}.writing")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([ADDRESS_COLUMN[channel], *COLUMNS])
            writer.writerows(rows)
        os.chmod(draft, 0o600)
        os.replace(draft, target)
        written.append(Export(audience, channel, target, len(rows)))
    return written
