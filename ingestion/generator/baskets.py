"""What each purchase held: a product catalogue, and the lines of every receipt and web order.

A basket's categories: a main one drawn by popularity, and each other category with a small chance of its own,
except that a basket holding the first category of a planted pair holds the second PLANTED_LIFT times as often
as baskets overall do (lift = P(both) / (P(first) P(second)), exactly what analytics.product_affinity measures;
the chance that gives it is solved below, not tuned). The truth goes to truth/affinities.json. Lines add up to
the order's amount to the penny (list prices, with quantities raised or a discount spread to meet it), except
for a few orders that lose a line on the way, as exports sometimes do: the pipeline flags those.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

CATEGORIES = {  # category -> (popularity as a basket's main category, subcategories)
    "womenswear": (0.20, ["dresses", "tops", "knitwear"]),
    "menswear": (0.16, ["shirts", "trousers", "jackets"]),
    "footwear": (0.12, ["trainers", "boots", "sandals"]),
    "accessories": (0.10, ["bags", "scarves", "belts"]),
    "beauty": (0.12, ["skincare", "fragrance", "makeup"]),
    "home": (0.12, ["bedding", "candles", "kitchen"]),
    "kids": (0.10, ["babywear", "toys", "schoolwear"]),
    "sports": (0.08, ["running", "yoga", "outdoor"]),
}
EXTRA_SHARE = 0.3  # a category's chance to join a basket besides its main one, as a share of its popularity
PRICE_BANDS = {"budget": (4.0, 15.0), "mid": (15.0, 40.0), "premium": (40.0, 120.0)}
BAND_WEIGHTS = [0.5, 0.35, 0.15]
BRANDS = ["Northwind", "Harbour", "Lumen", "Oakline"]
# (first, second): disjoint pairs, so each is planted alone
PLANTED_AFFINITIES = [("kids", "accessories"), ("sports", "footwear"), ("home", "beauty")]
PLANTED_LIFT = 3.0
LOST_LINE_RATE = 0.003


def _extra(category: str) -> float:
    return CATEGORIES[category][0] * EXTRA_SHARE


def planted_chance(first: str, second: str, lift: float = PLANTED_LIFT) -> float:
    """The chance that `second` joins a basket holding `first` (when it is not the main category), such that
    P(second | first) = lift x P(second). With m_x the popularity and e_x the extra chance of x:
    P(first) = m_f + (1 - m_f) e_f; P(second | not first) = m_s / (1 - m_f) + (1 - m_s / (1 - m_f)) e_s;
    and P(second | first) = lift P(second) solves to lift P(s | not f) (1 - P(f)) / (1 - lift P(f))."""
    main_f, main_s = CATEGORIES[first][0], CATEGORIES[second][0]
    p_first = main_f + (1 - main_f) * _extra(first)
    as_main = main_s / (1 - main_f)
    without = as_main + (1 - as_main) * _extra(second)
    with_first = lift * without * (1 - p_first) / (1 - lift * p_first)
    main_given_first = main_s * _extra(first) / p_first  # second is the main category, first joined it
    chance = (with_first - main_given_first) / (1 - main_given_first)
    if not 0 < chance <= 1:
        raise ValueError(f"lift {lift} cannot be planted on ({first}, {second}) with these popularities")
    return chance


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    subcategory: str
    brand: str
    price_band: str
    price: float
    launch_day: int  # days before the window's start (negative) or within it


def catalogue(seed: int) -> list[Product]:
    """Two products per subcategory, price band and one of the brands: 144 SKUs, the same for every chunk."""
    rng = random.Random(f"catalogue-{seed}")
    products = []
    for category, (_, subcategories) in CATEGORIES.items():
        for subcategory in subcategories:
            for band, (low, high) in PRICE_BANDS.items():
                for n in range(2):
                    brand = rng.choice(BRANDS)
                    products.append(Product(f"SKU-{category[:3].upper()}-{subcategory[:3].upper()}-{band[0].upper()}{n}",
                                            f"{brand} {subcategory} {band} {n + 1}", category, subcategory, brand,
                                            band, round(rng.uniform(low, high), 2), -rng.randint(30, 720)))
    return products


def affinity_truth() -> list[dict]:
    return [{"level": "category", "categories": list(pair), "lift": PLANTED_LIFT,
             "chance_given_first": round(planted_chance(*pair), 4)} for pair in PLANTED_AFFINITIES]


class Baskets:
    """The lines of each order, drawn with the planted affinities."""

    def __init__(self, products: list[Product], rng: random.Random):
        self.rng = rng
        self.by_category: dict[str, dict[str, list[Product]]] = {}
        for p in products:
            self.by_category.setdefault(p.category, {}).setdefault(p.price_band, []).append(p)
        self.boosted = {second: (first, planted_chance(first, second)) for first, second in PLANTED_AFFINITIES}

    def categories(self) -> list[str]:
        names = list(CATEGORIES)
        held = [self.rng.choices(names, [CATEGORIES[c][0] for c in names])[0]]
        for category in names:  # the unpaired and first categories, then the seconds given their firsts
            if category not in held and category not in self.boosted and self.rng.random() < _extra(category):
                held.append(category)
        for second, (first, chance) in self.boosted.items():
            if second not in held and self.rng.random() < (chance if first in held else _extra(second)):
                held.append(second)
        return held

    def lines(self, order_id: str, channel: str, ordered_at: str, amount: float, items: int) -> list[dict]:
        held = self.categories()
        categories = held + [self.rng.choice(held) for _ in range(max(items - len(held), 0))]
        chosen = [self.rng.choice(self.by_category[c][self.rng.choices(list(PRICE_BANDS), BAND_WEIGHTS)[0]])
                  for c in categories]
        cents = round(amount * 100)
        quantities = [1] * len(chosen)
        k = 0
        while sum(q * round(p.price * 100) for q, p in zip(quantities, chosen)) < cents:
            quantities[k % len(chosen)] += 1  # a larger spend than the list prices: more of the same
            k += 1
        gross = [q * round(p.price * 100) for q, p in zip(quantities, chosen)]
        excess = sum(gross) - cents
        discounts = [excess * g // sum(gross) for g in gross]
        discounts[-1] += excess - sum(discounts)  # the rounding remainder on the last line
        rows = [{"order_id": order_id, "channel": channel, "line_number": n + 1, "sku": p.sku, "quantity": q,
                 "unit_price": f"{p.price:.2f}", "discount": f"{d / 100:.2f}", "ordered_at": ordered_at}
                for n, (p, q, d) in enumerate(zip(chosen, quantities, discounts))]
        if len(rows) > 1 and self.rng.random() < LOST_LINE_RATE:
            rows.pop(self.rng.randrange(len(rows)))  # lost in the export: the order no longer reconciles
        return rows
