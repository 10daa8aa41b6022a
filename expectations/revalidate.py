"""Re-validate quarantined rows after a rule or the data was fixed: rows that now pass leave quarantine.

Quarantine holds references to rows that stay in raw, so re-running a feed's checks on the days that hold
quarantined rows is the whole move: rows that pass are no longer excluded from staging, rows that still fail
are quarantined again with today's reason. Rows the reader could not parse stay until their file is re-delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from expectations.validator import validate_days
from ingestion.audit import MALFORMED_RULES, reconcile
from ingestion.contracts import FeedContract
from ingestion.warehouse import ROW_QUARANTINED, log_raw_changes, span_days


@dataclass
class Released:
    feed: str
    first_day: date
    last_day: date
    before: int
    after: int

    @property
    def released(self) -> int:
        return self.before - self.after

    def describe(self) -> str:
        return (f"[{self.feed}] {self.first_day} .. {self.last_day}: {self.before:,} quarantined before, "
                f"{self.after:,} after, {self.released:,} released to staging")


def _quarantined(con, feed: str, first: date, last: date) -> int:
    return con.execute(f"SELECT count(DISTINCT (_source_file, _row_number)) FROM quarantine.{feed} "
                       f"WHERE _load_date BETWEEN ? AND ? AND rule NOT IN {MALFORMED_RULES} "
                       f"AND outcome = '{ROW_QUARANTINED}'", [first, last]).fetchone()[0]


def revalidate(con: duckdb.DuckDBPyConnection, contracts: list[FeedContract], run_id: str,
               first: date | None = None, last: date | None = None) -> list[Released]:
    """Re-check every day (within first..last when given) that holds rule-quarantined rows, feed by feed."""
    results = []
    for contract in contracts:
        feed = contract.feed
        span = con.execute(
            f"SELECT min(_load_date), max(_load_date) FROM quarantine.{feed} WHERE rule NOT IN {MALFORMED_RULES} "
            f"AND _load_date BETWEEN coalesce(?, DATE '0001-01-01') AND coalesce(?, DATE '9999-12-31')",
            [first, last]).fetchone()
        if span[0] is None:
            continue
        before = _quarantined(con, feed, *span)
        validate_days(con, contract, *span)
        # rows left or entered quarantine on these days (an ingest's validation is part of its load, logged there)
        log_raw_changes(con, feed, span_days(*span), "validation")
        reconcile(con, contract, *span, run_id)
        results.append(Released(feed, span[0], span[1], before, _quarantined(con, feed, *span)))
    return results
