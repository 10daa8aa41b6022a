"""The CRM dashboard: a Streamlit app over the published BI database only (never the build database), so it
shows pseudonymised marts and never holds the pipeline's file."""
