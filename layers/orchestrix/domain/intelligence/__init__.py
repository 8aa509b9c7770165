"""Correlation, root cause and incident analysis: pure rules over alerts, changes and the
service graph (no I/O; the services feed them what the stores hold)."""
