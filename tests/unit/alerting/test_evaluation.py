"""Rule evaluation follows Prometheus' pending/firing/resolved semantics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrix.domain.alerting.evaluation import (
    ActiveState,
    DuplicateLabelSet,
    ResultSample,
    StepResult,
    step,
)
from orchestrix.domain.alerting.rules import AlertRule, ThresholdSpec

T0 = datetime(2026, 1, 1, tzinfo=UTC)
UP = ResultSample({"__name__": "up", "instance": "a"}, 0.0)


def rule(**kw: object) -> AlertRule:
    return AlertRule(id="rule_1", tenant_id="t", name="InstanceDown", expr="up == 0", **kw)  # type: ignore[arg-type]


def run(r: AlertRule, series: list[list[ResultSample]]) -> list[StepResult]:
    states: dict[str, ActiveState] = {}
    out = []
    for minute, samples in enumerate(series):
        result = step(r, samples, states, T0 + timedelta(minutes=minute))
        states = result.states
        out.append(result)
    return out


def test_alert_is_pending_until_for_has_passed_then_fires_once() -> None:
    results = run(rule(for_s=120), [[UP], [UP], [UP], [UP]])
    assert [s.state for r in results for s in r.states.values()] == [
        "pending",
        "pending",
        "firing",
        "firing",
    ]
    assert [len(r.fired) for r in results] == [0, 0, 1, 0]


def test_alert_without_for_fires_at_first_evaluation() -> None:
    assert len(run(rule(), [[UP]])[0].fired) == 1


def test_vanished_pending_alert_is_dropped_without_resolving() -> None:
    results = run(rule(for_s=300), [[UP], []])
    assert results[1].states == {} and results[1].resolved == []


def test_firing_alert_resolves_when_series_stops() -> None:
    results = run(rule(), [[UP], []])
    assert len(results[1].resolved) == 1


def test_keep_firing_for_holds_the_alert_then_resolves() -> None:
    results = run(rule(keep_firing_for_s=120), [[UP], [], [], []])
    assert [len(r.firing) for r in results] == [0, 1, 1, 0]
    assert len(results[3].resolved) == 1


def test_labels_are_templated_and_alertname_added() -> None:
    r = rule(labels={"severity": "page", "where": "{{ $labels.instance }}", "gone": '{{ "" }}'})
    state = next(iter(run(r, [[UP]])[0].states.values()))
    assert state.labels == {
        "alertname": "InstanceDown",
        "instance": "a",
        "severity": "page",
        "where": "a",
    }


def test_same_labels_after_templating_is_an_error() -> None:
    other = ResultSample({"__name__": "up2", "instance": "a"}, 0.0)
    with pytest.raises(DuplicateLabelSet):
        step(rule(), [UP, other], {}, T0)


def test_threshold_form_compiles_to_promql() -> None:
    spec = ThresholdSpec("latency_seconds", ">=", 0.5, "max", by=("service",))
    assert spec.to_promql() == "max by (service) (latency_seconds) >= 0.5"
