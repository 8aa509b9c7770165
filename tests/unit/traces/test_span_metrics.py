"""RED metrics from spans (Tempo's names and labels) and the depth-first trace tree."""

from __future__ import annotations

from orchestrix.domain import span_metrics
from orchestrix.domain.traces import ServiceCall, Span, SpanKind, StatusCode, tree_order


def _span(span_id: int, parent: int | None = None, *, ms: float = 10, error: bool = False) -> Span:
    return Span(
        trace_id=b"\x01" * 16,
        span_id=span_id.to_bytes(8, "big"),
        parent_span_id=None if parent is None else parent.to_bytes(8, "big"),
        name="GET /x",
        kind=SpanKind.SERVER,
        start_ns=span_id * 1000,
        duration_ns=int(ms * 1e6),
        service="api",
        status_code=StatusCode.ERROR if error else StatusCode.UNSET,
    )


def _value(found: dict[span_metrics.Labels, float], name: str, **labels: str) -> float:
    wanted = {"__name__": name, **labels}
    matches = [v for k, v in found.items() if all(dict(k).get(n) == x for n, x in wanted.items())]
    assert len(matches) == 1, matches
    return matches[0]


def test_calls_and_latency_histogram_per_service_operation_and_status() -> None:
    found = span_metrics.increments([_span(1, ms=3), _span(2, ms=3000), _span(3, error=True)], [])

    base = {"service": "api", "span_name": "GET /x", "span_kind": "SPAN_KIND_SERVER"}
    ok, err = (
        {**base, "status_code": "STATUS_CODE_UNSET"},
        {**base, "status_code": "STATUS_CODE_ERROR"},
    )
    assert _value(found, "traces_spanmetrics_calls_total", **ok) == 2
    assert _value(found, "traces_spanmetrics_calls_total", **err) == 1
    assert _value(found, "traces_spanmetrics_latency_bucket", **ok, le="0.004") == 1
    assert _value(found, "traces_spanmetrics_latency_bucket", **ok, le="0.002") == 0
    assert _value(found, "traces_spanmetrics_latency_bucket", **ok, le="4.096") == 2
    assert _value(found, "traces_spanmetrics_latency_bucket", **ok, le="+Inf") == 2
    assert _value(found, "traces_spanmetrics_latency_count", **ok) == 2
    assert _value(found, "traces_spanmetrics_latency_sum", **ok) == 3.003


def test_service_graph_counts_requests_failures_and_both_sides_latency() -> None:
    calls = [
        ServiceCall("web", "db", False, 2_000_000, 5_000_000),
        ServiceCall("web", "db", True, 1, 1),
    ]
    found = span_metrics.increments([], calls)
    ends = {"client": "web", "server": "db"}
    assert _value(found, "traces_service_graph_request_total", **ends) == 2
    assert _value(found, "traces_service_graph_request_failed_total", **ends) == 1
    assert (
        _value(found, "traces_service_graph_request_server_seconds_bucket", **ends, le="0.002") == 2
    )
    assert (
        _value(found, "traces_service_graph_request_client_seconds_bucket", **ends, le="0.004") == 1
    )


def test_tree_order_is_depth_first_with_orphans_and_loops_kept() -> None:
    spans = [_span(4, 2), _span(2, 1), _span(1), _span(3, 1), _span(9, 8), _span(6, 7), _span(7, 6)]
    order = [(int.from_bytes(s.span_id, "big"), depth) for s, depth in tree_order(spans)]
    assert order == [(1, 0), (2, 1), (4, 2), (3, 1), (9, 0), (6, 0), (7, 0)]
