"""Data health: freshness per feed, the quarantine share over time, the reconciliation, identity resolution."""

import streamlit as st

from dashboard import charts, data
from dashboard.formats import figure

st.title("Data health")
feeds = data.table("meta.feeds", order_by="feed")
stale = feeds[~feeds["is_fresh"].fillna(False)]
if stale.empty:
    st.success("Every feed delivered within its contract's allowance.")
else:
    st.error("Late: " + ", ".join(stale["feed"]))
st.subheader("Freshness and reconciliation")
st.dataframe(feeds[["feed", "last_landing_day", "last_loaded_at", "days_behind_newest_feed",
                    "max_days_without_delivery", "is_fresh", "files_loaded", "rows_read", "rows_passed",
                    "rows_quarantined", "rows_suppressed", "redeliveries_removed", "balanced"]],
             hide_index=True, use_container_width=True,
             column_config={"last_landing_day": st.column_config.DateColumn(format="YYYY-MM-DD"),
                            "last_loaded_at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
unbalanced = feeds[~feeds["balanced"].fillna(False)]
st.caption("Rows read = passed + quarantined + suppressed on every landing day of every feed." if unbalanced.empty
           else "Out of balance: " + ", ".join(unbalanced["feed"]))

days = data.table("meta.feed_days", order_by="landing_day, feed")
st.altair_chart(charts.lines(days, "landing_day", "quarantine_share", colour="feed", y_format=".1%",
                             title="Share of rows quarantined, per landing day", x_format=charts.DAYS),
                use_container_width=True)

st.subheader("Identity resolution")
runs = data.table("meta.identity_runs", order_by="resolved_at")
if runs.empty:
    st.info("No identity resolution has run yet.")
else:
    last = runs.iloc[-1]
    tiles = st.columns(5)
    tiles[0].metric("Customers", figure(last["customers"], "count"))  # "–" for a run from before the column
    tiles[1].metric("Records", figure(last["records"], "count"))
    tiles[2].metric("Merges (last run)", figure(last["merges"], "count"))
    tiles[3].metric("Splits (last run)", figure(last["splits"], "count"))
    tiles[4].metric("New customers (last run)", figure(last["new_customers"], "count"))
    st.caption(f"Last run {last['resolved_at']:%Y-%m-%d %H:%M}, {last['mode']}: {last['records_scored']:,} records "
               "scored. Match quality (pairwise precision, recall, F1) is measured against labelled records by "
               "`python -m identity evaluate` and in `make bench`.")
    st.dataframe(runs, hide_index=True, use_container_width=True)
