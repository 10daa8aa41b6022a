"""Consent and erasure: what the pipeline keeps about a person, and how it forgets them."""
