"""The dashboard's entry point: `python -m dashboard` (or `make dashboard`) serves it with Streamlit."""

from pathlib import Path

import streamlit as st

from dashboard import data

VIEWS = Path(__file__).parent / "views"

st.set_page_config(page_title="CRM dashboard", layout="wide")
pages = st.navigation([
    st.Page(VIEWS / "scorecard.py", title="Scorecard", url_path="scorecard", default=True),
    st.Page(VIEWS / "rfm.py", title="RFM", url_path="rfm"),
    st.Page(VIEWS / "retention.py", title="Retention", url_path="retention"),
    st.Page(VIEWS / "campaigns.py", title="Campaigns", url_path="campaigns"),
    st.Page(VIEWS / "service.py", title="Service", url_path="service"),
    st.Page(VIEWS / "data_health.py", title="Data health", url_path="data-health"),
])
try:
    publication = data.generation()
except data.NotPublished as missing:
    st.error(str(missing))
    st.stop()
st.sidebar.caption(f"Published {publication['published_at']:%Y-%m-%d %H:%M} · generation "
                   f"{publication['generation_id']} · models {publication['models_version']}")
st.sidebar.caption(f"Reads {data.bi_database()} (pseudonymised BI database)")
pages.run()
