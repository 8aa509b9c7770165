"""The Loki query API through the gateway, POSTed as Grafana and logcli send it: the GET
parameters as an `application/x-www-form-urlencoded` body."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from tests.api.conftest import Client, Reply, token
from tests.api.test_logs_api import PROBLEM, S, ingest_key, now_ns, promtail_push

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post_form(api: Client, tenant: str, path: str, fields: Any, query: str = "") -> Reply:
    body = urlencode(fields).encode()
    url = f"/loki/api/v1/{path}" + (f"?{query}" if query else "")
    return api.post(url, token(tenant, "viewer"), raw=body, headers=FORM)


def get(api: Client, tenant: str, path: str, fields: Any) -> Reply:
    return api.get(f"/loki/api/v1/{path}?{urlencode(fields)}", token(tenant, "viewer"))


@pytest.fixture
def pushed(api: Client, tenants: tuple[str, str]) -> tuple[str, str, dict[str, str]]:
    """Two streams of tenant a with lines in a window, one of tenant b; (a, b, window)."""
    a, b = tenants
    t = (now_ns() // (60 * S) - 10) * 60 * S  # a whole minute, 10 minutes ago
    promtail_push(
        api,
        ingest_key(api, a),
        [
            ('{app="api", env="prod"}', [(t, "GET /a error"), (t + S, "GET /bb")]),
            ('{app="web", env="dev"}', [(t + 2 * S, "render error")]),
        ],
    )
    promtail_push(api, ingest_key(api, b), [('{app="api", env="prod"}', [(t, "theirs")])])
    return a, b, {"start": str(t - S), "end": str(t + 60 * S)}


def test_grafana_series_and_index_stats_posted_as_forms_answer_as_their_gets(
    api: Client, pushed: tuple[str, str, dict[str, str]]
) -> None:
    a, b, window = pushed
    selectors = [("match[]", '{env="prod"}'), ("match[]", '{app="web"}')]
    stats_query = {"query": '{env=~"prod|dev"} |= "GET"', **window}

    # when Grafana POSTs the series and the index stats of a query as forms
    series = post_form(api, a, "series", [*selectors, *window.items()])
    stats = post_form(api, a, "index/stats", stats_query)
    theirs = post_form(api, b, "series", [*selectors, *window.items()])

    # then each answers what the same GET answers: the tenant's own streams, counted
    assert series.status == 200, series.body
    assert series.json == {
        "status": "success",
        "data": [{"app": "api", "env": "prod"}, {"app": "web", "env": "dev"}],
    }
    assert series.json == get(api, a, "series", [*selectors, *window.items()]).json
    assert stats.status == 200, stats.body
    # (line filters aside, as in Loki: the selector's lines)
    assert stats.json == {"streams": 2, "chunks": 2, "entries": 3, "bytes": 12 + 7 + 12}
    assert stats.json == get(api, a, "index/stats", stats_query).json
    assert theirs.json == {"status": "success", "data": [{"app": "api", "env": "prod"}]}


def test_labels_values_and_queries_posted_as_forms(
    api: Client, pushed: tuple[str, str, dict[str, str]]
) -> None:
    a, _, window = pushed
    counts = 'sum by (app) (count_over_time({app=~".+"} |= "error" [1m]))'
    instant_at = str(int(window["end"]) - S)

    # when logcli and Grafana POST the label, value and query calls
    names = post_form(api, a, "labels", {"query": '{app="web"}', **window})
    values = post_form(api, a, "label/app/values", window)
    lines = post_form(api, a, "query_range", {"query": '{app="api"}', "limit": "1", **window})
    matrix = post_form(api, a, "query_range", {"query": counts, "step": "60", **window})
    instant = post_form(api, a, "query", {"query": counts, "time": instant_at})

    # then they answer as Loki does
    assert names.status == 200, names.body
    assert names.json["data"] == ["app", "env"]
    assert values.json["data"] == ["api", "web"]
    assert lines.status == 200, lines.body
    assert [s["values"] for s in lines.json["data"]["result"]] == [
        [[str(int(window["start"]) + 2 * S), "GET /bb"]]
    ]
    assert matrix.status == 200, matrix.body
    assert {s["metric"]["app"] for s in matrix.json["data"]["result"]} == {"api", "web"}
    assert matrix.json == get(api, a, "query_range", {"query": counts, "step": "60", **window}).json
    assert instant.status == 200, instant.body
    assert instant.json["data"]["resultType"] == "vector"


def test_form_fields_join_those_of_the_query_string(
    api: Client, pushed: tuple[str, str, dict[str, str]]
) -> None:
    a, _, window = pushed

    # when the window is in the URL and the selectors in the body
    series = post_form(api, a, "series", [("match[]", '{app="web"}')], query=urlencode(window))

    # then both count
    assert series.status == 200, series.body
    assert series.json["data"] == [{"app": "web", "env": "dev"}]


@pytest.mark.parametrize(
    ("path", "fields", "status", "field"),
    [
        ("index/stats", {"query": "sum("}, 400, "query"),
        ("series", {"start": "1"}, 400, "match[]"),
        ("series", {"match[]": '{app="a\x00"}'}, 400, "match[]"),
        ("query_range", {"query": '{app="a"}', "start": "yesterday"}, 400, "start"),
        ("query_range", {"query": '{app="a"}', "limit": "many"}, 422, "limit"),
        ("labels", {"since": "-5m"}, 400, "since"),
    ],
)
def test_a_bad_form_field_is_a_problem_naming_it(
    api: Client,
    tenants: tuple[str, str],
    path: str,
    fields: dict[str, str],
    status: int,
    field: str,
) -> None:
    a, _ = tenants

    reply = post_form(api, a, path, fields)

    assert reply.status == status, reply.body
    assert reply.content_type.startswith(PROBLEM)
    assert reply.json["errors"][0]["loc"] == ["query", field]


def test_a_form_that_is_not_utf8_is_a_client_error(api: Client, tenants: tuple[str, str]) -> None:
    a, _ = tenants

    reply = api.post(
        "/loki/api/v1/index/stats", token(a, "viewer"), raw=b"query=%7B\xff", headers=FORM
    )

    assert reply.status == 400, reply.body
    assert reply.json["errors"][0]["loc"] == ["query", "query"]


def test_a_form_needs_a_reader(api: Client, tenants: tuple[str, str]) -> None:
    a, _ = tenants
    key = ingest_key(api, a)

    reply = api.post("/loki/api/v1/labels", key, raw=b"since=1h", headers=FORM)

    assert reply.status == 403
