"""Activation: the audiences' member lists exported for marketing tools."""
