"""What each published column becomes in the BI database, decided by `meta.pii` in the models' `.yml`:

    config: {meta: {pii: direct}}                             keyed HMAC-SHA256 pseudonym (lists: each element)
    config: {meta: {pii: quasi, generalise: birth_year}}      generalised, published under the generaliser's name
    config: {meta: {pii: free_text}}                          dropped

A column without `meta.pii` is published as it is. The restricted database keeps every column whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ingestion.contracts import load_contracts

PII_KINDS = ("direct", "quasi", "free_text")
# name the generalised column takes -> SQL over the source column
GENERALISERS = {
    "birth_year": "year({column})::INTEGER",
    # the outward code of a standardised postcode ("SW1A 1AA" -> "SW1A"): an area of thousands of addresses
    "postcode_district": "nullif(split_part({column}, ' ', 1), '')",
}


class PolicyError(ValueError):
    """A column's PII declaration is missing or does not make sense; the publish refuses to guess."""


@dataclass(frozen=True)
class ColumnRule:
    column: str
    pii: str | None = None
    generalise: str | None = None

    @property
    def treatment(self) -> str:
        if self.pii == "direct":
            return "pseudonymised"
        if self.pii == "quasi":
            return f"generalised to {self.generalise}"
        if self.pii == "free_text":
            return "dropped"
        return "kept"

    @property
    def published_name(self) -> str | None:
        if self.pii == "free_text":
            return None
        return self.generalise if self.pii == "quasi" else self.column

    def bi_expression(self, data_type: str) -> str | None:
        """SQL for this column in the BI database (None: not published). `pseudonym(v)` is a macro of the
        publishing connection (serving/pseudonym.py)."""
        quoted = f'"{self.column}"'
        if self.pii == "direct":
            if data_type.endswith("[]"):
                return f"list_transform({quoted}, value -> pseudonym(value))"
            return f"pseudonym({quoted})"
        if self.pii == "quasi":
            return GENERALISERS[self.generalise].format(column=quoted)
        if self.pii == "free_text":
            return None
        return quoted


def _rule(table: str, column: str, meta: dict) -> ColumnRule:
    pii, generalise = meta.get("pii"), meta.get("generalise")
    if pii is None:
        return ColumnRule(column)
    if pii not in PII_KINDS:
        raise PolicyError(f"{table}.{column}: meta.pii {pii!r} is not one of {PII_KINDS}")
    if pii == "quasi" and generalise not in GENERALISERS:
        raise PolicyError(f"{table}.{column}: meta.pii quasi needs generalise: one of {sorted(GENERALISERS)}")
    return ColumnRule(column, pii, generalise if pii == "quasi" else None)


@dataclass(frozen=True)
class PiiPolicy:
    rules: dict[str, dict[str, ColumnRule]]  # "schema.table" -> column -> rule (columns with a meta.pii or none)

    def rule(self, table: str, column: str) -> ColumnRule:
        return self.rules.get(table, {}).get(column, ColumnRule(column))

    def check_declared(self, table: str, columns: list[str]) -> None:
        """Fail closed: a published column named like a feed's PII column must say what it is."""
        undeclared = [c for c in columns if c in contract_pii_columns() and self.rule(table, c).pii is None]
        if undeclared:
            raise PolicyError(f"{table}: columns {undeclared} are named like PII columns of the feed contracts "
                              "but carry no meta.pii in the model's .yml")


def contract_pii_columns() -> set[str]:
    return {c.name for contract in load_contracts().values() for c in contract.columns if c.pii}


def load_policy(manifest_path: Path) -> PiiPolicy:
    """Column rules of every dbt model, from the parsed manifest (`dbt parse` writes it)."""
    manifest = json.loads(manifest_path.read_text())
    rules: dict[str, dict[str, ColumnRule]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "seed", "snapshot"):
            continue
        table = f"{node['schema']}.{node['alias']}"
        for name, column in node["columns"].items():
            meta = {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}
            rules.setdefault(table, {})[name] = _rule(table, name, meta)
    return PiiPolicy(rules)
