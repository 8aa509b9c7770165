"""Traces through the gateway: OTLP/HTTP in, trace queries, service map, RED metrics and the
Tempo API out — with tenant isolation on every route."""

from __future__ import annotations

import gzip
import json
import os
from typing import Any
from urllib.parse import urlencode

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from orchestrix import bootstrap
from tests.api.conftest import Client, token
from tests.api.test_metrics_api import ingest_key

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}
PROBLEM = "application/problem+json"


def now_ns() -> int:
    return int(bootstrap.clock().now().timestamp() * 1e6) * 1000


def span(
    trace: bytes,
    span_id: bytes,
    name: str,
    *,
    parent: bytes = b"",
    kind: int = 2,
    error: bool = False,
    start_ns: int | None = None,
    ms: float = 10,
) -> dict[str, Any]:
    start = now_ns() - 60_000_000_000 if start_ns is None else start_ns
    return {
        "traceId": trace.hex(),
        "spanId": span_id.hex(),
        "parentSpanId": parent.hex(),
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + int(ms * 1e6)),
        "attributes": [{"key": "http.route", "value": {"stringValue": "/" + name}}],
        "status": {"code": 2 if error else 0},
    }


def export(service: str, *spans: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeSpans": [{"scope": {"name": "test"}, "spans": list(spans)}],
            }
        ]
    }


def merged(*exports: dict[str, Any]) -> dict[str, Any]:
    return {"resourceSpans": [rs for e in exports for rs in e["resourceSpans"]]}


def as_protobuf(document: dict[str, Any]) -> bytes:
    request = ExportTraceServiceRequest()
    for rs_doc in document["resourceSpans"]:
        rs = request.resource_spans.add()
        for attr in rs_doc["resource"]["attributes"]:
            kv = rs.resource.attributes.add()
            kv.key, kv.value.string_value = attr["key"], attr["value"]["stringValue"]
        for ss_doc in rs_doc["scopeSpans"]:
            ss = rs.scope_spans.add()
            ss.scope.name = ss_doc["scope"]["name"]
            for doc in ss_doc["spans"]:
                sp = ss.spans.add()
                sp.trace_id = bytes.fromhex(doc["traceId"])
                sp.span_id = bytes.fromhex(doc["spanId"])
                sp.parent_span_id = bytes.fromhex(doc["parentSpanId"])
                sp.name, sp.kind = doc["name"], doc["kind"]
                sp.start_time_unix_nano = int(doc["startTimeUnixNano"])
                sp.end_time_unix_nano = int(doc["endTimeUnixNano"])
                sp.status.code = doc["status"]["code"]
                for attr in doc["attributes"]:
                    kv = sp.attributes.add()
                    kv.key, kv.value.string_value = attr["key"], attr["value"]["stringValue"]
    return request.SerializeToString()


def ids() -> tuple[bytes, bytes, bytes]:
    return os.urandom(16), os.urandom(8), os.urandom(8)


def send_json(api: Client, key: str, document: dict[str, Any], **headers: str):  # type: ignore[no-untyped-def]
    return api.post(
        "/v1/traces", key, raw=json.dumps(document).encode(), headers={**JSON, **headers}
    )


def send_protobuf(api: Client, key: str, document: dict[str, Any]):  # type: ignore[no-untyped-def]
    return api.post("/v1/traces", key, raw=as_protobuf(document), headers=PROTOBUF)


def test_protobuf_export_is_200_and_the_trace_comes_back_as_a_tree(api, tenants):
    a, b = tenants
    key = ingest_key(api, a, ("traces:write",))
    trace, root, child = ids()
    start = now_ns() - 30_000_000_000
    document = merged(
        export("frontend", span(trace, root, "GET /checkout", start_ns=start, ms=50)),
        export(
            "payments",
            span(trace, child, "charge", parent=root, kind=2, start_ns=start + 10**6, ms=20),
        ),
    )

    sent = send_protobuf(api, key, document)
    got = api.get(f"/api/v1/traces/{trace.hex()}", token(a, "viewer"))
    other = api.get(f"/api/v1/traces/{trace.hex()}", token(b, "admin"))

    assert sent.status == 200, sent.body
    assert sent.headers["content-type"] == "application/x-protobuf"
    assert got.status == 200, got.body
    body = got.json
    assert body["trace_id"] == trace.hex()
    assert body["services"] == ["frontend", "payments"]
    assert body["duration_ms"] == 50
    assert [(s["name"], s["depth"], s["parent_span_id"]) for s in body["spans"]] == [
        ("GET /checkout", 0, None),
        ("charge", 1, root.hex()),
    ]
    assert body["spans"][0]["attributes"] == [
        {"key": "http.route", "value": {"stringValue": "/GET /checkout"}}
    ]
    # another tenant's trace is indistinguishable from one that does not exist
    assert other.status == 404
    assert other.content_type == PROBLEM
    assert api.get(f"/api/v1/traces/{os.urandom(16).hex()}", token(a)).status == 404


def test_gzip_json_export_is_stored(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a, ("traces:write",))
    trace, root, _ = ids()
    body = gzip.compress(json.dumps(export("api", span(trace, root, "GET /"))).encode())

    sent = api.post("/v1/traces", key, raw=body, headers={**JSON, "Content-Encoding": "gzip"})

    assert sent.status == 200, sent.body
    assert sent.json == {}
    assert api.get(f"/api/v1/traces/{trace.hex()}", token(a)).json["span_count"] == 1


def test_a_bad_span_is_a_400_naming_it_and_nothing_of_the_request_is_stored(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a, ("traces:write",))
    trace, good, _ = ids()
    spans = [span(trace, os.urandom(8), f"s{i}") for i in range(4)]
    spans[3]["traceId"] = "abcd"  # 2 bytes, not 16
    document = export("api", span(trace, good, "ok"))
    document["resourceSpans"][0]["scopeSpans"].append({"scope": {"name": "x"}, "spans": spans})

    sent = send_json(api, key, document)
    as_proto = send_protobuf(api, key, document)

    for reply in (sent, as_proto):
        assert reply.status == 400, reply.body
        assert reply.content_type == PROBLEM
        assert reply.json["detail"].startswith("resourceSpans[0].scopeSpans[1].spans[3].traceId:")
        assert reply.json["errors"][0]["loc"] == [
            *("resourceSpans", 0, "scopeSpans", 1, "spans", 3, "traceId")
        ]
    assert api.get(f"/api/v1/traces/{trace.hex()}", token(a)).status == 404


def test_span_with_end_before_start_and_unknown_kind_are_named(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a, ("traces:write",))
    trace, sid, _ = ids()
    backwards = span(trace, sid, "x")
    backwards["endTimeUnixNano"] = str(int(backwards["startTimeUnixNano"]) - 1)
    weird = span(trace, sid, "y", kind=9)
    ancient = span(trace, sid, "z", start_ns=1_000_000_000)

    replies = [send_json(api, key, export("api", s)) for s in (backwards, weird, ancient)]

    assert [r.status for r in replies] == [400, 400, 400]
    assert [r.json["errors"][0]["loc"][-1] for r in replies] == [
        "endTimeUnixNano",
        "kind",
        "startTimeUnixNano",
    ]


def test_export_needs_the_traces_write_scope(api, tenants):
    a, _ = tenants
    metrics_only = ingest_key(api, a, ("metrics:write",))
    trace, sid, _ = ids()

    refused = send_json(api, metrics_only, export("api", span(trace, sid, "x")))
    as_user = send_json(api, token(a, "admin"), export("api", span(trace, sid, "x")))

    assert refused.status == 403
    assert as_user.status == 403
    assert "traces:write" in refused.json["detail"]


def test_unsupported_media_type_is_415(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a, ("traces:write",))
    reply = api.post("/v1/traces", key, raw=b"x", headers={"Content-Type": "text/plain"})
    assert reply.status == 415
    assert reply.content_type == PROBLEM


def _search(api: Client, tenant: str, **params: Any):  # type: ignore[no-untyped-def]
    return api.get(f"/api/v1/traces?{urlencode(params)}", token(tenant, "viewer"))


def test_search_filters_and_pages_and_sees_only_the_callers_tenant(api, tenants):
    a, b = tenants
    key = ingest_key(api, a, ("traces:write",))
    base = now_ns() - 120_000_000_000
    traces = [os.urandom(16) for _ in range(3)]
    spans = [
        span(traces[0], os.urandom(8), "GET /a", start_ns=base, ms=5),
        span(traces[1], os.urandom(8), "GET /a", start_ns=base + 10**9, ms=500, error=True),
        span(traces[2], os.urandom(8), "POST /b", start_ns=base + 2 * 10**9, ms=50),
    ]
    assert send_json(api, key, export("shop", *spans)).status == 200

    by_operation = _search(api, a, service="shop", operation="GET /a")
    slow = _search(api, a, service="shop", min_duration_ms=40)
    fast = _search(api, a, service="shop", max_duration_ms=40)
    errors = _search(api, a, service="shop", status="error")
    first = _search(api, a, service="shop", limit=2)
    second = _search(api, a, service="shop", limit=2, cursor=first.json["next_cursor"])
    elsewhere = _search(api, b, service="shop")

    def found(reply):  # type: ignore[no-untyped-def]
        assert reply.status == 200, reply.body
        return [item["trace_id"] for item in reply.json["items"]]

    hexes = [t.hex() for t in traces]
    assert found(by_operation) == [hexes[1], hexes[0]]
    assert found(slow) == [hexes[2], hexes[1]]
    assert found(fast) == [hexes[0]]
    assert found(errors) == [hexes[1]]
    assert errors.json["items"][0]["matched"][0]["status_code"] == "STATUS_CODE_ERROR"
    assert found(first) == [hexes[2], hexes[1]]
    assert found(second) == [hexes[0]]
    assert second.json["next_cursor"] is None
    assert found(elsewhere) == []


def test_search_refuses_a_bad_cursor_and_an_inverted_range(api, tenants):
    a, _ = tenants
    assert _search(api, a, cursor="!!").status == 422
    inverted = _search(api, a, start="2026-01-02T00:00:00Z", end="2026-01-01T00:00:00Z")
    assert inverted.status == 422
    assert inverted.json["errors"][0]["loc"] == ["query", "end"]


def _call(trace: bytes, client_service: str, server_service: str, error: bool = False):  # type: ignore[no-untyped-def]
    caller, callee = os.urandom(8), os.urandom(8)
    start = now_ns() - 60_000_000_000
    return (
        export(client_service, span(trace, caller, "call", kind=3, start_ns=start, ms=30)),
        export(
            server_service,
            span(trace, callee, "serve", parent=caller, kind=2, start_ns=start, ms=20, error=error),
        ),
    )


def _query(api: Client, tenant: str, promql: str) -> list[dict[str, Any]]:
    at = bootstrap.clock().now().timestamp()
    reply = api.get(
        f"/api/v1/metrics/query?{urlencode({'query': promql, 'time': at})}", token(tenant)
    )
    assert reply.status == 200, reply.body
    return reply.json["data"]["result"]  # type: ignore[no-any-return]


def test_service_map_and_red_metrics_come_from_the_spans(api, tenants):
    a, b = tenants
    key = ingest_key(api, a, ("traces:write",))
    # Given three calls web -> db, one failing; client and server halves sent separately
    halves = [_call(os.urandom(16), "web", "db", error=(i == 0)) for i in range(3)]
    for client_half, _ in halves:
        assert send_json(api, key, client_half).status == 200
    for _, server_half in halves:
        assert send_protobuf(api, key, server_half).status == 200
    # and the same batch again (an exporter's retry): nothing counts twice
    assert send_protobuf(api, key, halves[1][1]).status == 200

    graph = api.get("/api/v1/traces/service-map", token(a, "viewer"))
    theirs = api.get("/api/v1/traces/service-map", token(b, "viewer"))

    assert graph.status == 200, graph.body
    [edge] = graph.json["edges"]
    assert (edge["client"], edge["server"], edge["requests"], edge["errors"]) == (
        "web",
        "db",
        3,
        1,
    )
    assert edge["latency_p50_ms"] == 20
    assert [n["service"] for n in graph.json["nodes"]] == ["db", "web"]
    assert theirs.json["edges"] == []

    calls = _query(api, a, "sum by (service, status_code) (traces_spanmetrics_calls_total)")
    assert {(r["metric"]["service"], r["metric"]["status_code"], r["value"][1]) for r in calls} == {
        ("web", "STATUS_CODE_UNSET", "3"),
        ("db", "STATUS_CODE_UNSET", "2"),
        ("db", "STATUS_CODE_ERROR", "1"),
    }
    requests = _query(api, a, "traces_service_graph_request_total")
    assert [(r["metric"]["client"], r["metric"]["server"], r["value"][1]) for r in requests] == [
        ("web", "db", "3")
    ]
    failed = _query(api, a, "traces_service_graph_request_failed_total")
    assert [r["value"][1] for r in failed] == ["1"]
    bucket = _query(api, a, 'traces_spanmetrics_latency_bucket{service="web",le="0.032"}')
    assert [r["value"][1] for r in bucket] == ["3"]
    assert _query(api, b, "traces_spanmetrics_calls_total") == []


def test_tempo_api_serves_traces_in_json_and_protobuf_and_searches(api, tenants):
    a, b = tenants
    key = ingest_key(api, a, ("traces:write",))
    trace, root, _ = ids()
    assert (
        send_json(api, key, export("tempo-svc", span(trace, root, "GET /t", error=True))).status
        == 200
    )

    as_json = api.get(f"/tempo/api/traces/{trace.hex()}", token(a, "viewer"))
    as_v2 = api.get(f"/tempo/api/v2/traces/{trace.hex()}", token(a, "viewer"))
    as_proto = api.get(
        f"/tempo/api/traces/{trace.hex()}",
        token(a, "viewer"),
        headers={"Accept": "application/protobuf"},
    )
    found = api.get(
        "/tempo/api/search?" + urlencode({"tags": "service.name=tempo-svc status=error"}),
        token(a, "viewer"),
    )
    values = api.get("/tempo/api/search/tag/service.name/values", token(a, "viewer"))
    hidden = api.get(f"/tempo/api/traces/{trace.hex()}", token(b, "viewer"))
    traceql = api.get("/tempo/api/search?q=%7B%7D", token(a, "viewer"))
    their_search = api.get("/tempo/api/search?tags=service.name%3Dtempo-svc", token(b, "viewer"))
    their_values = api.get("/tempo/api/search/tag/service.name/values", token(b, "viewer"))

    assert as_json.status == 200, as_json.body
    [batch] = as_json.json["batches"]
    assert batch["resource"]["attributes"][0]["value"] == {"stringValue": "tempo-svc"}
    assert batch["scopeSpans"][0]["spans"][0]["spanId"] == root.hex()
    assert as_v2.json["trace"]["resourceSpans"] == as_json.json["batches"]
    assert as_proto.status == 200
    parsed = ExportTraceServiceRequest.FromString(as_proto.body)
    assert parsed.resource_spans[0].scope_spans[0].spans[0].trace_id == trace
    assert [t["traceID"] for t in found.json["traces"]] == [trace.hex()]
    assert found.json["traces"][0]["rootServiceName"] == "tempo-svc"
    assert "tempo-svc" in values.json["tagValues"]
    assert hidden.status == 404
    assert their_search.json["traces"] == []
    assert traceql.status == 422
    assert traceql.json["errors"][0]["loc"] == ["query", "q"]
    assert "tempo-svc" not in their_values.json["tagValues"]


def test_an_ingestion_key_cannot_read_traces(api, tenants):
    a, _ = tenants
    key = ingest_key(api, a, ("traces:write",))
    assert api.get("/api/v1/traces", key).status == 403
    assert api.get("/tempo/api/search", key).status == 403


def test_trace_routes_need_a_signed_in_caller(api):
    for path in (
        "/api/v1/traces",
        "/api/v1/traces/service-map",
        f"/api/v1/traces/{'ab' * 16}",
        f"/tempo/api/traces/{'ab' * 16}",
        "/tempo/api/search",
    ):
        assert api.get(path).status == 401, path


def test_a_trace_id_that_is_not_hex_is_a_422_naming_it(api, tenants):
    a, _ = tenants
    reply = api.get("/api/v1/traces/not-hex", token(a))
    assert reply.status == 422
    assert reply.json["errors"][0]["loc"] == ["path", "trace_id"]


def test_calls_seen_in_traces_join_the_tenants_service_graph(api, tenants):
    """Correlation and root cause follow dependencies nobody declared but traces showed."""
    from orchestrix.adapters.postgres.intelligence_components import STORES

    a, b = tenants
    key = ingest_key(api, a, ("traces:write",))
    client_half, server_half = _call(os.urandom(16), "checkout", "payments")
    assert send_json(api, key, merged(client_half, server_half)).status == 200

    with bootstrap.unit_of_work(a, "test") as uow:
        graph = STORES.graph(uow)
    with bootstrap.unit_of_work(b, "test") as uow:
        theirs = STORES.graph(uow)

    assert graph.dependencies("checkout") == ("payments",)
    assert graph.dependents("payments") == ("checkout",)
    assert theirs.dependencies("checkout") == ()
