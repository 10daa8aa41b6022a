"""Scorecard: the seven headline metrics of a month, against the month before and the same month a year before
(kpi.kpi_scorecard_changes)."""

import streamlit as st

from dashboard import charts, data
from dashboard.formats import SCORECARD, change, figure

st.title("Scorecard")
changes = data.table("kpi.kpi_scorecard_changes", order_by="month, metric_order")
if changes.empty:
    st.info("No purchases published yet.")
    st.stop()
months = sorted(changes["month"].dt.date.unique(), reverse=True)
month = st.selectbox("Month", months, format_func=lambda m: m.strftime("%B %Y"))
chosen = changes[changes["month"].dt.date == month].set_index("metric")

tiles = [*st.columns(4), *st.columns(4)[:3]]
for tile, (metric, (label, kind)) in zip(tiles, SCORECARD.items()):
    row = chosen.loc[metric]
    with tile:
        st.metric(label, figure(row["value"], kind), delta=change(row["change_vs_previous_month"], kind),
                  help="Change against the month before")
        last_year = change(row["change_vs_last_year"], kind)
        st.caption(f"vs a year before: {last_year}" if last_year else "vs a year before: –")
note = chosen["history_note"].iloc[0]
if note:
    st.warning(f"{month:%B %Y}: {note} — the changes that need it are not shown.")

st.subheader("By month")
places = [column for _ in range(3) for column in st.columns(3)]
for place, (metric, (label, kind)) in zip(places, SCORECARD.items()):
    series = changes[changes["metric"] == metric]
    axis = {"count": ",.0f", "money": ",.0f", "share": ".0%", "score": ".0f"}[kind]
    place.altair_chart(charts.lines(series, "month", "value", y_format=axis, title=label), use_container_width=True)

st.subheader("Every month")
table = changes.assign(metric=changes["metric"].map(lambda m: SCORECARD[m][0]),
                       month=changes["month"].dt.strftime("%Y-%m"))
st.dataframe(table[["month", "metric", "value", "change_vs_previous_month", "relative_change_vs_previous_month",
                    "change_vs_last_year", "relative_change_vs_last_year", "history_note"]],
             hide_index=True, use_container_width=True)
