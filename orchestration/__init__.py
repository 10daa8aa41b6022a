"""Dagster definitions for the customer single view pipeline."""
