"""Matching settings: which identifiers join records, which values are junk, the caps, the Splink threshold."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

JUNK_EMAIL_LOCAL_PARTS = {"test", "noemail", "none", "na", "n/a", "null", "noreply", "no-reply", "unknown", "x"}
JUNK_EMAIL_DOMAINS = {"example.com", "test.com", "noemail.com", "none.com", "mailinator.com"}


@dataclass(frozen=True)
class MatchRules:
    identifiers: tuple[str, ...] = ("email", "phone", "loyalty_id", "account_id")
    # An identifier value whose records carry more distinct values of another identifier than this is shared
    # (a household landline, a shop's test address) and joins nothing.
    max_distinct_partners: int = 3
    # A phone joins two records only when their names agree: households share landlines.
    phone_needs_name_match: bool = True
    junk_values: frozenset[str] = field(default_factory=lambda: frozenset({"0", "unknown", "n/a", "none"}))
    # Splink pairs at or above this match probability become edges; None: the model's own threshold
    # (identity/models.py: 0.5 for a model fitted on the warehouse, 0.99 for the shipped one).
    match_threshold: float | None = float(os.environ["CRM_MATCH_THRESHOLD"]) if os.environ.get("CRM_MATCH_THRESHOLD") else None

    def canonical(self) -> dict:
        """The rules as plain, ordered data: the same rules give the same value in every process (a frozenset's
        order changes with Python's per-process hash seed)."""
        return {"identifiers": list(self.identifiers), "max_distinct_partners": self.max_distinct_partners,
                "phone_needs_name_match": self.phone_needs_name_match, "junk_values": sorted(self.junk_values),
                "match_threshold": self.match_threshold}

    def threshold_for(self, model_threshold: float) -> float:
        return self.match_threshold if self.match_threshold is not None else model_threshold


def is_junk_email(email: str) -> bool:
    local, _, domain = email.partition("@")
    return local in JUNK_EMAIL_LOCAL_PARTS or domain in JUNK_EMAIL_DOMAINS or bool(re.fullmatch(r"(.)\1+", local))


def is_junk_phone(phone: str) -> bool:
    digits = re.sub(r"\D", "", phone)
    return len(set(digits[2:])) <= 2 or digits.endswith("1234567") or digits.endswith("0000000")


def is_junk(identifier: str, value: str, rules: MatchRules) -> bool:
    if value.strip().lower() in rules.junk_values:
        return True
    if identifier == "email":
        return is_junk_email(value)
    if identifier == "phone":
        return is_junk_phone(value)
    return False
