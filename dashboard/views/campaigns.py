"""Campaigns: sends, responses, response rate, attributed revenue, cost per response (and lift against the
holdout, once campaigns target audiences)."""

import streamlit as st

from dashboard import charts, data
from dashboard.formats import figure

st.title("Campaigns")
campaigns = data.table("kpi.kpi_campaign_performance", order_by="start_date, campaign_id")
if campaigns.empty:
    st.info("No campaigns published yet.")
    st.stop()
latest = campaigns.iloc[-1]
st.subheader(f"Latest: {latest['campaign_name']} ({latest['channel']}, from {latest['start_date']:%Y-%m-%d})")
tiles = st.columns(5)
tiles[0].metric("Sends", figure(latest["sends"], "count"))
tiles[1].metric("Responses", figure(latest["responses"], "count"))
tiles[2].metric("Response rate", figure(latest["response_rate"], "share"))
tiles[3].metric("Attributed revenue", figure(float(latest["attributed_revenue"]), "money"))
tiles[4].metric("Cost per response", figure(latest["cost_per_response"], "money"))
left, right = st.columns(2)
left.altair_chart(charts.bars(campaigns, "campaign_name", "response_rate", y_format=".0%", sort=None,
                              title="Response rate"), use_container_width=True)
right.altair_chart(charts.bars(campaigns, "campaign_name", "attributed_revenue", sort=None,
                               title="Attributed revenue"), use_container_width=True)
columns = ["campaign_id", "campaign_name", "channel", "start_date", "sends", "responses", "response_rate",
           "attributed_revenue", "cost", "cost_per_response", "new_customers_acquired"]
lift = [c for c in campaigns.columns if c.startswith("lift_")]
st.dataframe(campaigns[columns + lift], hide_index=True, use_container_width=True)
if not lift:
    st.caption("Lift against a holdout group appears here once campaigns target audiences with a control group.")
