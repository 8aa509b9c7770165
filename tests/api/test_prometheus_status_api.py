"""The Prometheus API endpoints beyond queries that Grafana and tools call: status, TSDB
summary, rules, alerts, exemplars, format_query — each the caller's tenant's only."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from orchestrix import bootstrap
from orchestrix.adapters.postgres.alerting_components import evaluation_service
from tests.api.conftest import Client, token
from tests.api.test_alerting_api import import_metrics, minute

PREFIXES = ("/api/v1/metrics", "/prometheus/api/v1")


@pytest.fixture
def tenants() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return f"sa-{suffix}", f"sb-{suffix}"


class _NoEvents:
    def publish(self, tenant_id: str, detail_type: str, detail: dict[str, Any]) -> None:
        pass


def get(api: Client, tenant: str, path: str, prefix: str = PREFIXES[0], **params: Any):  # type: ignore[no-untyped-def]
    query = f"?{urlencode(params, doseq=True)}" if params else ""
    return api.get(f"{prefix}{path}{query}", token(tenant, "viewer"))


@pytest.mark.parametrize("prefix", PREFIXES)
def test_buildinfo_claims_prometheus_3_and_says_it_is_orchestrix(api, tenants, prefix):
    reply = get(api, tenants[0], "/status/buildinfo", prefix)

    assert reply.status == 200
    assert reply.content_type == "application/json"
    assert reply.json["status"] == "success"
    assert reply.json["data"]["version"] == "3.0.0"
    assert reply.json["data"]["revision"] == "orchestrix"


def test_status_endpoints_answer_in_prometheus_shape(api, tenants):
    runtime = get(api, tenants[0], "/status/runtimeinfo")
    flags = get(api, tenants[0], "/status/flags")
    config = get(api, tenants[0], "/status/config", PREFIXES[1])

    assert runtime.status == flags.status == config.status == 200
    assert {"startTime", "CWD", "reloadConfigSuccess", "storageRetention"} <= set(
        runtime.json["data"]
    )
    assert all(isinstance(v, str) for v in flags.json["data"].values())
    assert flags.json["data"]["query.max-samples"] == str(bootstrap.settings().query_max_samples)
    assert runtime.json["data"]["storageRetention"].endswith("d")
    assert "scrape_configs" in config.json["data"]["yaml"]


def test_status_needs_a_caller(api):
    reply = api.get("/prometheus/api/v1/status/buildinfo")

    assert reply.status == 401


def test_tsdb_counts_only_the_callers_series(api, tenants):
    a, b = tenants
    ms = int(minute().timestamp() * 1000)
    import_metrics(
        api,
        a,
        f'up{{job="api",instance="1"}} 1 {ms}\nup{{job="api",instance="2"}} 1 {ms}\n'
        f'http_requests_total{{job="api"}} 5 {ms - 60_000}\n',
    )
    import_metrics(api, b, f'other_metric{{job="x"}} 1 {ms}\n')

    seen_a = get(api, a, "/status/tsdb").json["data"]
    seen_b = get(api, b, "/status/tsdb", PREFIXES[1]).json["data"]
    limited = get(api, a, "/status/tsdb", limit=1).json["data"]

    assert seen_a["headStats"]["numSeries"] == 3
    assert seen_a["headStats"]["minTime"] == ms - 60_000
    assert seen_a["headStats"]["maxTime"] == ms
    assert seen_a["seriesCountByMetricName"] == [
        {"name": "up", "value": 2},
        {"name": "http_requests_total", "value": 1},
    ]
    assert {"name": "job=api", "value": 3} in seen_a["seriesCountByLabelValuePair"]
    assert {"name": "instance", "value": 2} in seen_a["labelValueCountByLabelName"]
    assert seen_b["headStats"]["numSeries"] == 1
    assert seen_b["seriesCountByMetricName"] == [{"name": "other_metric", "value": 1}]
    assert limited["seriesCountByMetricName"] == [{"name": "up", "value": 2}]


def test_tsdb_limit_beyond_int64_is_bad_data_not_a_500(api, tenants):
    reply = get(api, tenants[0], "/status/tsdb", limit=2**63)

    assert reply.status == 400
    assert reply.json["error"] == f'invalid parameter "limit": cannot parse "{2**63}"'


def test_tsdb_limit_must_be_positive(api, tenants):
    reply = get(api, tenants[0], "/status/tsdb", limit=0)

    assert reply.status == 400
    assert reply.json == {
        "status": "error",
        "errorType": "bad_data",
        "error": "limit must be a positive number",
    }


def test_query_exemplars_validates_and_finds_none(api, tenants):
    a = tenants[0]

    found = get(api, a, "/query_exemplars", query="up", start="1", end="100")
    no_selector = get(api, a, "/query_exemplars", PREFIXES[1], query="1 + 1")
    bad_query = get(api, a, "/query_exemplars", query="sum(up")
    backwards = get(api, a, "/query_exemplars", query="up", start="100", end="1")

    assert found.status == 200 and found.json == {"status": "success", "data": []}
    assert no_selector.json == {"status": "success", "data": None}
    assert bad_query.status == 400
    assert bad_query.json["error"].startswith('invalid parameter "query": ')
    assert backwards.status == 400
    assert backwards.json["error"] == "end timestamp must not be before start timestamp"


def test_format_query_prettifies_and_refuses_what_does_not_parse(api, tenants):
    a = tenants[0]

    good = get(api, a, "/format_query", query='sum  by(job)(rate( x{a="b"}[5m] ) )')
    posted = api.post(
        f"{PREFIXES[1]}/format_query",
        token(a, "viewer"),
        raw=b"query=foo%2Bbar",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    bad = get(api, a, "/format_query", query="sum(x")

    assert good.json == {"status": "success", "data": 'sum by (job) (rate(x{a="b"}[5m]))'}
    assert posted.json == {"status": "success", "data": "foo + bar"}
    assert bad.status == 400
    assert bad.json["errorType"] == "bad_data"
    assert bad.json["error"].startswith('invalid parameter "query": ')


@pytest.fixture
def pending_alert(api: Client, tenants: tuple[str, str]) -> dict[str, Any]:
    """Tenant a: one enabled rule with a pending alert, one in another group, one disabled."""
    a = tenants[0]
    t0 = minute()
    ms = int(t0.timestamp() * 1000)
    import_metrics(api, a, f'queue_depth{{queue="mail"}} 130 {ms}\n')
    created = []
    for body in (
        {"name": "QueueBacklog", "expr": "queue_depth > 100", "for": "10m", "group": "queues",
         "labels": {"team": "mail"}, "annotations": {"summary": "backlog"}},
        {"name": "NeverFires", "expr": "queue_depth > 1000", "group": "other"},
        {"name": "Disabled", "expr": "queue_depth > 1", "group": "queues", "enabled": False},
    ):  # fmt: skip
        reply = api.post("/api/v1/alert-rules", token(a), {"severity": "warning", **body})
        assert reply.status == 201, reply.body
        created.append(reply.json)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bootstrap, "event_publisher", lambda: _NoEvents())
        evaluation_service().tick(a, t0 + timedelta(seconds=1))
    return {"at": t0, "rules": created}


def test_rules_are_the_tenants_own_in_prometheus_shape(api, tenants, pending_alert):
    a, b = tenants

    reply = get(api, a, "/rules", PREFIXES[1])
    other = get(api, b, "/rules")

    assert reply.status == 200
    groups = {g["name"]: g for g in reply.json["data"]["groups"]}
    assert set(groups) == {"queues", "other"}  # the disabled rule is not loaded
    [rule] = groups["queues"]["rules"]
    assert rule["type"] == "alerting"
    assert rule["name"] == "QueueBacklog"
    assert rule["query"] == "queue_depth > 100"
    assert rule["duration"] == 600
    assert rule["state"] == "pending"
    assert rule["health"] == "ok"
    assert rule["labels"]["team"] == "mail"
    assert rule["annotations"] == {"summary": "backlog"}
    [alert] = rule["alerts"]
    assert alert["state"] == "pending"
    assert alert["labels"]["queue"] == "mail"
    assert alert["value"] == "1.3e+02"
    assert groups["other"]["rules"][0]["state"] == "inactive"
    assert other.json == {"status": "success", "data": {"groups": []}}


def test_rules_filters(api, tenants, pending_alert):
    a = tenants[0]

    by_name = get(api, a, "/rules", **{"rule_name[]": "NeverFires"}).json["data"]["groups"]
    by_group = get(api, a, "/rules", **{"rule_group[]": "queues"}).json["data"]["groups"]
    records = get(api, a, "/rules", type="record").json["data"]["groups"]
    alerting = get(api, a, "/rules", type="alert").json["data"]["groups"]
    bad = get(api, a, "/rules", type="bogus")

    assert [(g["name"], [r["name"] for r in g["rules"]]) for g in by_name] == [
        ("other", ["NeverFires"])
    ]
    assert [g["name"] for g in by_group] == ["queues"]
    assert records == []
    assert len(alerting) == 2
    assert bad.status == 400
    assert bad.json["error"] == 'invalid parameter "type": not supported value "bogus"'


def test_alerts_are_the_tenants_active_ones(api, tenants, pending_alert):
    a, b = tenants

    mine = get(api, a, "/alerts").json["data"]["alerts"]
    theirs = get(api, b, "/alerts", PREFIXES[1]).json

    assert len(mine) == 1
    assert mine[0]["state"] == "pending"
    assert mine[0]["labels"]["alertname"] == "QueueBacklog"
    assert mine[0]["annotations"] == {"summary": "backlog"}
    assert mine[0]["activeAt"].endswith("Z")
    assert theirs == {"status": "success", "data": {"alerts": []}}


@pytest.mark.parametrize(
    ("path", "name"),
    [("/rules", "rule_name[]"), ("/format_query", "query"), ("/status/tsdb", "limit")],
)
def test_nul_in_a_parameter_is_bad_data_like_on_the_query_routes(api, tenants, path, name):
    reply = get(api, tenants[0], path, **{name: "a\x00"})

    assert reply.status == 400
    assert reply.json["error"] == f'invalid parameter "{name}": NUL characters are not allowed'
