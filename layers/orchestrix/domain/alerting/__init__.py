"""Alerting: rules evaluated with Prometheus semantics, alerts from every source, silences."""
