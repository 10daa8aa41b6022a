"""The dashboard as CRM people see it: each page in headless Chromium, served by `python -m dashboard` from the
published BI database of the session's pipeline. Per page: no console errors, every chart drawn, a figure that a
mart holds shown as text, no personal value anywhere, and a screenshot in test-artifacts/."""

import csv
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from browser import view
from conftest import REPO, query
from dashboard.formats import figure

CHART = '[data-testid="stVegaLiteChart"]'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def dashboard(pipeline, tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "streamlit.log"
    with log.open("w") as output:
        server = subprocess.Popen([sys.executable, "-m", "dashboard", "--port", str(port)], cwd=REPO,
                                  stdout=output, stderr=subprocess.STDOUT, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _drawn(path: str, title: str, charts: int, last: str = "body"):
    """Go to the page as a person does, by its link in the sidebar (loading /<page> directly makes Streamlit's
    front end probe /<page>/_stcore/... first: two 404s in the console); wait until its title shows, its script
    has finished, `charts` Vega charts have drawn their marks and the `last` element is there."""
    def ready(page):
        if path:
            page.click(f'[data-testid="stSidebarNav"] a[href$="/{path}"]')
        page.wait_for_function(
            """([title, n, last]) => [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === title) &&
                   document.querySelector('[data-testid="stApp"]').dataset.testScriptState === 'notRunning' &&
                   [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].filter(c =>
                       [...c.querySelectorAll('canvas')].some(x => x.width > 0) ||
                       c.querySelector('svg .mark-rect path, svg .mark-line path, svg .mark-symbol path') !== null
                   ).length >= n && document.querySelector(last) !== null""",
            arg=[title, charts, last], timeout=60_000)
    return ready


def _personal_values(settings) -> list[str]:
    """Emails and surnames as the CRM feed delivered them: none may show on a page."""
    values = []
    for path in sorted((settings.landing_dir / "crm_contacts").rglob("*.csv"))[:3]:
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                values += [v for v in (row.get("email"), row.get("last_name")) if v and len(v) > 4]
    return values


def _open(dashboard, path: str, title: str, charts: int, settings, last: str = "body"):
    name = title.lower().replace(" ", "_")
    seen = view(dashboard, f"dashboard_{name}.png", chart_selector=f"{CHART} canvas, {CHART} svg",
                ready=_drawn(path, title, charts, last), height=2600)
    assert seen.charts >= charts
    assert seen.errors == []
    assert "Traceback" not in seen.text  # Streamlit shows a script's exception on the page
    leaked = [value for value in _personal_values(settings) if value in seen.text]
    assert leaked == []
    assert seen.screenshot.stat().st_size > 20_000
    return seen


def test_scorecard_shows_the_latest_months_revenue(dashboard, pipeline):
    bi = pipeline.settings.bi_database
    (month, revenue, active), = query(bi, "SELECT month, revenue, active_customers FROM kpi.kpi_scorecard "
                                          "ORDER BY month DESC LIMIT 1")
    seen = _open(dashboard, "", "Scorecard", 7, pipeline.settings)
    assert month.strftime("%B %Y") in seen.text
    assert figure(float(revenue), "money") in seen.text and figure(active, "count") in seen.text
    assert "part of the month only" in seen.text or "no whole month before" in seen.text  # a one-month history


def test_rfm_page_draws_the_grid_migration_and_clv(dashboard, pipeline):
    bi = pipeline.settings.bi_database
    segments = query(bi, "SELECT segment, customers, avg_predicted_clv_12m FROM rfm.rfm_segment_summary")
    seen = _open(dashboard, "rfm", "RFM", 4, pipeline.settings, last='[data-testid="stTable"] td')
    assert query(bi, "SELECT count(*), sum(customers) FROM rfm.rfm_grid") == [(25, sum(n for _, n, _ in segments))]
    words = " ".join(seen.text.split())
    for segment, customers, clv in segments:  # the CLV table: segment, customers, share, revenue, CLV, ...
        assert re.search(rf"{re.escape(segment)} {customers:,} \S+ \S+ {clv:,.2f} ", words), segment


def test_retention_page_draws_the_cohorts_and_rates(dashboard, pipeline):
    (rate, customers), = query(pipeline.settings.bi_database, "SELECT one_time_purchase_rate, customers_to_date "
                                                              "FROM kpi.kpi_customers_monthly ORDER BY month DESC LIMIT 1")
    seen = _open(dashboard, "retention", "Retention", 3, pipeline.settings)
    assert f"one-time purchase rate {rate:.1%} of {customers:,} customers to date" in seen.text


def test_campaigns_page_shows_the_latest_campaign(dashboard, pipeline):
    (name, revenue), = query(pipeline.settings.bi_database, "SELECT campaign_name, attributed_revenue FROM "
                                                            "kpi.kpi_campaign_performance ORDER BY start_date DESC, "
                                                            "campaign_id DESC LIMIT 1")
    seen = _open(dashboard, "campaigns", "Campaigns", 2, pipeline.settings)
    assert name in seen.text and figure(float(revenue), "money") in seen.text


def test_service_page_shows_resolution_times_and_nps(dashboard, pipeline):
    (median, nps), = query(pipeline.settings.bi_database, "SELECT complaint_hours_to_resolution_median, nps "
                                                          "FROM kpi.kpi_service ORDER BY month DESC LIMIT 1")
    seen = _open(dashboard, "service", "Service", 5, pipeline.settings)
    assert f"{median:,.1f} h" in seen.text and f"{nps:+.1f}" in seen.text


def test_data_health_page_reconciles_and_counts_customers(dashboard, pipeline):
    customers = query(pipeline.settings.warehouse_path,
                      "SELECT count(DISTINCT customer_id) FROM identity.customer_crosswalk")[0][0]
    seen = _open(dashboard, "data-health", "Data health", 1, pipeline.settings)
    assert f"{customers:,}" in seen.text  # meta.identity_runs' last run, as the warehouse has it
    assert "Rows read = passed + quarantined + suppressed on every landing day of every feed." in seen.text
