"""LogQL beyond selectors and counts, through the Loki API over the PostgreSQL log store."""

from __future__ import annotations

from tests.api.conftest import Client
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
