"""Feed contracts: one YAML file per feed in `ingestion/contracts/` describes what a delivery must hold."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CONTRACTS_DIR = Path(__file__).parent / "contracts"
FORMATS = {"csv", "parquet", "jsonl"}
TYPES = {"varchar", "integer", "decimal", "date", "timestamp", "boolean"}
FILE_SUFFIXES = {"csv": (".csv",), "parquet": (".parquet",), "jsonl": (".jsonl", ".json")}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "varchar"
    required: bool = False
    pii: bool = False


@dataclass(frozen=True)
class FeedContract:
    feed: str
    description: str
    format: str
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    event_time: str
    # freshness: the newest landing day with rows may be at most this many days before the day being loaded
    max_days_without_delivery: int = 2

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def suffixes(self) -> tuple[str, ...]:
        return FILE_SUFFIXES[self.format]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def parse_contract(data: dict, origin: str) -> FeedContract:
    columns = tuple(Column(**c) for c in data["columns"])
    contract = FeedContract(
        feed=data["feed"],
        description=data.get("description", ""),
        format=data["format"],
        columns=columns,
        natural_key=tuple(data["natural_key"]),
        event_time=data["event_time"],
        max_days_without_delivery=int(data.get("max_days_without_delivery", 2)),
    )
    problems = []
    if contract.format not in FORMATS:
        problems.append(f"format {contract.format!r} not in {sorted(FORMATS)}")
    names = contract.column_names
    problems += [f"column {c.name}: type {c.type!r} not in {sorted(TYPES)}" for c in columns if c.type not in TYPES]
    problems += [f"natural key column {k} is not a column" for k in contract.natural_key if k not in names]
    if contract.event_time not in names:
        problems.append(f"event_time {contract.event_time} is not a column")
    if len(set(names)) != len(names):
        problems.append("duplicate column names")
    if problems:
        raise ValueError(f"contract {origin}: " + "; ".join(problems))
    return contract


@cache
def load_contracts(directory: Path = CONTRACTS_DIR) -> dict[str, FeedContract]:
    contracts = {}
    for path in sorted(directory.glob("*.yml")):
        contract = parse_contract(yaml.safe_load(path.read_text()), origin=str(path))
        contracts[contract.feed] = contract
    return contracts
