"""Rules that cannot work are refused at save; rules that fail at evaluation say so.

A template function that raises (`{{ toUpper 5 }}`) is a 422 naming the field; a template
that fails only on real data still fires the alert (with Prometheus' error text) and puts the
rule in `health: err` with a `rule.evaluation_failed` event; slow rules are cut by the
per-rule query timeout and the per-tenant tick budget instead of delaying everyone.
"""

# ruff: noqa: F811  (test parameters named after the imported api/events fixtures)
from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

import pytest

from orchestrix import bootstrap
from orchestrix.adapters.postgres.alerting_components import evaluation_service, metric_reader
from orchestrix.adapters.postgres.alerting_components import repos as alerting_repos
from orchestrix.services.rule_evaluation import EvaluationBudget, EvaluationService
from tests.api.conftest import Client, token
from tests.api.test_alerting_api import (  # noqa: F401  (fixtures)
    RecordedEvents,
    api,
    events,
    import_metrics,
    minute,
)

PROBLEM = "application/problem+json"
RULES = "/api/v1/alert-rules"


@pytest.fixture
def tenant() -> str:
    return f"rh-{uuid.uuid4().hex[:10]}"


def create(api: Client, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = api.post(RULES, token(tenant), body)
    assert reply.status == 201, reply.body
    created: dict[str, Any] = reply.json
    return created


def rule(api: Client, tenant: str, rule_id: str) -> dict[str, Any]:
    found: dict[str, Any] = api.get(f"{RULES}/{rule_id}", token(tenant, "viewer")).json
    return found


def service(budget: EvaluationBudget, monotonic: Any = None) -> EvaluationService:
    kwargs = {"monotonic": monotonic} if monotonic else {}
    return EvaluationService(
        bootstrap.unit_of_work,
        alerting_repos,
        metric_reader,
        bootstrap.event_publisher(),
        budget=budget,
        **kwargs,
    )


def test_template_function_that_raises_is_422_naming_the_annotation(
    api: Client, tenant: str
) -> None:
    reply = api.post(
        RULES,
        token(tenant),
        {"name": "Upper", "expr": "up == 0", "annotations": {"summary": "{{ toUpper 5 }}"}},
    )

    assert reply.status == 422
    assert reply.content_type.startswith(PROBLEM)
    (error,) = reply.json["errors"]
    assert error["loc"] == ["body", "annotations", "summary"]
    assert "template fails on sample data" in error["msg"]
    assert api.get(RULES, token(tenant)).json["items"] == []


def test_label_template_that_raises_is_422_naming_the_label(api: Client, tenant: str) -> None:
    reply = api.post(
        RULES,
        token(tenant),
        {"name": "Len", "expr": "up == 0", "labels": {"team": "{{ len 5 }}"}},
    )

    assert reply.status == 422
    assert reply.json["errors"][0]["loc"] == ["body", "labels", "team"]


def test_templates_reading_labels_are_accepted(api: Client, tenant: str) -> None:
    create(
        api,
        tenant,
        {
            "name": "Fine",
            "expr": "up == 0",
            "annotations": {"summary": "{{ $labels.instance | toUpper }} {{ humanize $value }}"},
        },
    )


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("(" * 4000 + "up" + ")" * 4000, "nested too deeply"),
        ("1" + "+1" * 2000, "nested too deeply"),
        ('up{job=~"(a)\\\\1"}', "invalid regular expression"),
    ],
    ids=["4000-parentheses", "2000-operators", "backreference"],
)
def test_parser_killing_expressions_are_422_naming_expr(
    api: Client, tenant: str, expr: str, message: str
) -> None:
    reply = api.post(RULES, token(tenant), {"name": "Killer", "expr": expr})

    assert reply.status == 422
    assert reply.json["errors"][0]["loc"] == ["body", "expr"]
    assert message in reply.json["errors"][0]["msg"]


def test_expression_with_nul_is_422_naming_expr(api: Client, tenant: str) -> None:
    reply = api.post(RULES, token(tenant), {"name": "Nul", "expr": "up\x00 == 0"})

    assert reply.status == 422
    assert reply.content_type.startswith(PROBLEM)
    assert reply.json["detail"] == "body.expr: NUL characters are not allowed"


def test_silence_with_a_lookahead_matcher_is_422(api: Client, tenant: str) -> None:
    reply = api.post(
        "/api/v1/silences",
        token(tenant, "responder"),
        {
            "matchers": [{"name": "job", "op": "=~", "value": "(?=a)a"}],
            "ends_at": minute(60).isoformat(),
        },
    )

    assert reply.status == 422
    assert reply.json["errors"][0]["loc"] == ["body", "matchers"]
    assert "invalid regular expression" in reply.json["errors"][0]["msg"]


def test_template_error_at_evaluation_still_fires_and_sets_rule_health(
    api: Client, tenant: str, events: RecordedEvents
) -> None:
    t0 = minute()
    import_metrics(api, tenant, f'temp{{room="lab"}} 30 {int(t0.timestamp() * 1000)}\n')
    # passes at save (sample data), fails on the real label value "lab"
    created = create(
        api,
        tenant,
        {
            "name": "Hot",
            "expr": "temp > 20",
            "annotations": {"summary": "{{ humanize $labels.room }} is hot"},
        },
    )

    report = evaluation_service().tick(tenant, t0)

    assert report.fired == 1
    (alert,) = api.get("/api/v1/alerts?status=firing", token(tenant, "viewer")).json["items"]
    assert alert["annotations"]["summary"].startswith("<error expanding template:")
    after = rule(api, tenant, created["id"])
    assert after["health"] == "err"
    assert after["last_error"].startswith("error expanding annotations.summary:")
    assert events.of(tenant) == ["alert.fired", "rule.evaluation_failed"]
    failed = [d for t, kind, d in events.sent if t == tenant and kind == "rule.evaluation_failed"]
    assert failed[0]["rule_id"] == created["id"]
    assert failed[0]["last_error"] == after["last_error"]


def test_rule_over_its_query_timeout_reports_it_as_health(
    api: Client, tenant: str, events: RecordedEvents
) -> None:
    t0 = minute()
    import_metrics(api, tenant, f'temp{{room="a"}} 30 {int(t0.timestamp() * 1000)}\n')
    created = create(api, tenant, {"name": "Slow", "expr": "temp > 20"})

    report = service(EvaluationBudget(query_timeout_s=-1)).tick(tenant, t0)

    assert report.fired == 0
    after = rule(api, tenant, created["id"])
    assert after["health"] == "err"
    assert after["last_error"] == "query timed out in expression evaluation"
    assert events.of(tenant) == ["rule.evaluation_failed"]


def test_rules_past_the_tenant_tick_budget_are_skipped_with_a_reason(
    api: Client, tenant: str
) -> None:
    t0 = minute()
    import_metrics(api, tenant, f'temp{{room="a"}} 30 {int(t0.timestamp() * 1000)}\n')
    first = create(api, tenant, {"name": "First", "expr": "temp > 20", "group": "g"})
    second = create(api, tenant, {"name": "Second", "expr": "temp > 25", "group": "g"})
    seconds = itertools.count(0, 10)  # every clock reading is 10 s after the previous one

    report = service(EvaluationBudget(tick_s=15), lambda: float(next(seconds))).tick(tenant, t0)

    assert report.rules_evaluated == 1
    healths = {r["name"]: (r["health"], r["last_error"]) for r in (
        rule(api, tenant, first["id"]), rule(api, tenant, second["id"]))}  # fmt: skip
    assert healths["First"] == ("ok", None)
    assert healths["Second"][0] == "err"
    assert "evaluation budget of 15s per tick" in healths["Second"][1]


def test_rules_the_budget_left_out_go_first_next_time(api: Client, tenant: str) -> None:
    # given a tick where only First fitted the budget
    t0 = minute()
    import_metrics(api, tenant, f'temp{{room="a"}} 30 {int(t0.timestamp() * 1000)}\n')
    first = create(api, tenant, {"name": "First", "expr": "temp > 20", "group": "g"})
    second = create(api, tenant, {"name": "Second", "expr": "temp > 25", "group": "g"})
    seconds = itertools.count(0, 10)
    service(EvaluationBudget(tick_s=15), lambda: float(next(seconds))).tick(tenant, t0)

    # when the next tick has the same budget
    later = itertools.count(0, 10)
    report = service(EvaluationBudget(tick_s=15), lambda: float(next(later))).tick(
        tenant, t0 + timedelta(minutes=1)
    )

    # then Second, left out before, ran, and First waits its turn instead of Second starving
    assert report.rules_evaluated == 1
    assert rule(api, tenant, second["id"])["health"] == "ok"
    assert rule(api, tenant, first["id"])["health"] == "err"


def test_recovered_rule_goes_back_to_ok_with_an_event(
    api: Client, tenant: str, events: RecordedEvents
) -> None:
    t0 = minute()
    import_metrics(api, tenant, f'temp{{room="a"}} 30 {int(t0.timestamp() * 1000)}\n')
    created = create(api, tenant, {"name": "Flaky", "expr": "temp > 20"})
    service(EvaluationBudget(query_timeout_s=-1)).tick(tenant, t0)

    evaluation_service().tick(tenant, t0 + timedelta(minutes=1))

    assert rule(api, tenant, created["id"])["health"] == "ok"
    assert events.of(tenant) == [
        "rule.evaluation_failed",
        "alert.fired",
        "rule.evaluation_recovered",
    ]
