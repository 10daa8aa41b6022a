"""Retention: the cohort triangle, monthly retention and churn, the one-time purchase rate."""

import streamlit as st

from dashboard import charts, data

st.title("Retention")
cohorts = data.table("kpi.kpi_cohort_retention", order_by="cohort_month, months_since")
cohorts = cohorts.assign(cohort=cohorts["cohort_month"].dt.strftime("%Y-%m"))
st.altair_chart(charts.heatmap(cohorts, "months_since", "cohort", "retention_share", value_format=".0%",
                               y_sort="ascending", x_title="months since the first purchase",
                               y_title="first-purchase month",
                               title="Share of each first-purchase cohort active n months later"),
                use_container_width=True)

monthly = data.table("kpi.kpi_customers_monthly", order_by="month")
rates = monthly.melt(id_vars="month", value_vars=["retention_rate", "churn_rate"], var_name="rate")
left, right = st.columns(2)
left.altair_chart(charts.lines(rates, "month", "value", colour="rate", y_format=".0%",
                               title="Retention and churn by month"), use_container_width=True)
right.altair_chart(charts.lines(monthly, "month", "one_time_purchase_rate", y_format=".0%",
                                title="One-time purchase rate (customers to date)"), use_container_width=True)
latest = monthly.iloc[-1]
st.caption(f"{latest['month']:%B %Y}: one-time purchase rate {latest['one_time_purchase_rate']:.1%} of "
           f"{latest['customers_to_date']:,} customers to date.")
