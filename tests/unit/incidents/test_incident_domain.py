"""Escalation order, alert grouping rules, status transitions and report arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, ValidationError

from orchestrix.adapters.http.routes.escalation_policies import IncidentSettingsIO, PolicyIn
from orchestrix.adapters.http.routes.incidents import IncidentCreate, IncidentPatch
from orchestrix.domain.errors import Conflict
from orchestrix.domain.escalation import (
    EXHAUSTED_LEVEL,
    FIRST_STEP,
    EscalationPolicy,
    Level,
    Step,
    Target,
    next_step,
    schedule_name,
)
from orchestrix.domain.incidents import (
    AlertSnapshot,
    Incident,
    IncidentSettings,
    IncidentStatus,
    Severity,
    check_transition,
    severity_of,
)
from orchestrix.services.incident_reports import summarise

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def policy(levels: int, repeat: int) -> EscalationPolicy:
    level = Level(delay_minutes=5, targets=(Target(type="member", id="m"),))
    return EscalationPolicy("esc_1", "t", "p", "", repeat, None, (level,) * levels, T0, T0, "me")


def walk(p: EscalationPolicy) -> list[tuple[int, int]]:
    steps, step = [], FIRST_STEP
    while step is not None:
        steps.append((step.round, step.level))
        step = next_step(p, step)
    return steps


def test_two_levels_repeated_once_run_twice_then_tell_the_owner():
    assert walk(policy(2, 1)) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, EXHAUSTED_LEVEL)]


def test_single_level_without_repeat_goes_straight_to_the_owner():
    assert walk(policy(1, 0)) == [(0, 0), (0, EXHAUSTED_LEVEL)]


def test_schedule_names_differ_per_incident_level_and_round_and_fit_scheduler_limits():
    names = {schedule_name("inc_01abc", Step(r, lv)) for r in range(3) for lv in (-1, 0, 1)}
    assert len(names) == 9
    assert all(len(n) <= 64 for n in names)


def test_alert_parse_reads_event_detail_and_label_severity():
    parsed = AlertSnapshot.parse(
        {
            "tenant_id": "t",
            "alert": {
                "fingerprint": "abc",
                "labels": {"alertname": "Down", "service": "api", "severity": "Critical"},
                "annotations": {"summary": "API is down"},
            },
            "escalation_policy_id": "esc_9",
        }
    )
    assert (parsed.id, parsed.severity, parsed.title) == ("abc", "critical", "API is down")
    assert parsed.escalation_policy_id == "esc_9"
    assert severity_of(parsed) is Severity.SEV1


def test_grouping_key_uses_the_configured_labels_only():
    settings = IncidentSettings(group_by=("alertname", "service"))
    a = settings.group_key({"alertname": "Down", "service": "api", "instance": "1"})
    b = settings.group_key({"alertname": "Down", "service": "api", "instance": "2"})
    c = settings.group_key({"alertname": "Down", "service": "web"})
    assert a == b != c


def test_policy_choice_prefers_alert_then_service_then_default():
    settings = IncidentSettings(
        default_escalation_policy_id="dflt", service_policies={"api": "svc"}
    )
    assert settings.policy_for("own", "api") == "own"
    assert settings.policy_for(None, "api") == "svc"
    assert settings.policy_for(None, "web") == "dflt"


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (IncidentStatus.RESOLVED, IncidentStatus.ACKNOWLEDGED),
        (IncidentStatus.ACKNOWLEDGED, IncidentStatus.ACKNOWLEDGED),
        (IncidentStatus.MITIGATED, IncidentStatus.TRIGGERED),
    ],
)
def test_status_only_moves_forward(current: IncidentStatus, wanted: IncidentStatus):
    with pytest.raises(Conflict):
        check_transition(current, wanted)


def incident(ack_after: int | None, resolve_after: int | None) -> Incident:
    def at(minutes: int | None) -> datetime | None:
        return None if minutes is None else T0 + timedelta(minutes=minutes)

    return Incident(
        *("inc", "t", "x", "", Severity.SEV2, IncidentStatus.RESOLVED, None, None, None, None),
        roles={},
        labels={},
        alert_count=0,
        created_by="me",
        triggered_at=T0,
        acknowledged_at=at(ack_after),
        resolved_at=at(resolve_after),
    )


def test_mtta_counts_acknowledged_incidents_and_mttr_resolved_ones():
    stats = summarise([incident(2, 10), incident(4, None), incident(None, 30)])
    assert (stats.count, stats.acknowledged, stats.resolved) == (3, 2, 2)
    assert stats.mtta_seconds == 180.0
    assert stats.mttr_seconds == 1200.0


def test_alert_events_on_the_orchestrix_bus_reach_incident_intake():
    from orchestrix import wiring
    from orchestrix.local.event_rules import LocalEventDispatcher

    invoked: list[str] = []
    dispatcher = LocalEventDispatcher(lambda fn, event: invoked.append(fn), wiring.EVENT_RULES)
    for detail_type in ("alert.fired", "alert.resolved", "incident.triggered"):
        envelope = {"source": "orchestrix", "detail-type": detail_type, "detail": {}}
        dispatcher.dispatch("orchestrix-local", envelope)

    assert invoked.count("incident_events") == 2


LEVEL = {"delay_minutes": 5, "targets": [{"type": "member", "id": "mem_1"}]}


@pytest.mark.parametrize(
    ("model", "body", "loc"),
    [
        (PolicyIn, {"name": "p", "levels": [LEVEL], "owner_member_id": ""}, ("owner_member_id",)),
        (PolicyIn, {"name": "p", "levels": [LEVEL], "owner_member_id": "  "}, ("owner_member_id",)),
        (
            IncidentSettingsIO,
            {"default_escalation_policy_id": ""},
            ("default_escalation_policy_id",),
        ),
        (IncidentSettingsIO, {"service_policies": {"api": ""}}, ("service_policies", "api")),
        (
            IncidentSettingsIO,
            {"service_policies": {"": "esc_1"}},
            ("service_policies", "", "[key]"),
        ),
        (IncidentCreate, {"title": "x", "team_id": ""}, ("team_id",)),
        (IncidentCreate, {"title": "x", "escalation_policy_id": ""}, ("escalation_policy_id",)),
        (IncidentPatch, {"team_id": ""}, ("team_id",)),
    ],
)
def test_empty_ids_in_policy_settings_and_incident_bodies_are_refused_naming_the_field(
    model: type[BaseModel], body: dict[str, object], loc: tuple[str, ...]
):
    # The API answers these body errors with 422 at ["body", *loc].
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    assert [e["loc"] for e in refused.value.errors()] == [loc]


def test_omitted_or_null_ids_still_mean_none():
    assert PolicyIn.model_validate({"name": "p", "levels": [LEVEL]}).owner_member_id is None
    assert IncidentSettingsIO.model_validate({}).default_escalation_policy_id is None
    created = IncidentCreate.model_validate({"title": "x", "team_id": None})
    assert (created.team_id, IncidentPatch.model_validate({}).team_id) == (None, None)
