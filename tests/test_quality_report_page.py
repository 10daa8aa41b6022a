"""The quality report as a person reads it, in headless Chromium: no console errors, a trend chart per feed and
figure, shares as percentages, a link to the run, and a screenshot kept in test-artifacts/."""

from conftest import LAST_DAY, query
from browser import view
from ingestion.contracts import load_contracts
from expectations.trend import METRICS


def test_the_report_reads_as_a_page_with_its_trend_charts(pipeline):
    page_path = pipeline.settings.reports_dir / f"quality_{LAST_DAY}_{LAST_DAY}.html"
    seen = view(page_path.as_uri(), "quality_report.png", chart_selector="svg.spark")
    assert seen.errors == []
    feeds = len(load_contracts())
    # rows read, re-deliveries and lag have a value on most of the month's days for every feed
    assert seen.charts >= feeds * 2 and seen.text.count("no data") < feeds * len(METRICS) // 2
    (read, quarantined), = query(pipeline.settings.warehouse_path, "SELECT rows_read, rows_quarantined FROM "
                                 "audit.load_reconciliation WHERE load_date = ? ORDER BY rows_quarantined DESC, feed "
                                 "LIMIT 1", [LAST_DAY])
    assert f"{quarantined / read:.2%}" in seen.text  # the share, formatted, as the reconciliation has it
    assert any("/runs/" in link for link in seen.links)
    assert seen.screenshot.stat().st_size > 10_000
