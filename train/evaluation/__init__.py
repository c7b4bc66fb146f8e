"""Metrics, scoring of artifacts and models on the eval sets, and the reports they produce."""
