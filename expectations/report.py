"""The data-quality report: one self-contained HTML page per ingestion run, read from the audit tables.

It answers, for the landing days of a run: did every row balance, which files had problems, which checks
failed, and what waits in quarantine (by rule, with example messages).
"""

from __future__ import annotations

import html
from datetime import date, datetime
from pathlib import Path

import duckdb

from expectations.trend import trend_section

STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;font-size:.9rem}th{background:#f3f3f3}
.bad{background:#fde2e2}.warn{background:#fff4d6}.ok{background:#e6f6e6}td.n{text-align:right}svg.spark{display:block}"""


def _table(con, sql: str, params: list) -> tuple[list[str], list[tuple]]:
    cursor = con.execute(sql, params)
    return [d[0] for d in cursor.description], cursor.fetchall()


def _html_table(columns: list[str], rows: list[tuple], row_class=lambda row: "") -> str:
    if not rows:
        return "<p>none</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        f"<tr class='{row_class(row)}'>" + "".join(
            f"<td class='n'>{v:,}</td>" if isinstance(v, int) and not isinstance(v, bool)
            else f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _exists(con, schema: str, table: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def render_report(con: duckdb.DuckDBPyConnection, first: date, last: date, feeds: list[str],
                  run_url: str | None = None) -> str:
    days = [first, last]
    run_link = f" by <a href='{html.escape(run_url)}'>this run</a>" if run_url else ""
    sections = [f"<h1>Data quality: landing days {first} .. {last}</h1>",
                f"<p>Generated {datetime.now():%Y-%m-%d %H:%M:%S}{run_link}. Rows read = rows passed + rows quarantined + rows suppressed "
                "(they carry an identifier an erasure removed: counted, never shown); "
                "re-deliveries are passed rows whose natural key was already seen, removed in staging.</p>"]
    columns, rows = _table(con, """
        SELECT feed, sum(files_loaded)::BIGINT AS files_loaded, sum(files_skipped_duplicate)::BIGINT AS files_duplicate,
               sum(files_failed)::BIGINT AS files_failed, sum(rows_read)::BIGINT AS rows_read,
               sum(rows_passed)::BIGINT AS rows_passed, sum(rows_quarantined)::BIGINT AS rows_quarantined,
               coalesce(sum(rows_suppressed), 0)::BIGINT AS rows_suppressed,
               sum(redeliveries_removed)::BIGINT AS redeliveries_removed,
               sum(rows_quarantined) / nullif(sum(rows_read), 0) AS quarantine_share, bool_and(balanced) AS balanced
        FROM audit.load_reconciliation WHERE load_date BETWEEN ? AND ? GROUP BY feed ORDER BY feed""", days)
    rows = [(*r[:-2], _share(r[-2]), "yes" if r[-1] else "NO") for r in rows]
    sections += ["<h2>Reconciliation</h2>", _html_table(columns, rows, lambda r: "ok" if r[-1] == "yes" else "bad")]
    sections.append(trend_section(con, feeds, last))

    columns, rows = _table(con, """
        SELECT feed, load_date, file_path, status, rows_read, rows_rejected, message FROM audit.load_manifest
        WHERE load_date BETWEEN ? AND ? AND (status <> 'loaded' OR message IS NOT NULL)
        ORDER BY feed, load_date, file_path""", days)
    sections += ["<h2>File problems</h2>",
                 _html_table(columns, rows, lambda r: "bad" if r[3] in ("failed", "empty") else "warn")]

    if _exists(con, "audit", "check_results"):
        columns, rows = _table(con, """
            SELECT feed, rule, severity,
                   CASE WHEN passed IS NULL THEN 'not judged' WHEN passed THEN 'passed' ELSE 'failed' END AS result,
                   observed, first_day, last_day, run_id FROM audit.check_results
            WHERE first_day <= ? AND last_day >= ?
            QUALIFY rank() OVER (PARTITION BY feed ORDER BY checked_at DESC) = 1
            ORDER BY passed NULLS LAST, severity, feed, rule""", [last, first])
        sections += ["<h2>Batch and daily checks</h2>",
                     _html_table(columns, rows, lambda r: {"passed": "ok", "not judged": ""}.get(
                         r[3], "bad" if r[2] == "error" else "warn"))]

    quarantine = [f"SELECT feed, rule, column_name, outcome, message FROM quarantine.{feed} "
                  f"WHERE _load_date BETWEEN ? AND ?"
                  for feed in feeds if _exists(con, "quarantine", feed)]
    if quarantine:
        columns, rows = _table(con, f"""
            SELECT feed, rule, column_name, replace(outcome, '_', ' ') AS outcome, count(*) AS rows,
                   string_agg(message, ' | ') FILTER (WHERE n <= 3) AS examples
            FROM (SELECT *, row_number() OVER (PARTITION BY feed, rule ORDER BY message) AS n
                  FROM ({' UNION ALL '.join(quarantine)}))
            GROUP BY ALL ORDER BY feed, rows DESC""", days * len(quarantine))
        sections += ["<h2>Quarantine by rule</h2>", _html_table(columns, rows)]
    return f"<!doctype html><html><head><meta charset='utf-8'><title>Data quality {first} .. {last}</title>" \
           f"<style>{STYLE}</style></head><body>{''.join(sections)}</body></html>"


def write_report(con: duckdb.DuckDBPyConnection, first: date, last: date, feeds: list[str], reports_dir: Path,
                 run_url: str | None = None) -> Path:
    """Write quality_<first>_<last>.html and refresh latest.html beside it; return the run's page."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    page = render_report(con, first, last, feeds, run_url)
    path = reports_dir / f"quality_{first}_{last}.html"
    path.write_text(page, encoding="utf-8")
    (reports_dir / "latest.html").write_text(page, encoding="utf-8")
    return path
