"""How figures are written on the pages (the test reads them back in the same form)."""

import math

# scorecard metric -> (label, kind); the order is kpi_scorecard_changes.metric_order
SCORECARD = {
    "active_customers": ("Active customers", "count"),
    "new_customers": ("New customers", "count"),
    "revenue": ("Revenue", "money"),
    "capture_rate_revenue": ("Capture rate (revenue)", "share"),
    "retention_rate": ("Retention rate", "share"),
    "repeat_rate": ("Repeat rate", "share"),
    "nps": ("NPS", "score"),
}


def figure(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return {"count": f"{value:,.0f}", "money": f"{value:,.2f}", "share": f"{value:.1%}",
            "score": f"{value:+.1f}", "hours": f"{value:,.1f} h", "rating": f"{value:.2f}"}[kind]


def change(value, kind: str) -> str | None:
    """A change written for its kind: points for shares and scores, units otherwise; None when not compared."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return {"count": f"{value:+,.0f}", "money": f"{value:+,.2f}", "share": f"{value * 100:+.1f} pts",
            "score": f"{value:+.1f} pts"}[kind]
