"""The headline numbers `make demo` prints, read from the published BI database, as a BI tool reads them."""

from __future__ import annotations

from pathlib import Path

from ingestion.warehouse import connect

SCORECARD = [  # column, label, format
    ("active_customers", "active customers", "{:,.0f}"),
    ("new_customers", "new customers", "{:,.0f}"),
    ("revenue", "revenue", "{:,.2f}"),
    ("capture_rate_revenue", "capture rate (revenue)", "{:.1%}"),
    ("retention_rate", "retention rate", "{:.1%}"),
    ("repeat_rate", "repeat rate (to date)", "{:.1%}"),
    ("nps", "NPS", "{:+.0f}"),
]


def _fmt(value, template: str) -> str:
    return "-" if value is None or value != value else template.format(value)


def scorecard_lines(bi_database: Path) -> list[str]:
    con = connect(bi_database, read_only=True)
    try:
        months = con.execute(f"SELECT month, {', '.join(c for c, _, _ in SCORECARD)} FROM kpi.kpi_scorecard "
                             "ORDER BY month DESC LIMIT 3").fetchall()[::-1]
        customers, identified = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE purchase_occasions > 0) FROM core.dim_customers").fetchone()
        segments = con.execute("SELECT segment, customers, revenue, avg_predicted_clv_12m "
                               "FROM rfm.rfm_segment_summary ORDER BY revenue DESC").fetchall()
        backtest = con.execute("SELECT predicted_purchases, actual_purchases, holdout_days FROM clv.backtest "
                               "WHERE \"group\" = 'all'").fetchone()
        feeds = con.execute("SELECT feed, rows_read, rows_quarantined, redeliveries_removed FROM meta.feeds "
                            "ORDER BY feed").fetchall()
        affinities = con.execute("SELECT antecedent, consequent, lift, support FROM analytics.product_affinity "
                                 "WHERE level = 'category' AND antecedent < consequent "
                                 "ORDER BY lift DESC LIMIT 5").fetchall()
        audiences = con.execute("SELECT audience, channel, selected, members, treated, holdout "
                                "FROM activation.audience_summary ORDER BY priority").fetchall()
    finally:
        con.close()
    header = f"  {'':<26}" + "".join(f"{str(m[0])[:7]:>14}" for m in months)
    rows = [f"  {label:<26}" + "".join(f"{_fmt(m[i + 1], template):>14}" for m in months)
            for i, (_, label, template) in enumerate(SCORECARD)]
    return [
        "Scorecard (kpi.kpi_scorecard, last three months)", header, *rows,
        f"Single view: {customers:,} customers, {identified:,} with purchases",
        "RFM segments: customers / revenue / average predicted 12-month CLV",
        *[f"  {s:<24} {n:>8,} {float(r or 0):>14,.2f} {_fmt(c, '{:,.2f}'):>10}" for s, n, r, c in segments],
        f"CLV backtest: {backtest[0]:,.0f} purchases predicted vs {backtest[1]:,.0f} actual over the "
        f"{backtest[2]}-day holdout" if backtest else "CLV backtest: not run",
        "Audiences (activation.audience_summary): selected / members / to contact / held out; "
        "exports in data/exports/<audience>/",
        *[f"  {a:<28} {ch:<6} {s:>8,} {m:>8,} {t:>8,} {h:>8,}" for a, ch, s, m, t, h in audiences],
        "Top category affinities (analytics.product_affinity): lift / share of baskets",
        *[f"  {a + ' + ' + c:<34} {lift:>6.2f} {support:>8.2%}" for a, c, lift, support in affinities],
        "Rows per feed: read / quarantined / re-deliveries removed",
        *[f"  {feed:<24} {read:>10,} {q:>8,} {r:>8,}" for feed, read, q, r in feeds],
    ]
