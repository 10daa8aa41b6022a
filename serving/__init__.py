"""Serving: publish the marts as databases BI tools can hold open while the pipeline writes its own, with personal
data pseudonymised for BI and kept whole only in the owner-only restricted copy (and optionally PostgreSQL)."""
