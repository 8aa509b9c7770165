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

from bisect import bisect_right
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
    out: dict[Labels, float],
    family: str,
    pairs: tuple[tuple[str, str], ...],
    durations_s: list[float],
) -> None:
    out[_labels(f"{family}_count", pairs)] += len(durations_s)
    out[_labels(f"{family}_sum", pairs)] += sum(durations_s)
    durations_s.sort()
    for le, bound in zip(_LE, (*LATENCY_BUCKETS_S, float("inf")), strict=True):
        # Every bucket series exists from the first observation on, as a client library's
        # histogram does, so histogram_quantile sees the full set of buckets.
        out[_labels(f"{family}_bucket", (*pairs, ("le", le)))] += bisect_right(durations_s, bound)


def increments(spans: Iterable[Span], calls: Iterable[ServiceCall]) -> dict[Labels, float]:
    """What one batch of newly stored spans and newly paired calls adds to each counter."""
    out: dict[Labels, float] = defaultdict(float)
    # Grouped first: label sets are built per group, not per span.
    groups: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    for span in spans:
        key = (span.service, span.name, span.kind.otlp_name, span.status_code.otlp_name)
        groups[key].append(span.duration_ns / 1e9)
    for (service, name, kind, status), durations in groups.items():
        pairs = (
            ("service", service),
            ("span_name", name),
            ("span_kind", kind),
            ("status_code", status),
        )
        out[_labels(CALLS, pairs)] += len(durations)
        _observe(out, LATENCY, pairs, durations)
    edges: dict[tuple[str, str], list[ServiceCall]] = defaultdict(list)
    for call in calls:
        edges[(call.client, call.server)].append(call)
    for (client, server), found in edges.items():
        ends = (("client", client), ("server", server))
        out[_labels(GRAPH_REQUESTS, ends)] += len(found)
        out[_labels(GRAPH_FAILED, ends)] += sum(1 for c in found if c.failed)
        _observe(out, GRAPH_SERVER_SECONDS, ends, [c.server_duration_ns / 1e9 for c in found])
        _observe(out, GRAPH_CLIENT_SECONDS, ends, [c.client_duration_ns / 1e9 for c in found])
    return dict(out)
