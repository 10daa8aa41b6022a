"""Keeping runs honest without a person watching: crashed runs are failed and release their slots; failures alert."""
