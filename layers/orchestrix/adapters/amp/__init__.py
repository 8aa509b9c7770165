"""Amazon Managed Service for Prometheus: the metric store of stages that outgrow Aurora."""
