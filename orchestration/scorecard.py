"""The headline numbers `make demo` prints, read from the warehouse (read-only)."""

from __future__ import annotations

from pathlib import Path

from ingestion.warehouse import connect


def scorecard_lines(warehouse: Path) -> list[str]:
    con = connect(warehouse, read_only=True)
    try:
        customers = con.execute("SELECT count(*) FROM core.dim_customers").fetchall()[0][0]
        buyers = con.execute("SELECT count(*) FROM core.dim_customers WHERE purchase_occasions > 0").fetchall()[0][0]
        purchases, identified, revenue, identified_revenue = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_identified), sum(net_revenue), "
            "sum(net_revenue) FILTER (WHERE is_identified) FROM core.fct_orders WHERE is_purchase").fetchall()[0]
        one_time = con.execute(
            "SELECT count(*) FILTER (WHERE frequency = 1) / count(*) FROM rfm.customer_rfm").fetchall()[0][0]
        segments = con.execute(
            "SELECT segment, count(*), sum(monetary_total) FROM rfm.customer_rfm GROUP BY 1 ORDER BY 2 DESC").fetchall()
        quarantined = con.execute(
            "SELECT feed, sum(rows_read), sum(rows_quarantined), sum(redeliveries_removed) "
            "FROM audit.load_reconciliation GROUP BY feed ORDER BY feed").fetchall()
    finally:
        con.close()
    lines = [
        "Headline results",
        f"  customers (single view)      {customers:>12,}",
        f"  purchasing customers         {buyers:>12,}",
        f"  purchases                    {purchases:>12,}",
        f"  revenue                      {float(revenue or 0):>12,.2f}",
        f"  capture rate (purchases)     {identified / purchases:>12.1%}" if purchases else "  capture rate: no purchases",
        f"  capture rate (revenue)       {float(identified_revenue or 0) / float(revenue):>12.1%}" if revenue else "",
        f"  repeat rate                  {1 - one_time:>12.1%}" if one_time is not None else "",
        "Customers per RFM segment",
        *[f"  {segment:<28} {n:>12,}   revenue {float(total or 0):>12,.2f}" for segment, n, total in segments],
        "Rows per feed: read / quarantined / re-deliveries removed",
        *[f"  {feed:<28} {read:>10,} {q:>8,} {r:>8,}" for feed, read, q, r in quarantined],
    ]
    return [line for line in lines if line]
