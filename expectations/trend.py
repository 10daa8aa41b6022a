"""The quality report's trend: per feed, the last 30 landing days of rows read, quarantine share,
re-deliveries and lag, each drawn as a small inline SVG chart (the page downloads nothing when viewed)."""

from __future__ import annotations

import html
from datetime import date, timedelta

import duckdb

from ingestion.contracts import load_contracts

TREND_DAYS = 30
METRICS = [  # key, label, format of a value
    ("rows_read", "rows read", "{:,.0f}"),
    ("quarantine_share", "quarantined", "{:.1%}"),
    ("redeliveries", "re-deliveries", "{:,.0f}"),
    ("lag_days", "lag (days)", "{:,.0f}"),
]
WIDTH, HEIGHT, PAD = 180, 40, 3


def _raw_exists(con, feed: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' "
                       "AND table_name = ?", [feed]).fetchone()[0] > 0


def trend(con: duckdb.DuckDBPyConnection, feed: str, last: date) -> list[dict]:
    """One dict per landing day of the window (days with no load included, as gaps)."""
    first = last - timedelta(days=TREND_DAYS - 1)
    figures = {d: {"rows_read": r, "quarantine_share": q, "redeliveries": x} for d, r, q, x in con.execute(
        """SELECT load_date, sum(rows_read), sum(rows_quarantined) / nullif(sum(rows_read), 0),
                  sum(redeliveries_removed)
           FROM audit.load_reconciliation WHERE feed = ? AND load_date BETWEEN ? AND ? GROUP BY 1""",
        [feed, first, last]).fetchall()}
    event_time = load_contracts()[feed].event_time
    if event_time and _raw_exists(con, feed):
        for day, lag in con.execute(
                f'SELECT _load_date, date_diff(\'day\', max(try_cast(trim("{event_time}") AS TIMESTAMP))::DATE, _load_date) '
                f"FROM raw.{feed} WHERE _load_date BETWEEN ? AND ? GROUP BY 1", [first, last]).fetchall():
            figures.setdefault(day, {})["lag_days"] = lag
    return [{"day": first + timedelta(days=n), **figures.get(first + timedelta(days=n), {})}
            for n in range(TREND_DAYS)]


def sparkline(values: list[float | None], label: str, template: str) -> str:
    """An SVG polyline over the days (a gap where a day has no value), its latest value as text."""
    known = [v for v in values if v is not None]
    if not known:
        return f"<svg class='spark' width='{WIDTH}' height='{HEIGHT}' role='img' aria-label='{label}: no data'>" \
               f"<text x='4' y='{HEIGHT - 14}' font-size='11' fill='#888'>no data</text></svg>"
    low, high = min(known), max(known)
    span = (high - low) or 1
    step = (WIDTH - 2 * PAD - 60) / max(len(values) - 1, 1)
    segments, current = [], []
    for n, value in enumerate(values):
        if value is None:
            segments, current = segments + ([current] if current else []), []
            continue
        y = HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD)
        current.append(f"{PAD + n * step:.1f},{y:.1f}")
    segments += [current] if current else []
    lines = "".join(f"<polyline fill='none' stroke='#2b6cb0' stroke-width='1.5' points='{' '.join(points)}'/>"
                    if len(points) > 1 else
                    f"<circle r='1.8' fill='#2b6cb0' cx='{points[0].split(',')[0]}' cy='{points[0].split(',')[1]}'/>"
                    for points in segments)
    latest = template.format(known[-1])
    title = html.escape(f"{label}: {template.format(low)} to {template.format(high)}, latest {latest}")
    return (f"<svg class='spark' width='{WIDTH}' height='{HEIGHT}' role='img' aria-label='{title}'><title>{title}"
            f"</title>{lines}<text x='{WIDTH - 56}' y='{HEIGHT / 2 + 4:.0f}' font-size='11'>{html.escape(latest)}"
            "</text></svg>")


def trend_section(con: duckdb.DuckDBPyConnection, feeds: list[str], last: date) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in METRICS)
    body = ""
    for feed in feeds:
        days = trend(con, feed, last)
        cells = "".join(f"<td>{sparkline([d.get(key) for d in days], label, template)}</td>"
                        for key, label, template in METRICS)
        body += f"<tr><td>{html.escape(feed)}</td>{cells}</tr>"
    first = last - timedelta(days=TREND_DAYS - 1)
    return (f"<h2>Trend, landing days {first} .. {last}</h2><p>Per feed and landing day; a gap is a day with "
            f"nothing loaded. Lag: days between the landing day and its newest event.</p>"
            f"<table><tr><th>feed</th>{head}</tr>{body}</table>")
