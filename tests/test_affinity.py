"""Cross-sell and up-sell marts: the generator's planted category affinities come out on top with their lift,
support/confidence/lift equal an independent computation, and the next-best-category and up-sell rules give
hand-computed answers on a small basket set."""

import itertools
import os
import random
from datetime import date

import duckdb
import pandas as pd
import pytest

from conftest import query, restored_environment, run_dbt
from ingestion.generator.baskets import PLANTED_AFFINITIES, PLANTED_LIFT, Baskets, catalogue

LINE_COLUMNS = "order_key VARCHAR, line_number INTEGER, customer_id VARCHAR, order_date DATE, is_purchase BOOLEAN, " \
               "category VARCHAR, subcategory VARCHAR, price_band VARCHAR"


def warehouse_with(path, lines: pd.DataFrame, rfm: pd.DataFrame | None = None):
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA core; CREATE SCHEMA rfm")
    con.execute(f"CREATE TABLE core.fct_order_lines ({LINE_COLUMNS})")
    con.execute("INSERT INTO core.fct_order_lines BY NAME SELECT * FROM lines")
    con.execute("CREATE TABLE rfm.customer_rfm (customer_id VARCHAR, segment VARCHAR)")
    if rfm is not None:
        con.execute("INSERT INTO rfm.customer_rfm BY NAME SELECT * FROM rfm")
    con.close()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """20,000 purchase baskets drawn by the generator's own basket model."""
    products = {p.sku: p for p in catalogue(7)}
    baskets = Baskets(list(products.values()), random.Random(3))
    rng = random.Random(4)
    rows = []
    for order in range(20_000):
        for line in baskets.lines(f"O{order}", "store", "2026-01-01 10:00:00", 60.0, rng.randint(1, 4)):
            product = products[line["sku"]]
            rows.append({"order_key": f"pos-O{order}", "line_number": line["line_number"], "customer_id": None,
                         "order_date": f"2026-01-{1 + order % 28:02d}", "is_purchase": True,
                         "category": product.category, "subcategory": product.subcategory,
                         "price_band": product.price_band})
    lines = pd.DataFrame(rows)
    path = tmp_path_factory.mktemp("affinity") / "baskets.duckdb"
    warehouse_with(path, lines)
    with restored_environment():
        os.environ["CRM_WAREHOUSE"] = str(path)
        run_dbt("run", "--select", "int_baskets__daily", "product_affinity", "--quiet")
    return lines, path


def test_the_planted_affinities_come_out_on_top_with_their_lift(generated):
    _, path = generated
    top = query(path, "SELECT antecedent, consequent, lift FROM analytics.product_affinity WHERE level = 'category' "
                      "ORDER BY lift DESC, antecedent LIMIT 6")
    assert {frozenset(row[:2]) for row in top} == {frozenset(pair) for pair in PLANTED_AFFINITIES}
    for antecedent, consequent, lift in top:
        assert lift == pytest.approx(PLANTED_LIFT, rel=0.1), (antecedent, consequent)


def test_support_confidence_and_lift_equal_an_independent_computation(generated):
    lines, path = generated
    expected = {}
    for level, item in (("category", lines["category"]), ("subcategory", lines["category"] + " / " + lines["subcategory"])):
        baskets = lines.assign(item=item).groupby("order_key")["item"].agg(set)
        total = len(baskets)
        counts = pd.Series([i for b in baskets for i in b]).value_counts()
        pairs = pd.Series([p for b in baskets for p in itertools.permutations(sorted(b), 2)]).value_counts()
        for (a, c), both in pairs.items():
            if both >= 10 and both / total >= 0.001:
                expected[(level, a, c)] = (both, both / total, both / counts[a], both / counts[a] / (counts[c] / total))
    actual = {(level, a, c): (n, s, conf, lift) for level, a, c, n, s, conf, lift in query(
        path, "SELECT level, antecedent, consequent, pair_baskets, support, confidence, lift FROM analytics.product_affinity")}
    assert actual.keys() == expected.keys()
    for key, (n, support, confidence, lift) in expected.items():
        assert actual[key][0] == n and actual[key][1:] == pytest.approx((support, confidence, lift)), key


# A small basket set, worked by hand (all purchases):
#   O1 C1 kids (premium), accessories (mid)    O2 C2 kids (mid), accessories (mid)    O3 C3 kids (budget)
#   O4 C4 home (budget), beauty (premium)      O5 C5 home (premium)                   O6 C5 kids (budget)
# 6 baskets; kids in 4, accessories 2, home 2, beauty 1; kids+accessories 2, home+beauty 1.
# kids->accessories: support 2/6, confidence 2/4, lift 0.5 / (2/6) = 1.5; home->beauty: confidence 1/2, lift 3.
SMALL = [("O1", "C1", "kids", "premium"), ("O1", "C1", "accessories", "mid"), ("O2", "C2", "kids", "mid"),
         ("O2", "C2", "accessories", "mid"), ("O3", "C3", "kids", "budget"), ("O4", "C4", "home", "budget"),
         ("O4", "C4", "beauty", "premium"), ("O5", "C5", "home", "premium"), ("O6", "C5", "kids", "budget")]
SEGMENTS = {"C1": "Champions", "C2": "Champions", "C3": "Champions", "C4": "Loyal", "C5": "Loyal"}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    lines = pd.DataFrame([{"order_key": o, "line_number": n, "customer_id": c, "order_date": "2026-01-01",
                           "is_purchase": True, "category": cat, "subcategory": "any", "price_band": band}
                          for n, (o, c, cat, band) in enumerate(SMALL, start=1)])
    path = tmp_path_factory.mktemp("small") / "small.duckdb"
    warehouse_with(path, lines, pd.DataFrame({"customer_id": list(SEGMENTS), "segment": list(SEGMENTS.values())}))
    with restored_environment():
        os.environ["CRM_WAREHOUSE"] = str(path)
        run_dbt("run", "--select", "int_baskets__daily", "product_affinity", "next_best_category", "upsell_candidates",
                "--vars", "{affinity_min_baskets: 1, affinity_min_support: 0}", "--quiet")
    return path


def test_order_amounts_reconcile_with_their_lines_or_are_flagged(pipeline):
    """The generator drops a line from a few orders' exports: exactly those are flagged, short by what they lost."""
    rows = query(pipeline.settings.warehouse_path, "SELECT lines_reconciled, lines_difference, amount, lines_amount "
                                                   "FROM core.fct_orders WHERE lines IS NOT NULL")
    assert rows and all(ok == (abs(diff) < 0.005) for ok, diff, _, _ in rows)
    assert all(diff > 0 for ok, diff, _, _ in rows if not ok)  # a lost line leaves the amount above the lines
    (unlined,), = query(pipeline.settings.warehouse_path, "SELECT count(*) FROM core.fct_orders WHERE lines IS NULL")
    assert unlined == 0  # every generated order has lines


def test_affinity_by_hand(small):
    rows = query(small, "SELECT antecedent, consequent, pair_baskets, round(support, 6), confidence, lift "
                        "FROM analytics.product_affinity WHERE level = 'category' ORDER BY antecedent")
    assert rows == [("accessories", "kids", 2, round(2 / 6, 6), 1.0, 1.5), ("beauty", "home", 1, round(1 / 6, 6), 1.0, 3.0),
                    ("home", "beauty", 1, round(1 / 6, 6), 0.5, 3.0), ("kids", "accessories", 2, round(2 / 6, 6), 0.5, 1.5)]


def test_next_best_categories_by_hand(small):
    """C1, C2 and C4 own both sides of every affinity they touch; C3 bought kids; C5 bought home and kids, and the
    tie on confidence (0.5 each) goes to the higher lift."""
    assert query(small, "SELECT customer_id, rank, category, score, lift, because_of, reason "
                        "FROM analytics.next_best_category ORDER BY customer_id, rank") == [
        ("C3", 1, "accessories", 0.5, 1.5, "kids", "bought kids: 50.0% of its baskets also hold accessories (lift 1.5)"),
        ("C5", 1, "beauty", 0.5, 3.0, "home", "bought home: 50.0% of its baskets also hold beauty (lift 3.0)"),
        ("C5", 2, "accessories", 0.5, 1.5, "kids", "bought kids: 50.0% of its baskets also hold accessories (lift 1.5)"),
    ]


def test_upsell_candidates_by_hand(small):
    """Champions buying kids: highest bands premium, mid, budget -> median mid; C3 (budget) is the candidate.
    Loyal buying home: budget and premium -> the lower median (quantile_disc) is budget: nobody below it."""
    assert query(small, "SELECT customer_id, segment, category, current_band, target_band, peer_customers, "
                        "round(peers_at_target_share, 6) FROM analytics.upsell_candidates") == [
        ("C3", "Champions", "kids", "budget", "mid", 3, round(2 / 3, 6))]


def test_affinity_counts_again_only_the_days_whose_baskets_changed(tmp_path):
    """int_baskets__daily keeps per-day counts: a new basket on one day, and a day whose only basket is gone,
    change exactly those days' counts; the rest are kept as built, and product_affinity equals a full build."""
    days = {"O1": "2026-01-01", "O2": "2026-01-01", "O3": "2026-01-02", "O4": "2026-01-03", "O5": "2026-01-03",
            "O6": "2026-01-04"}
    lines = pd.DataFrame([{"order_key": o, "line_number": n, "customer_id": c, "order_date": days[o],
                           "is_purchase": True, "category": cat, "subcategory": "any", "price_band": band}
                          for n, (o, c, cat, band) in enumerate(SMALL, start=1)])
    path = tmp_path / "daily.duckdb"
    warehouse_with(path, lines)
    build = ("run", "--select", "int_baskets__daily", "product_affinity", "--vars",
             "{affinity_min_baskets: 1, affinity_min_support: 0}", "--quiet")
    with restored_environment():
        os.environ["CRM_WAREHOUSE"] = str(path)
        run_dbt(*build)
        kept = query(path, "SELECT period, fingerprint FROM audit.int_baskets__daily__periods ORDER BY period")
        con = duckdb.connect(str(path))
        con.execute("INSERT INTO core.fct_order_lines VALUES ('O7', 8, 'C1', '2026-01-02', true, 'kids', 'any', 'mid'),"
                    " ('O7', 9, 'C1', '2026-01-02', true, 'accessories', 'any', 'mid')")
        con.execute("DELETE FROM core.fct_order_lines WHERE order_key = 'O6'")
        con.close()
        run_dbt(*build)
        incremental = query(path, "SELECT * FROM analytics.product_affinity ORDER BY ALL")
        daily = query(path, "SELECT * FROM intermediate.int_baskets__daily ORDER BY ALL")
        now = query(path, "SELECT period, fingerprint FROM audit.int_baskets__daily__periods ORDER BY period")
        run_dbt(*build, "--full-refresh")
        assert query(path, "SELECT * FROM analytics.product_affinity ORDER BY ALL") == incremental
        assert query(path, "SELECT * FROM intermediate.int_baskets__daily ORDER BY ALL") == daily
    # Jan 2 gained O7 (kids + accessories), Jan 4 lost its only basket; Jan 1 and Jan 3 are as they were
    assert [p for p, _ in now] == [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]
    assert [f for p, f in now if p != date(2026, 1, 2)] == [f for p, f in kept if p in (date(2026, 1, 1), date(2026, 1, 3))]
    assert dict(now)[date(2026, 1, 2)] != dict(kept)[date(2026, 1, 2)]
    assert all(row[0] != date(2026, 1, 4) for row in daily)
    assert ("category", "accessories", "kids", 3) in [row[:4] for row in incremental]  # O1, O2 and O7
