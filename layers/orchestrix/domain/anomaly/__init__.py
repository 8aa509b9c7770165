"""Anomaly detection: per-series models updated one sample at a time (stdlib only)."""
