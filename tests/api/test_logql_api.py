"""LogQL beyond selectors and counts, through the Loki API over the PostgreSQL log store."""

from __future__ import annotations

from tests.api.conftest import Client, token
from tests.api.test_logs_api import S, ingest_key, loki, now_ns, promtail_push


def test_grafana_health_check_query_is_answered(api: Client, tenants) -> None:
    a, _ = tenants

    reply = loki(api, a, "query", query="vector(1)+vector(1)", time="1700000000")

    assert reply.status == 200, reply.body
    assert reply.json["status"] == "success"
    assert reply.json["data"]["resultType"] == "vector"
    assert reply.json["data"]["result"] == [{"metric": {}, "value": [1700000000, "2"]}]


def test_binary_operations_between_metric_queries(api: Client, tenants) -> None:
    a, _ = tenants
    t = (now_ns() // (60 * S) - 10) * 60 * S
    promtail_push(api, ingest_key(api, a), [
        ('{app="ops", pod="p1"}', [(t + i * S, "error" if i < 3 else "ok") for i in range(8)]),
        ('{app="ops", pod="p2"}', [(t + i * S, "error") for i in range(2)]),
    ])  # fmt: skip
    at = str(t + 30 * S)
    errors = 'sum by (pod) (count_over_time({app="ops"} |= "error" [1m]))'
    total = 'sum by (pod) (count_over_time({app="ops"}[1m]))'

    ratio = loki(api, a, "query", time=at, query=f"{errors} / {total} * 100")
    everything = 'sum(count_over_time({app="ops"}[1m]))'
    share = loki(
        api, a, "query", time=at, query=f"{errors} / ignoring(pod) group_left {everything}"
    )
    alive = loki(api, a, "query", time=at, query=f"{errors} > bool 2 or vector(0)")
    per_stream = 'count_over_time({app="ops"}[1m])'
    clash = loki(api, a, "query", time=at, query=f"{per_stream} / ignoring(pod) {per_stream}")

    assert ratio.status == 200, ratio.body
    assert ratio.json["data"]["result"] == [
        {"metric": {"pod": "p1"}, "value": [t // S + 30, "37.5"]},
        {"metric": {"pod": "p2"}, "value": [t // S + 30, "100"]},
    ]
    assert [r["value"][1] for r in share.json["data"]["result"]] == ["0.3", "0.2"]
    assert [(r["metric"], r["value"][1]) for r in alive.json["data"]["result"]] == [
        ({}, "0"), ({"pod": "p1"}, "1"), ({"pod": "p2"}, "0"),
    ]  # fmt: skip
    assert clash.status == 400 and clash.json["errors"][0]["loc"] == ["query", "query"]
    assert "many-to-many matching not allowed" in clash.json["detail"]


def test_parsers_and_label_filters_split_streams_and_series(api: Client, tenants) -> None:
    a, _ = tenants
    t = (now_ns() // (60 * S) - 10) * 60 * S
    lines = [
        '{"level":"error","status":503,"took":"1.5s","msg":"db down"}',
        '{"level":"info","status":200,"took":"20ms","msg":"ok"}',
        '{"level":"error","status":500,"took":"300ms","msg":"bug"}',
        "not json at all",
    ]
    promtail_push(api, ingest_key(api, a), [
        ('{app="pay"}', [(t + i * S, line) for i, line in enumerate(lines)]),
    ])  # fmt: skip
    window = {"start": str(t), "end": str(t + 60 * S)}

    errors = loki(api, a, "query_range", direction="forward", **window,
                  query='{app="pay"} |= "level" | json | level="error" and took > 1s'
                        ' | line_format "{{.status}} {{.msg}}"')  # fmt: skip
    marked = loki(api, a, "query_range", query='{app="pay"} | json | __error__!=""', **window)
    by_level = loki(api, a, "query", time=str(t + 30 * S),
                    query='sum by (level) (count_over_time({app="pay"} | json'
                          ' | __error__="" [1m]))')  # fmt: skip
    slowest = loki(api, a, "query", time=str(t + 30 * S),
                   query='max by (level) (max_over_time({app="pay"} |= "took" | json'
                         ' | unwrap duration(took) [1m]))')  # fmt: skip
    volume = loki(api, a, "query", time=str(t + 30 * S),
                  query='sum(bytes_over_time({app="pay"}[1m]))')  # fmt: skip

    assert errors.status == 200, errors.body
    [stream] = errors.json["data"]["result"]
    assert stream["values"] == [[str(t), "503 db down"]]
    assert stream["stream"] == {"app": "pay", "level": "error", "status": "503", "took": "1.5s",
                                "msg": "db down"}  # fmt: skip
    [bad] = marked.json["data"]["result"]
    assert bad["stream"]["__error__"] == "JSONParserErr"
    assert bad["values"] == [[str(t + 3 * S), "not json at all"]]
    assert [(r["metric"], r["value"][1]) for r in by_level.json["data"]["result"]] == [
        ({"level": "error"}, "2"), ({"level": "info"}, "1"),
    ]  # fmt: skip
    assert [(r["metric"], r["value"][1]) for r in slowest.json["data"]["result"]] == [
        ({"level": "error"}, "1.5"), ({"level": "info"}, "0.02"),
    ]  # fmt: skip
    assert volume.json["data"]["result"][0]["value"][1] == str(sum(len(x) for x in lines))


def test_a_log_rule_takes_parsers_and_binary_operations(api: Client, tenants) -> None:
    a, _ = tenants
    expr = (
        'sum(count_over_time({app="api"} | logfmt | status >= 500 [5m]))'
        ' / sum(count_over_time({app="api"}[5m])) > 0.05'
    )

    reply = api.post(
        "/api/v1/alert-rules", token(a), {"name": "errors", "language": "logql", "expr": expr}
    )

    assert reply.status == 201, reply.body
