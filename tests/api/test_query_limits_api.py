"""Queries that used to hang or kill the process answer at once, in Prometheus' error shape.

The query API keeps Prometheus' own bodies (`{"status":"error","errorType":…,"error":…}`) so
that Grafana and other Prometheus clients understand them; the status codes are Prometheus'
(400 bad_data, 422 execution).
"""

from __future__ import annotations

import base64
import uuid
from urllib.parse import urlencode

import pytest

from orchestrix import bootstrap
from orchestrix.adapters.metrics import encode_write_request
from orchestrix.services.metrics import MetricsService
from tests.api.conftest import Client, token

WRITE = "/api/v1/metrics/write"
API = "/api/v1/metrics"
T0 = 1_790_000_000
PROTOBUF = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}
VICTIM = "a" * 26


@pytest.fixture
def tenant(api: Client) -> str:
    name = f"ql-{uuid.uuid4().hex[:8]}"
    created = api.post("/api/v1/api-keys", token(name), {"name": "p", "scopes": ["metrics:write"]})
    secret = created.json["secret"]
    series = [
        ({"__name__": "up", "v": VICTIM}, [(T0 * 1000, 1.0)]),
        ({"__name__": "up", "v": "aab"}, [(T0 * 1000, 2.0)]),
    ]
    auth = "Basic " + base64.b64encode(f"p:{secret}".encode()).decode()
    written = api.post(WRITE, auth, raw=encode_write_request(series), headers=PROTOBUF)
    assert written.status == 204
    return name


def query(api: Client, tenant: str, q: str):  # type: ignore[no-untyped-def]
    params = urlencode({"query": q, "time": T0 + 10})
    return api.get(f"{API}/query?{params}", token(tenant, "viewer"))


def assert_bad_data(reply, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert reply.status == 400, reply.body
    assert reply.content_type == "application/json"
    assert reply.json["status"] == "error"
    assert reply.json["errorType"] == "bad_data"
    for fragment in fragments:
        assert fragment in reply.json["error"]


def test_catastrophic_regex_matcher_answers_like_prometheus(api: Client, tenant: str) -> None:
    reply = query(api, tenant, '{v=~"(a+)+b"}')

    assert reply.status == 200
    assert [s["metric"]["v"] for s in reply.json["data"]["result"]] == ["aab"]


@pytest.mark.parametrize("pattern", ["(a)\\\\1", "(?=a)a"])
def test_backreference_and_lookahead_are_invalid_regular_expressions(
    api: Client, tenant: str, pattern: str
) -> None:
    reply = query(api, tenant, f'up{{v=~"{pattern}"}}')

    assert_bad_data(reply, 'invalid parameter "query"', "invalid regular expression")


@pytest.mark.parametrize(
    ("q", "why"),
    [
        ("up\x00", "NUL characters are not allowed"),  # refused with every other parameter's
        ("(" * 5000 + "up" + ")" * 5000, "parse error"),
        # promql-parser overflowed its stack on this: the process died
        ("up" + " + up" * 5000, "parse error"),
        ("sum(" * 3000 + "up" + ")" * 3000, "parse error"),
    ],
    ids=["nul", "5000-parentheses", "5000-operators", "3000-nested-calls"],
)
def test_parser_killers_are_400_invalid_query(api: Client, tenant: str, q: str, why: str) -> None:
    reply = query(api, tenant, q)

    assert_bad_data(reply, 'invalid parameter "query"', why)


def test_overlong_query_in_a_form_body_is_400(api: Client, tenant: str) -> None:
    body = urlencode({"query": "up or " * 50_000 + "up", "time": T0}).encode()

    reply = api.post(
        f"{API}/query",
        token(tenant, "viewer"),
        raw=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert_bad_data(reply, 'invalid parameter "query"', "more than the limit")


def test_subquery_over_11000_points_is_400(api: Client, tenant: str) -> None:
    reply = query(api, tenant, "max_over_time(up[1d:1s])")

    assert_bad_data(reply, "subquery exceeded maximum resolution of 11,000 points per timeseries")


def test_query_loading_more_samples_than_allowed_is_422(
    api: Client, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = MetricsService(bootstrap.metric_store(), max_samples=1)
    monkeypatch.setattr(bootstrap, "metrics_service", lambda: small)

    reply = query(api, tenant, "count_over_time(up[1h])")

    assert reply.status == 422
    assert reply.json["errorType"] == "execution"
    assert reply.json["error"] == (
        "query processing would load too many samples into memory in query execution"
    )
