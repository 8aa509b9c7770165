"""RED metrics derived from spans, named and labelled as Tempo's metrics-generator does.

`traces_spanmetrics_calls_total` and `traces_spanmetrics_latency_{bucket,count,sum}` per
(service, span_name, span_kind, status_code); `traces_service_graph_request_total`,
`traces_service_graph_request_failed_total` and
`traces_service_graph_request_{server,client}_seconds_{bucket,count,sum}` per
(client, server). Dashboards and alert rules written for Tempo work unchanged.

Every series is a counter: a batch yields increments, which the store adds to running
totals before they become samples.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from orchestrix.domain.traces import ServiceCall, Span

Labels = tuple[tuple[str, str], ...]  # sorted by name, "__name__" included

# Tempo's default histogram buckets, in seconds.
LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256,
    0.512, 1.024, 2.048, 4.096, 8.192, 16.384,
)  # fmt: skip
_LE = (*(repr(b) for b in LATENCY_BUCKETS_S), "+Inf")

CALLS = "traces_spanmetrics_calls_total"
LATENCY = "traces_spanmetrics_latency"
GRAPH_REQUESTS = "traces_service_graph_request_total"
GRAPH_FAILED = "traces_service_graph_request_failed_total"
GRAPH_SERVER_SECONDS = "traces_service_graph_request_server_seconds"
GRAPH_CLIENT_SECONDS = "traces_service_graph_request_client_seconds"


def _labels(name: str, pairs: Iterable[tuple[str, str]]) -> Labels:
    return tuple(sorted((("__name__", name), *pairs)))


def _observe(
    out: dict[Labels, float], family: str, pairs: tuple[tuple[str, str], ...], seconds: float
) -> None:
    out[_labels(f"{family}_count", pairs)] += 1
    out[_labels(f"{family}_sum", pairs)] += seconds
    for le, bound in zip(_LE, (*LATENCY_BUCKETS_S, float("inf")), strict=True):
        key = _labels(f"{family}_bucket", (*pairs, ("le", le)))
        # Every bucket series exists from the first observation on, as a client library's
        # histogram does, so histogram_quantile sees the full set of buckets.
        out[key] += 1 if seconds <= bound else 0


def increments(spans: Iterable[Span], calls: Iterable[ServiceCall]) -> dict[Labels, float]:
    """What one batch of newly stored spans and newly paired calls adds to each counter."""
    out: dict[Labels, float] = defaultdict(float)
    for span in spans:
        pairs = (
            ("service", span.service),
            ("span_name", span.name),
            ("span_kind", span.kind.otlp_name),
            ("status_code", span.status_code.otlp_name),
        )
        out[_labels(CALLS, pairs)] += 1
        _observe(out, LATENCY, pairs, span.duration_ns / 1e9)
    for call in calls:
        ends = (("client", call.client), ("server", call.server))
        out[_labels(GRAPH_REQUESTS, ends)] += 1
        out[_labels(GRAPH_FAILED, ends)] += 1 if call.failed else 0
        _observe(out, GRAPH_SERVER_SECONDS, ends, call.server_duration_ns / 1e9)
        _observe(out, GRAPH_CLIENT_SECONDS, ends, call.client_duration_ns / 1e9)
    return dict(out)
