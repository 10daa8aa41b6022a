"""Drive the simulation chunk by chunk and write landing files plus ground truth.

Memory stays flat: people are simulated in chunks, and each chunk's rows are written as one part file per
feed and day before the next chunk starts, so a million customers never sit in memory at once.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from ingestion.contracts import load_contracts
from ingestion.generator.baskets import Baskets, affinity_truth, catalogue
from ingestion.generator.people import Household, Noise, new_person
from ingestion.generator.simulate import (AUDIENCE_TEST, CLICK_PURCHASE, LEAD_CONVERSION, WEB_ORDER_STATUSES, Campaign,
                                          PersonSimulator, plan_campaigns)

DEFAULT_END_DATE = date(2026, 6, 30)


@dataclass(frozen=True)
class GeneratorConfig:
    customers: int = 2000
    days: int = 180
    seed: int = 42
    noise: float = 1.0
    end_date: date = DEFAULT_END_DATE
    chunk_size: int = 50_000

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)


# Value-level faults a careless source system produces; each breaks one data-quality rule.
CORRUPTIONS = {
    "crm_contacts": [("email", lambda v: (v or "x").replace("@", "#")), ("birth_date", lambda v: "1985-02-30")],
    "pos_transactions": [("amount", lambda v: -abs(v)), ("status", lambda v: "unknown")],
    "ecommerce_orders": [("amount", lambda v: "12,50"), ("status", lambda v: "shipped?")],
    "web_events": [("event_type", lambda v: "pageview!"), ("event_at", lambda v: "yesterday")],
    "email_events": [("event_type", lambda v: "opned"), ("campaign_id", lambda v: "CMP-X999")],
    "service_cases": [("csat", lambda v: 7), ("category", lambda v: "misc?")],
    "survey_responses": [("score", lambda v: 11)],
    "sales_leads": [("stage", lambda v: "??"), ("sales_calls", lambda v: -1)],
}


class ChunkSink:
    """Collects one chunk's rows per (feed, day), adding re-deliveries and faulty rows at a noise-scaled rate."""

    def __init__(self, rng: random.Random, noise: float, day_count: int):
        self.rng = rng
        self.noise = noise
        self.day_count = day_count
        self.rows: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
        self.broken: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        self.truth: dict[str, list[tuple[str, str | None]]] = defaultdict(list)

    def add(self, feed: str, day: int, row: dict, person_id: str | None, record_id: str) -> None:
        day = min(max(day, 0), self.day_count - 1)
        self.truth[feed].append((record_id, person_id))
        roll = self.rng.random()
        if roll < 0.002 * self.noise and feed in CORRUPTIONS:
            column, corrupt = self.rng.choice(CORRUPTIONS[feed])
            row = dict(row, **{column: corrupt(row[column])})
        elif roll < 0.003 * self.noise and load_contracts()[feed].format == "csv":
            self.broken[feed][day].add(len(self.rows[feed][day]))  # structurally malformed line
        self.rows[feed][day].append(row)
        if self.rng.random() < 0.005 * self.noise and day + 1 < self.day_count:
            self.rows[feed][day + 1].append(dict(row))  # the source re-sends the same record next day


def write_feed_day(path: Path, feed: str, rows: list[dict], broken: set[int]) -> None:
    contract = load_contracts()[feed]
    frame = pd.DataFrame(rows, columns=contract.column_names)
    path.parent.mkdir(parents=True, exist_ok=True)
    if contract.format == "parquet":
        for col in contract.columns:
            if col.type == "decimal":
                frame[col.name] = frame[col.name].astype("float64")
            elif col.type == "integer":
                frame[col.name] = frame[col.name].astype("Int64")
        frame.to_parquet(path, index=False)
    elif contract.format == "jsonl":
        frame.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        for col in contract.columns:  # keep integers as integers despite missing values
            if col.type == "integer":
                frame[col.name] = frame[col.name].astype("Int64")
        lines = frame.to_csv(index=False, lineterminator="\n").split("\n")
        for index in broken:  # an unquoted delimiter in a free-text field: one field too many
            lines[index + 1] = lines[index + 1] + ",stray,text"
        path.write_text("\n".join(lines), encoding="utf-8")


def write_products(config: GeneratorConfig, products: list, landing: Path) -> None:
    """The catalogue, delivered whole on the first day."""
    rows = [{"sku": p.sku, "name": p.name, "category": p.category, "subcategory": p.subcategory, "brand": p.brand,
             "price_band": p.price_band, "launch_date": (config.start_date + timedelta(days=p.launch_day)).isoformat()}
            for p in products]
    stamp = config.start_date.isoformat()
    write_feed_day(landing / "products" / f"date={stamp}" / "products.csv", "products", rows, set())


def write_campaigns(config: GeneratorConfig, campaigns: list[Campaign], landing: Path) -> None:
    by_day: dict[int, list[dict]] = defaultdict(list)
    for c in campaigns:
        by_day[c.start_day].append({
            "campaign_id": c.campaign_id, "campaign_name": c.name, "channel": c.channel, "campaign_code": c.code,
            "start_date": (config.start_date + timedelta(days=c.start_day)).isoformat(),
            "end_date": (config.start_date + timedelta(days=c.end_day)).isoformat(),
            "cost": c.cost, "target_segment": c.target_segment, "audience": c.audience,
        })
    for day, rows in by_day.items():
        stamp = (config.start_date + timedelta(days=day)).isoformat()
        write_feed_day(landing / "campaigns" / f"date={stamp}" / "campaigns.csv", "campaigns", rows, set())


def generate(config: GeneratorConfig, landing: Path, truth: Path) -> dict[str, int]:
    """Write every feed's files for the configured population; return rows written per feed."""
    rng = random.Random(config.seed)
    campaigns = plan_campaigns(config.days, rng)
    write_campaigns(config, campaigns, landing)
    counts: dict[str, int] = defaultdict(int)
    counts["campaigns"] = len(campaigns)
    truth.mkdir(parents=True, exist_ok=True)
    (truth / "lead_conversion.json").write_text(json.dumps(LEAD_CONVERSION, indent=2) + "\n")
    (truth / "affinities.json").write_text(json.dumps(affinity_truth(), indent=2) + "\n")
    completed = WEB_ORDER_STATUSES["completed"] / sum(WEB_ORDER_STATUSES.values())
    (truth / "campaign_lift.json").write_text(json.dumps(
        {**AUDIENCE_TEST, "campaigns": [c.campaign_id for c in campaigns if c.audience],
         # the chance a treated customer buys in the campaign's window because of it (a web order that completes)
         "planted_uplift": 1 - (1 - AUDIENCE_TEST["extra_purchase"] * completed) * (1 - CLICK_PURCHASE * completed)},
        indent=2) + "\n")
    products = catalogue(config.seed)
    write_products(config, products, landing)
    counts["products"] = len(products)
    for chunk, first in enumerate(range(0, config.customers, config.chunk_size)):
        chunk_rng = random.Random(f"{config.seed}-{chunk}")
        sink = ChunkSink(chunk_rng, config.noise, config.days)
        simulator = PersonSimulator(config.start_date, config.days, campaigns, chunk_rng,
                                    Noise(chunk_rng, config.noise), sink,
                                    Baskets(products, random.Random(f"{config.seed}-{chunk}-baskets")))
        households: list[Household] = []
        for index in range(first, min(first + config.chunk_size, config.customers)):
            simulator.run(new_person(index + 1, chunk_rng, households, config.days))
        for feed, days in sink.rows.items():
            suffix = load_contracts()[feed].suffixes[0]
            for day, rows in days.items():
                stamp = (config.start_date + timedelta(days=day)).isoformat()
                path = landing / feed / f"date={stamp}" / f"part-{chunk:04d}{suffix}"
                write_feed_day(path, feed, rows, sink.broken[feed][day])
                counts[feed] += len(rows)
        for feed, records in sink.truth.items():
            frame = pd.DataFrame(records, columns=["source_record_id", "person_id"]).drop_duplicates()
            frame.insert(0, "source", feed)
            target = truth / f"{feed}.csv"
            frame.to_csv(target, mode="a" if chunk else "w", header=chunk == 0, index=False)
    return dict(counts)
