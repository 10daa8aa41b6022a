"""One module per concern: resources, ingestion, identity, dbt, quality checks, jobs and automation."""
