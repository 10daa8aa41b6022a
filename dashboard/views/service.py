"""Service: cases, complaint resolution time (median, p90), first-contact resolution, CSAT and NPS by month."""

import streamlit as st

from dashboard import charts, data
from dashboard.formats import figure

st.title("Service")
service = data.table("kpi.kpi_service", order_by="month")
latest = service.iloc[-1]
tiles = st.columns(5)
tiles[0].metric("Cases", figure(latest["cases"], "count"))
tiles[1].metric("Complaint resolution, median", figure(latest["complaint_hours_to_resolution_median"], "hours"))
tiles[2].metric("First-contact resolution", figure(latest["first_contact_resolution_rate"], "share"))
tiles[3].metric("CSAT", figure(latest["csat"], "rating"))
tiles[4].metric("NPS", figure(latest["nps"], "score"))
st.caption(f"Latest month: {latest['month']:%B %Y}")

volumes = service.melt(id_vars="month", value_vars=["cases", "complaints"], var_name="count")
hours = service.melt(id_vars="month", value_vars=["complaint_hours_to_resolution_median",
                                                  "complaint_hours_to_resolution_p90"], var_name="statistic")
left, right = st.columns(2)
left.altair_chart(charts.lines(volumes, "month", "value", colour="count", title="Cases and complaints"),
                  use_container_width=True)
right.altair_chart(charts.lines(hours, "month", "value", colour="statistic", y_format=",.0f",
                                title="Hours to resolve a complaint"), use_container_width=True)
left, right = st.columns(2)
left.altair_chart(charts.lines(service, "month", "first_contact_resolution_rate", y_format=".0%",
                               title="First-contact resolution"), use_container_width=True)
right.altair_chart(charts.lines(service, "month", "csat", y_format=".1f", title="CSAT"), use_container_width=True)
st.altair_chart(charts.lines(service, "month", "nps", y_format=".0f", title="NPS"), use_container_width=True)
