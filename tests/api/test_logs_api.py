"""Logs through the gateway: Loki push, OTLP and JSON lines in; search and the Loki API out."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any
from urllib.parse import quote, urlencode

import cramjam
import pytest

from orchestrix import bootstrap
from orchestrix.adapters.logs.loki import encode_push
from tests.api.conftest import Client, token

PROBLEM = "application/problem+json"
PUSH = "/loki/api/v1/push"
PROMTAIL = {"Content-Type": "application/x-protobuf"}  # snappy, no Content-Encoding
S = 1_000_000_000


def now_ns() -> int:
    return int(bootstrap.clock().now().timestamp()) * S


def ingest_key(api: Client, tenant: str, scopes: tuple[str, ...] = ("logs:write",)) -> str:
    created = api.post("/api/v1/api-keys", token(tenant), {"name": "logs", "scopes": scopes})
    assert created.status == 201, created.body
    return str(created.json["secret"])


def promtail_push(api: Client, key: str, streams: list[tuple[str, list[tuple[int, str]]]]):  # type: ignore[no-untyped-def]
    body = bytes(cramjam.snappy.compress_raw(encode_push(streams)).read())
    basic = "Basic " + base64.b64encode(f"promtail:{key}".encode()).decode()
    return api.post(PUSH, basic, raw=body, headers=PROMTAIL)


def search(api: Client, tenant: str, **params: Any) -> Any:
    reply = api.get(f"/api/v1/logs/query?{urlencode(params)}", token(tenant, "viewer"))
    assert reply.status == 200, reply.body
    return reply.json


def loki(api: Client, tenant: str, path: str, **params: Any):  # type: ignore[no-untyped-def]
    return api.get(f"/loki/api/v1/{path}?{urlencode(params)}", token(tenant, "viewer"))


def test_promtail_protobuf_push_is_stored_and_searchable(api: Client, tenants) -> None:
    a, _ = tenants
    t = now_ns() - 60 * S
    key = ingest_key(api, a)

    pushed = promtail_push(
        api,
        key,
        [
            ('{app="api", env="prod"}', [(t, "GET /a 200"), (t + S, "GET /b 500 error")]),
            ('{app="web"}', [(t + 2 * S, "render error")]),
        ],
    )
    found = search(api, a, query='{app="api"} |= "error"', start=t - S)

    assert pushed.status == 204, pushed.body
    assert found["items"] == [
        {
            "timestamp": str(t + S),
            "labels": {"app": "api", "env": "prod"},
            "line": "GET /b 500 error",
            "metadata": None,
        }
    ]


def test_a_push_sent_again_stores_its_lines_once(api: Client, tenants) -> None:
    # Given a Promtail push that committed, sent again (its sender timed out and retried),
    # then a push overlapping it by one line and bringing a new one
    a, _ = tenants
    t = now_ns() - 60 * S
    key = ingest_key(api, a)
    first = [(t, "GET /a 200"), (t + S, "GET /b 500")]
    pushes = [
        promtail_push(api, key, [('{app="retry"}', first)]),
        promtail_push(api, key, [('{app="retry"}', first)]),
        promtail_push(api, key, [('{app="retry"}', [first[1], (t + 2 * S, "GET /c 200")])]),
    ]

    # When the stream is read back and its lines counted
    found = search(api, a, query='{app="retry"}', start=t - S, direction="forward")
    counted = loki(
        api, a, "query", query='sum(count_over_time({app="retry"}[5m]))', time=str(t + 3 * S)
    )

    # Then each line is there once, and the same line at another time is another line
    assert [p.status for p in pushes] == [204, 204, 204]
    assert [(i["timestamp"], i["line"]) for i in found["items"]] == [
        (str(t), "GET /a 200"),
        (str(t + S), "GET /b 500"),
        (str(t + 2 * S), "GET /c 200"),
    ]
    assert counted.json["data"]["result"][0]["value"][1] == "3"


def test_loki_json_push_with_a_bad_value_is_400_naming_it_and_stores_nothing(
    api: Client, tenants
) -> None:
    a, _ = tenants
    t = now_ns()
    key = ingest_key(api, a)
    good = [str(t), "fine"]
    body = {
        "streams": [
            {"stream": {"app": "x1"}, "values": [good]},
            {"stream": {"app": "x2"}, "values": [good]},
            {"stream": {"app": "x3"}, "values": [good, good, good, good, good, ["12ab", "bad"]]},
        ]
    }

    reply = api.post(PUSH, key, body)
    labels = loki(api, a, "labels", start=t - 3600 * S)

    assert reply.status == 400
    assert reply.content_type.startswith(PROBLEM)
    assert reply.json["errors"][0]["loc"] == ["streams", 2, "values", 5, 0]
    assert reply.json["detail"].startswith("streams[2].values[5][0]:")
    assert labels.json["data"] == []  # nothing of the request was stored


def test_otlp_json_is_mapped_to_streams_and_metadata(api: Client, tenants) -> None:
    a, _ = tenants
    t = now_ns() - 5 * S
    key = ingest_key(api, a)
    body = {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "checkout"}},
                        {"key": "host.name", "value": {"stringValue": "h1"}},
                    ]
                },
                "scopeLogs": [
                    {
                        "scope": {"name": "app.logger"},
                        "logRecords": [
                            {
                                "timeUnixNano": str(t),
                                "severityText": "ERROR",
                                "severityNumber": 17,
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "body": {"stringValue": "payment failed"},
                                "attributes": [{"key": "order", "value": {"intValue": "42"}}],
                            }
                        ],
                    }
                ],
            }
        ]
    }

    gzip_json = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    reply = api.post(
        "/v1/logs", key, raw=gzip.compress(json.dumps(body).encode()), headers=gzip_json
    )
    found = search(api, a, query='{service_name="checkout"}', start=t - S)

    assert reply.status == 200, reply.body
    assert found["items"][0]["line"] == "payment failed"
    assert found["items"][0]["labels"] == {"service_name": "checkout"}
    assert found["items"][0]["metadata"] == {
        "severity_text": "ERROR",
        "severity_number": 17,
        "trace_id": "5b8efff798038103d269b633813fc60c",
        "span_id": "eee19b7ec3c1b174",
        "attributes": {"order": 42},
        "scope": "app.logger",
        "resource": {"host.name": "h1"},
    }


def test_otlp_json_bad_record_is_named(api: Client, tenants) -> None:
    a, _ = tenants
    record = {"timeUnixNano": "soon", "body": {"stringValue": "x"}}
    body = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{}, record]}]}]}

    reply = api.post("/v1/logs", ingest_key(api, a), body)

    assert reply.status == 400
    assert reply.json["errors"][0]["loc"] == [
        "resourceLogs", 0, "scopeLogs", 0, "logRecords", 1, "timeUnixNano",
    ]  # fmt: skip


def test_json_lines_ingest_and_full_text_search(api: Client, tenants) -> None:
    a, _ = tenants
    t = now_ns() - 10 * S
    lines = [
        {"labels": {"job": "cron"}, "line": "backup started", "timestamp": str(t)},
        {"labels": {"job": "cron"}, "line": "backup finished in 3s", "timestamp": t + S},
        {"labels": {"job": "cron"}, "line": "cleanup finished", "timestamp": t + 2 * S},
    ]
    body = "\n".join(json.dumps(line) for line in lines).encode()

    reply = api.post("/api/v1/logs/ingest", ingest_key(api, a), raw=body,
                     headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
    found = search(api, a, query='{job="cron"}', q="backup finished", start=t - S)

    assert reply.status == 200 and reply.json == {"accepted": 3}
    assert [item["line"] for item in found["items"]] == ["backup finished in 3s"]


def test_json_lines_with_a_nul_in_a_line_is_400_naming_the_line(api: Client, tenants) -> None:
    a, _ = tenants
    body = b'{"labels": {"a": "b"}, "line": "ok"}\n{"labels": {"a": "b"}, "line": "x\\u0000y"}\n'

    reply = api.post("/api/v1/logs/ingest", ingest_key(api, a), raw=body,
                     headers={"Content-Type": "application/x-ndjson"})  # fmt: skip

    assert reply.status == 400
    assert reply.json["errors"][0]["loc"] == ["lines", 1, "line"]


def test_ingest_needs_the_logs_write_scope(api: Client, tenants) -> None:
    a, _ = tenants
    metrics_key = ingest_key(api, a, ("metrics:write",))

    reply = promtail_push(api, metrics_key, [('{app="x"}', [(now_ns(), "x")])])

    assert reply.status == 403


def test_search_pages_with_a_cursor_and_regex_filters(api: Client, tenants) -> None:
    a, _ = tenants
    t = now_ns() - 100 * S
    entries = [(t + i * S, f"request {i} took {i * 10}ms") for i in range(7)]
    assert promtail_push(api, ingest_key(api, a), [('{app="pager"}', entries)]).status == 204
    query = '{app="pager"} |~ "took [0-9]*0ms" !~ "request 3 "'

    first = search(api, a, query=query, start=t, limit=4, direction="forward")
    second = search(api, a, query=query, start=t, limit=4, direction="forward",
                    cursor=first["next_cursor"])  # fmt: skip

    lines = [i["line"] for i in first["items"] + second["items"]]
    assert lines == [line for _, line in entries if "request 3 " not in line]
    assert second["next_cursor"] is None


def test_live_tail_continues_from_its_cursor(api: Client, tenants) -> None:
    a, _ = tenants
    t = now_ns() - 30 * S
    key = ingest_key(api, a)
    promtail_push(api, key, [('{app="tail"}', [(t, "one")])])

    first = search(api, a, query='{app="tail"}', start=t - S, direction="forward", wait=1)
    promtail_push(api, key, [('{app="tail"}', [(t + S, "two")])])
    second = search(api, a, query='{app="tail"}', start=t - S, direction="forward", wait=1,
                    cursor=first["next_cursor"])  # fmt: skip
    idle = search(api, a, query='{app="tail"}', start=t - S, direction="forward", wait=0.1,
                  cursor=second["next_cursor"])  # fmt: skip

    assert [i["line"] for i in first["items"]] == ["one"]
    assert [i["line"] for i in second["items"]] == ["two"]
    assert idle["items"] == [] and idle["next_cursor"] == second["next_cursor"]


def test_loki_query_range_streams_and_metric_shapes(api: Client, tenants) -> None:
    a, _ = tenants
    t = (now_ns() // (60 * S) - 10) * 60 * S  # a whole minute, 10 minutes ago
    entries = [(t + i * S, "error x" if i % 2 else "ok") for i in range(10)]
    promtail_push(api, ingest_key(api, a), [('{app="shop", pod="p1"}', entries)])
    window = {"start": str(t), "end": str(t + 60 * S)}

    logs = loki(api, a, "query_range", query='{app="shop"} |= "error"', limit=2, **window)
    errors = 'sum by (app) (count_over_time({app="shop"} |= "error" [1m]))'
    counts = loki(api, a, "query_range", step="30", query=errors, **window)
    instant = loki(api, a, "query", time=str(t + 60 * S),
                   query='sum(count_over_time({app="shop"}[1m])) > 5')  # fmt: skip
    rate = loki(api, a, "query", time=str(t + 60 * S), query='rate({app="shop"}[1m])')

    assert logs.status == 200, logs.body
    assert logs.json["data"]["resultType"] == "streams"
    assert logs.json["data"]["result"] == [
        {"stream": {"app": "shop", "pod": "p1"},
         "values": [[str(t + 9 * S), "error x"], [str(t + 7 * S), "error x"]]},
    ]  # fmt: skip
    assert counts.json["data"]["resultType"] == "matrix"
    assert counts.json["data"]["result"] == [
        {"metric": {"app": "shop"}, "values": [[t // S + 30, "5"], [t // S + 60, "5"]]}
    ]
    assert instant.json["data"] == {
        "resultType": "vector",
        "result": [{"metric": {}, "value": [t // S + 60, "9"]}],  # (t, t + 1m]: not the line at t
        "stats": {},
    }
    assert rate.json["data"]["result"][0]["value"][1] == str(9 / 60)


def test_loki_labels_and_values_stay_in_their_tenant(api: Client, tenants) -> None:
    a, b = tenants
    t = now_ns() - 60 * S
    promtail_push(api, ingest_key(api, a), [('{app="secret", team="a"}', [(t, "x")])])
    promtail_push(api, ingest_key(api, b), [('{app="public"}', [(t, "y")])])

    names_a = loki(api, a, "labels", start=str(t - S))
    values_a = loki(api, a, "label/app/values", start=str(t - S))
    values_b = loki(api, b, "label/app/values", start=str(t - S))
    search_b = search(api, b, query='{app="secret"}', start=t - S)
    logs_b = loki(api, b, "query_range", query='{app="secret"}', start=str(t - S))
    count_b = loki(api, b, "query", time=str(t + S), query='count_over_time({app="secret"}[1m])')
    count_a = loki(api, a, "query", time=str(t + S), query='count_over_time({app="secret"}[1m])')

    assert names_a.json == {"status": "success", "data": ["app", "team"]}
    assert values_a.json["data"] == ["secret"]
    assert values_b.json["data"] == ["public"]
    assert search_b["items"] == []
    assert logs_b.json["data"]["result"] == []
    assert count_b.json["data"]["result"] == []
    assert count_a.json["data"]["result"][0]["value"][1] == "1"


def test_loki_series_and_index_stats_for_grafana(api: Client, tenants) -> None:
    # Given three streams: two with lines in the window, one that stopped half an hour
    # before it (within the hour its stream's bounds may lag), and another tenant's
    a, b = tenants
    t = now_ns() - 60 * S
    if (t + 2 * S) // (86_400 * S) != t // (86_400 * S):  # the lines in one day's partition
        t -= 3 * S
    key = ingest_key(api, a)
    promtail_push(api, key, [('{app="old", env="prod"}', [(t - 1800 * S, "gone")])])
    promtail_push(
        api,
        key,
        [
            ('{app="api", env="prod"}', [(t, "GET /a"), (t + S, "GET /bb")]),
            ('{app="web", env="dev"}', [(t + 2 * S, "render")]),
        ],
    )
    promtail_push(api, ingest_key(api, b), [('{app="api", env="prod"}', [(t, "theirs")])])
    window = {"start": str(t - S), "end": str(t + 10 * S)}

    # When Grafana asks for the streams, the label names a selector has, and the query size
    series = api.get(
        "/loki/api/v1/series?"
        + urlencode([("match[]", '{env="prod"}'), ("match[]", '{app="web"}'), *window.items()]),
        token(a, "viewer"),
    )
    names = loki(api, a, "labels", query='{app="web"}', **window)
    stats = loki(api, a, "index/stats", query='{env=~"prod|dev"} |= "GET"', **window)
    none = loki(api, a, "index/stats", query='{app="nothing"}', **window)
    theirs = loki(api, b, "index/stats", query='{app="api"}', **window)

    # Then only what has a line in the window answers, counted as Loki counts it
    assert series.status == 200, series.body
    assert series.json == {
        "status": "success",
        "data": [{"app": "api", "env": "prod"}, {"app": "web", "env": "dev"}],
    }
    assert names.json["data"] == ["app", "env"]
    assert stats.status == 200, stats.body
    assert stats.json == {"streams": 2, "chunks": 2, "entries": 3, "bytes": 6 + 7 + 6}
    assert none.json == {"streams": 0, "chunks": 0, "entries": 0, "bytes": 0}
    assert theirs.json == {"streams": 1, "chunks": 1, "entries": 1, "bytes": 6}


def test_grafana_logs_volume_query_and_drop_merge_streams(api: Client, tenants) -> None:
    # Given two pods' streams of one app, with a level label
    a, _ = tenants
    t = now_ns() - 60 * S
    promtail_push(
        api,
        ingest_key(api, a),
        [
            ('{app="vol", pod="p1", level="error"}', [(t, "boom"), (t + S, "boom again")]),
            ('{app="vol", pod="p2", level="info"}', [(t + 2 * S, "fine")]),
        ],
    )
    window = {"start": str(t - S), "end": str(t + 59 * S), "step": "60"}

    # When Grafana's Explore asks for the volume histogram above the lines, and for the
    # lines with the pod label dropped
    volume = loki(
        api,
        a,
        "query_range",
        query='sum by (level, detected_level) (count_over_time({app="vol"} | drop __error__[1m]))',
        **window,
    )
    lines = loki(api, a, "query_range", query='{app="vol"} | drop pod, level="info"', **window)

    # Then the volume is counted per level, and the dropped labels are gone from the streams
    assert volume.status == 200, volume.body
    assert [(s["metric"], [v for _, v in s["values"]]) for s in volume.json["data"]["result"]] == [
        ({"level": "error"}, ["2"]),
        ({"level": "info"}, ["1"]),
    ]
    assert lines.status == 200, lines.body
    assert sorted(
        (tuple(s["stream"].items()), len(s["values"])) for s in lines.json["data"]["result"]
    ) == [
        ((("app", "vol"),), 1),
        ((("app", "vol"), ("level", "error")), 2),
    ]


def test_loki_series_needs_a_stream_selector(api: Client, tenants) -> None:
    a, _ = tenants

    missing = api.get("/loki/api/v1/series", token(a, "viewer"))
    metric = api.get(
        "/loki/api/v1/series?" + urlencode({"match[]": 'count_over_time({a="b"}[1m])'}),
        token(a, "viewer"),
    )
    stats = loki(api, a, "index/stats", query="sum(")

    for reply in (missing, metric, stats):
        assert reply.status == 400 and reply.content_type.startswith(PROBLEM), reply.body
    assert missing.json["errors"][0]["loc"] == ["query", "match[]"]
    assert metric.json["errors"][0]["loc"] == ["query", "match[]"]
    assert stats.json["errors"][0]["loc"] == ["query", "query"]


def test_loki_buildinfo_answers_in_lokis_shape_to_a_reader_only(api: Client, tenants) -> None:
    a, _ = tenants

    info = api.get("/loki/api/v1/status/buildinfo", token(a, "viewer"))
    anonymous = api.get("/loki/api/v1/status/buildinfo", {})

    assert info.status == 200, info.body
    assert set(info.json) == {
        *("version", "revision", "branch"),
        *("buildUser", "buildDate", "goVersion"),
    }
    assert info.json["version"] == "2.8.0"
    assert anonymous.status == 401


def test_bad_logql_is_400_naming_the_query(api: Client, tenants) -> None:
    a, _ = tenants

    reply = loki(api, a, "query_range", query='{app="x"} | unpack')
    empty = loki(api, a, "query_range", query='{app=~".*"}')
    instant_logs = loki(api, a, "query", query='{app="x"}')

    assert reply.status == 400 and reply.content_type.startswith(PROBLEM)
    assert reply.json["errors"][0]["loc"] == ["query", "query"]
    assert "| unpack is not supported" in reply.json["detail"]
    assert empty.status == 400
    assert instant_logs.status == 400


@pytest.mark.parametrize("path", ["labels", "label/app/values"])
def test_loki_label_routes_need_a_reader(api: Client, tenants, path: str) -> None:
    a, _ = tenants
    key = ingest_key(api, a)

    reply = api.get(f"/loki/api/v1/{quote(path)}", key)

    assert reply.status == 403


# -- log rules ------------------------------------------------------------------------------
@pytest.fixture
def recorded_events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []

    class Recorder:
        def publish(self, tenant_id: str, detail_type: str, detail: dict[str, Any]) -> None:
            sent.append((tenant_id, detail_type))

    monkeypatch.setattr(bootstrap, "event_publisher", lambda: Recorder())
    return sent


def test_log_rule_fires_when_matching_lines_pass_the_threshold(
    api: Client, tenants, recorded_events: list[tuple[str, str]]
) -> None:
    from orchestrix.adapters.postgres.alerting_components import evaluation_service

    a, b = tenants
    at = bootstrap.clock().now().replace(microsecond=0)
    t = int(at.timestamp()) * S
    rule = api.post(
        "/api/v1/alert-rules",
        token(a),
        {
            "name": "ApiErrors",
            "language": "logql",
            "expr": 'sum by (app) (count_over_time({app="api"} |= "error" [5m])) > 3',
            "annotations": {"summary": "{{ $labels.app }}: {{ $value }} errors"},
        },
    )
    errors = [(t - i * S, f"error {i}") for i in range(1, 5)] + [(t - 5 * S, "ok")]
    promtail_push(api, ingest_key(api, a), [('{app="api"}', errors)])
    # the other tenant's lines count for nothing in this tenant's rule
    promtail_push(api, ingest_key(api, b), [('{app="api"}', [(t - S, "error")] * 10)])

    report = evaluation_service().tick(a, at)
    alerts = api.get("/api/v1/alerts?status=firing", token(a, "viewer")).json["items"]

    assert rule.status == 201, rule.body
    assert rule.json["language"] == "logql"
    assert report.rule_errors == {} and report.fired == 1
    assert [(x["labels"], x["annotations"]) for x in alerts] == [
        ({"alertname": "ApiErrors", "app": "api"}, {"summary": "api: 4 errors"})
    ]
    assert (a, "alert.fired") in recorded_events


def test_a_log_rule_past_the_query_timeout_reports_it_as_its_health(
    api: Client, tenants, recorded_events: list[tuple[str, str]]
) -> None:
    from orchestrix.adapters.metrics.batch import fingerprint
    from orchestrix.adapters.postgres.alerting_components import metric_reader, repos
    from orchestrix.domain.logs import LogBatch, StreamBatch
    from orchestrix.services.log_rules import LogRuleEvaluator
    from orchestrix.services.rule_evaluation import EvaluationBudget, EvaluationService

    # Given a log rule counting a stream of 100,000 lines, and rules that may run 1 ms each
    a, _ = tenants
    at = bootstrap.clock().now().replace(microsecond=0)
    t = int(at.timestamp()) * S
    rule = api.post(
        "/api/v1/alert-rules",
        token(a),
        {"name": "Busy", "language": "logql", "expr": 'sum(count_over_time({app="busy"}[5m])) > 1'},
    )
    labels = (("app", "busy"),)
    stream = StreamBatch(labels, fingerprint(labels))
    for i in range(100_000):
        stream.timestamps.append(t - 290 * S + i * 2_000_000)
        stream.lines.append(f"line {i}")
        stream.metadata.append(None)
    bootstrap.log_store().write(a, LogBatch([stream]))
    strict = EvaluationService(
        bootstrap.unit_of_work,
        repos,
        metric_reader,
        bootstrap.event_publisher(),
        logs=LogRuleEvaluator(bootstrap.log_service()),
        budget=EvaluationBudget(query_timeout_s=0.001),
    )

    # When the rules are evaluated
    report = strict.tick(a, at)
    shown = api.get(f"/api/v1/alert-rules/{rule.json['id']}", token(a, "viewer"))

    # Then the rule's query was stopped at its limit, and its health says why
    expected = "LogQueryTimeout: query timed out in query execution (limit 0.001s)"
    assert report.rule_errors == {rule.json["id"]: expected}
    assert shown.json["last_error"] == expected
    assert (a, "rule.evaluation_failed") in recorded_events


def test_log_rule_with_a_log_query_or_bad_logql_is_422_naming_expr(api: Client, tenants) -> None:
    a, _ = tenants
    for expr in ('{app="api"} |= "error"', 'sum(count_over_time({app="api"} | unpack [5m]))'):
        reply = api.post(
            "/api/v1/alert-rules", token(a), {"name": "X", "language": "logql", "expr": expr}
        )

        assert reply.status == 422, reply.body
        assert reply.json["errors"][0]["loc"] == ["body", "expr"]


def test_an_anomaly_log_rule_is_422_naming_language(api: Client, tenants) -> None:
    a, _ = tenants
    rule = {
        "name": "X",
        "language": "logql",
        "expr": 'sum(count_over_time({app="api"} |= "error" [5m]))',
        "algorithm": "agile",
    }

    reply = api.post("/api/v1/alert-rules", token(a), rule)

    assert reply.status == 422, reply.body
    assert reply.json["errors"][0]["loc"] == ["body", "language"]


def test_rule_file_export_leaves_log_rules_out(api: Client, tenants) -> None:
    """Prometheus would read the LogQL as PromQL and refuse the whole file."""
    a, _ = tenants
    log_rule = {
        "name": "ApiErrors",
        "language": "logql",
        "expr": 'sum(count_over_time({app="api"} |= "error" [5m])) > 10',
    }
    assert api.post("/api/v1/alert-rules", token(a), log_rule).status == 201
    assert (
        api.post("/api/v1/alert-rules", token(a), {"name": "Up", "expr": "up == 0"}).status == 201
    )

    exported = api.get("/api/v1/alert-rules/export", token(a, "viewer")).body.decode()

    assert "alert: Up" in exported
    assert "ApiErrors" not in exported


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"start": "0001-01-01T00:00:00+14:00"}, "start"),
        ({"start": "9" * 35 + ".5"}, "start"),
        ({"cursor": base64.urlsafe_b64encode(b'["99999999999999999999", "1"]').decode()}, "cursor"),
    ],
)
def test_out_of_range_parameters_are_400_naming_them(
    api: Client, tenants, params: dict[str, str], parameter: str
) -> None:
    a, _ = tenants

    query = urlencode({"query": '{a="b"}', **params})
    reply = api.get(f"/api/v1/logs/query?{query}", token(a, "viewer"))

    assert reply.status == 400, reply.body
    assert reply.json["errors"][0]["loc"] == ["query", parameter]


def test_a_ten_thousand_year_range_is_400(api: Client, tenants) -> None:
    a, _ = tenants

    reply = loki(api, a, "query", query='count_over_time({a="b"}[99999999999999d])')

    assert reply.status == 400, reply.body


def test_otlp_non_finite_doubles_and_deep_values(api: Client, tenants) -> None:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    a, _ = tenants
    key = ingest_key(api, a)
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.add(key="service.name").value.string_value = "nan-svc"
    record = resource_logs.scope_logs.add().log_records.add(time_unix_nano=now_ns() - S)
    record.body.string_value = "odd numbers"
    record.attributes.add(key="ratio").value.double_value = float("nan")
    deep: dict[str, Any] = {"stringValue": "bottom"}
    for _ in range(200):
        deep = {"arrayValue": {"values": [deep]}}
    too_deep = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": deep}]}]}]}

    stored = api.post("/v1/logs", key, raw=request.SerializeToString(),
                      headers={"Content-Type": "application/x-protobuf"})  # fmt: skip
    refused = api.post("/v1/logs", key, too_deep)
    found = search(api, a, query='{service_name="nan-svc"}')

    assert stored.status == 200, stored.body
    assert found["items"][0]["metadata"]["attributes"] == {"ratio": "NaN"}
    assert refused.status == 400, refused.body
    assert "nested deeper" in refused.json["detail"]


@pytest.mark.parametrize("path", ["/v1/logs", PUSH, "/api/v1/logs/ingest"])
def test_a_request_without_a_body_is_400(api: Client, tenants, path: str) -> None:
    a, _ = tenants

    reply = api.post(path, ingest_key(api, a), raw=b"", headers={"Content-Encoding": "gzip"})

    assert reply.status == 400, reply.body
    assert reply.json["errors"][0]["loc"] == ["body"]
