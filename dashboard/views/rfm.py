"""RFM: the recency x frequency grid, segment migration month over month, CLV by segment."""

import streamlit as st

from dashboard import charts, data

st.title("RFM")
grid = data.table("rfm.rfm_grid")
grid = grid.assign(cell=grid["segment"] + "\n" + grid["customers"].map("{:,}".format))
axes = dict(x_title="frequency score (F)", y_title="recency score (R)", cell_height=64)
left, right = st.columns(2)
left.altair_chart(charts.heatmap(grid, "f_score", "r_score", "customers", label="cell", title="Customers", **axes),
                  use_container_width=True)
right.altair_chart(charts.heatmap(grid, "f_score", "r_score", "revenue", value_format=",.0f", title="Revenue",
                                  **axes), use_container_width=True)

st.subheader("Segment migration")
migration = data.table("rfm.rfm_segment_migration", order_by="snapshot_date")
snapshots = sorted(migration["snapshot_date"].dt.date.unique(), reverse=True)
if len(snapshots):
    snapshot = st.selectbox("Snapshot", snapshots, format_func=lambda d: f"{d:%B %Y} (from the month before)")
    moves = migration[migration["snapshot_date"].dt.date == snapshot].fillna({"from_segment": "(new since)"})
    st.altair_chart(charts.heatmap(moves, "to_segment", "from_segment", "customers", x_type="N", y_type="N",
                                   x_sort=None, y_sort=None, x_title="segment now",
                                   y_title="segment the month before", title="Customers by move"),
                    use_container_width=True)

st.subheader("CLV by segment")
segments = data.table("rfm.rfm_segment_summary", order_by="avg_predicted_clv_12m DESC")
st.altair_chart(charts.bars(segments, "segment", "avg_predicted_clv_12m", y_format=",.0f",
                            title="Average predicted 12-month CLV"), use_container_width=True)
st.table(segments.set_index("segment")[["customers", "share_of_customers", "revenue", "avg_predicted_clv_12m",
                                          "avg_probability_alive"]].style.format(
    {"customers": "{:,}", "share_of_customers": "{:.1%}", "revenue": "{:,.2f}", "avg_predicted_clv_12m": "{:,.2f}",
     "avg_probability_alive": "{:.2f}"}))
