"""Touchpoint ingestion: feed contracts, the loader, the load manifest and the demo data generator."""
