"""Correlation inside alert intake and analysis on opening, against the real PostgreSQL:
topology joins, inhibition, count rules, and the summary carried by the first page."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from orchestrix.adapters.clock import AdjustableClock
from orchestrix.adapters.postgres.alerting_components import repos
from orchestrix.adapters.postgres.incident_components import STORES
from orchestrix.adapters.postgres.intelligence_components import STORES as INTEL
from orchestrix.domain.alerting.alerts import AlertSignal
from orchestrix.domain.alerting.matchers import Matcher
from orchestrix.domain.escalation import EscalationPolicy, Level, Target, TargetType
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.incidents import AlertSnapshot
from orchestrix.domain.intelligence.correlation import (
    CorrelationRule,
    CorrelationSettings,
    InhibitionRule,
)
from orchestrix.domain.intelligence.evidence import Change
from orchestrix.domain.intelligence.topology import Service
from orchestrix.domain.notifications import Notice
from orchestrix.ports.language_model import LanguageModelError, ModelReply
from orchestrix.services.alert_intake import apply_signals
from orchestrix.services.escalation import EscalationService
from orchestrix.services.incident_analysis import IncidentAnalysisService
from orchestrix.services.incidents import IncidentService
from orchestrix.services.model_allowance import ModelBudget
from orchestrix.services.sla import SlaService

# Alert intake places alerts with the service graph observed in traces (bootstrap's store).
pytestmark = pytest.mark.usefixtures("bootstrap_database")


class Pager:
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def notify_member(
        self, tenant_id: str, member_id: str, notice: Notice, actor: str
    ) -> list[str]:
        self.notices.append(notice)
        return ["ntf"]

    def cancel_pending(self, tenant_id: str, context_key: str, context_value: str) -> int:
        return 0


class Nothing:
    def schedule(self, *args: Any) -> None: ...

    def cancel(self, name: str) -> bool:
        return True

    def publish(self, *args: Any) -> None: ...


@pytest.fixture
def world(uow, clock: AdjustableClock):  # type: ignore[no-untyped-def]
    pager, nothing = Pager(), Nothing()
    escalation = EscalationService(uow, STORES, pager, nothing, nothing, clock)
    sla = SlaService(uow, STORES, nothing, nothing, clock)
    analyst = IncidentAnalysisService(uow, STORES, INTEL, clock)
    return IncidentService(uow, STORES, escalation, sla, nothing, clock, analyst), pager


def fire(uow, tenant: str, clock: AdjustableClock, name: str, **labels: str) -> AlertSnapshot:  # type: ignore[no-untyped-def]
    """Store a firing alert as alert intake does, and hand back what its event carries."""
    signal = AlertSignal(
        labels={"alertname": name, **labels}, firing=True, source="api", at=clock.now()
    )
    with uow(tenant) as u:
        (change,) = apply_signals(u, repos(u), [signal], clock.now())
        u.commit()
    return AlertSnapshot.parse({**change.alert.snapshot(), "suppressed": False})


def configure(
    uow, tenant: str, clock: AdjustableClock, settings: CorrelationSettings, *services: Service
) -> None:  # type: ignore[no-untyped-def]
    with uow(tenant) as u:
        INTEL.correlation(u).save(settings, clock.now())
        for s in services:
            INTEL.services(u).put(s, clock.now())
        u.commit()


def test_alerts_along_the_dependency_chain_join_one_incident(world, uow, tenant, clock):  # type: ignore[no-untyped-def]
    incidents, _ = world
    graph = (Service("web", ("api",)), Service("api", ("db",)), Service("db"))
    configure(uow, tenant, clock, CorrelationSettings(), *graph)
    first = incidents.on_alert_fired(
        tenant, fire(uow, tenant, clock, "DiskFull", service="db", severity="critical")
    )
    clock.advance(timedelta(minutes=1))

    joined = incidents.on_alert_fired(
        tenant, fire(uow, tenant, clock, "Latency", service="api", severity="critical")
    )
    unrelated = incidents.on_alert_fired(
        tenant, fire(uow, tenant, clock, "Down", service="mail", severity="critical")
    )
    # web is two hops from db but one from api, whose alert the incident already holds
    caller = incidents.on_alert_fired(
        tenant, fire(uow, tenant, clock, "Slow", service="web", severity="critical")
    )

    assert first is not None and joined is not None and unrelated is not None
    assert joined.id == first.id and joined.alert_count == 2
    assert caller is not None and caller.id == first.id and caller.alert_count == 3
    assert unrelated.id != first.id
    with uow(tenant) as u:
        notes = [e.message for e in STORES.incidents(u).timeline(first.id)]
    assert any("api is 1 hop(s) from db" in n for n in notes)
    assert any("web is 1 hop(s) from api" in n for n in notes)


def test_an_inhibited_alert_joins_its_inhibitors_incident_and_pages_nobody_new(
    world, uow, tenant, clock
):  # type: ignore[no-untyped-def]
    incidents, _ = world
    rule = InhibitionRule(
        (Matcher("alertname", "=", "ClusterDown"),),
        (Matcher("alertname", "!=", "ClusterDown"),),
        ("cluster",),
    )
    configure(uow, tenant, clock, CorrelationSettings(inhibit_rules=(rule,), topology_hops=0))
    source = incidents.on_alert_fired(
        tenant, fire(uow, tenant, clock, "ClusterDown", cluster="c1", severity="critical")
    )

    muted = incidents.on_alert_fired(
        tenant, fire(uow, tenant, clock, "PodCrash", cluster="c1", service="x", severity="critical")
    )
    other = incidents.on_alert_fired(
        tenant, fire(uow, tenant, clock, "PodCrash", cluster="c2", service="x", severity="critical")
    )

    assert source is not None and muted is not None and other is not None
    assert muted.id == source.id
    assert other.id != source.id


def test_a_count_rule_opens_one_incident_at_the_third_alert_with_all_three(
    world, uow, tenant, clock
):  # type: ignore[no-untyped-def]
    incidents, _ = world
    rule = CorrelationRule(
        "disk", (Matcher("alertname", "=", "DiskFull"),), ("dc",), timedelta(minutes=10), 3
    )
    configure(uow, tenant, clock, CorrelationSettings(rules=(rule,), topology_hops=0))

    opened = [
        incidents.on_alert_fired(
            tenant, fire(uow, tenant, clock, "DiskFull", dc="d1", host=f"h{n}", severity="critical")
        )
        for n in range(4)
    ]

    assert opened[0] is None and opened[1] is None
    assert opened[2] is not None and opened[2].alert_count == 3
    assert opened[3] is not None and opened[3].id == opened[2].id
    assert opened[2].group_key == "rule:disk:dc=d1"


def test_the_first_page_carries_the_analysis_summary_naming_the_change(world, uow, tenant, clock):  # type: ignore[no-untyped-def]
    incidents, pager = world
    configure(uow, tenant, clock, CorrelationSettings(), Service("web", ("api",)), Service("api"))
    now = clock.now()
    level = Level(delay_minutes=5, targets=(Target(type=TargetType.MEMBER, id="mem_a"),))
    with uow(tenant) as u:
        INTEL.changes(u).add(
            Change("chg_api_v2", "api", "deployment", "api v2", now - timedelta(minutes=4)),
            "t",
            now,
        )
        STORES.policies(u).add(
            EscalationPolicy("esc_1", tenant, "p", "", 0, None, (level,), now, now, "t")
        )
        u.commit()
    fire(uow, tenant, clock, "Errors", service="api", severity="warning")  # evidence, no page
    clock.advance(timedelta(minutes=1))

    paging = replace(
        fire(uow, tenant, clock, "Down", service="web", severity="critical"),
        escalation_policy_id="esc_1",
    )
    opened = incidents.on_alert_fired(tenant, paging)

    assert opened is not None
    (notice,) = pager.notices
    assert "Analysis: Most likely cause: api" in notice.text
    assert "chg_api_v2" in notice.text
    with uow(tenant) as u:
        stored = STORES.incidents(u).get(opened.id)
        analysis = INTEL.analyses(u).get(opened.id)
    assert stored is not None and stored.summary and "chg_api_v2" in stored.summary
    assert analysis is not None and analysis.analyser == "offline"
    assert analysis.note == "no model configured"


class CountingModel:
    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.calls = 0

    def converse(self, *, system: str, prompt: str, max_output_tokens: int) -> ModelReply:
        self.calls += 1
        return ModelReply(self.answer, 900, 50, "m-test")


def test_a_tenant_over_its_daily_budget_gets_the_offline_analysis(uow, tenant, clock):  # type: ignore[no-untyped-def]
    other = f"{tenant}-b"
    ids = {}
    for t in (tenant, other):
        fire(uow, t, clock, "Down", service="web", severity="critical")
        ids[t] = _manual_incident(uow, t, clock)
    model = CountingModel("web broke [alr_made_up].")
    budget = ModelBudget(daily_tokens=1_100, max_output_tokens=100)
    service = IncidentAnalysisService(uow, STORES, INTEL, clock, model, budget)
    boss = Principal(tenant, "ada", frozenset({Role.RESPONDER}))

    first = service.analyse(boss, ids[tenant])
    second = service.analyse(boss, ids[tenant])
    elsewhere = service.analyse(Principal(other, "bo", frozenset({Role.RESPONDER})), ids[other])

    assert first.stored is not None and first.stored.note == "model answer had no cited claim"
    assert (first.stored.analyser, first.stored.input_tokens) == ("offline", 900)
    assert first.stored.dropped[0]["reason"] == "cites unknown ids alr_made_up"
    assert second.stored is not None and second.stored.analyser == "offline"
    assert second.stored.note == "model budget for today spent"
    assert elsewhere.stored is not None and elsewhere.stored.note != "model budget for today spent"
    assert model.calls == 2  # tenant's first call and the other tenant's; never the refused one
    with uow(tenant) as u:
        spent = INTEL.usage(u).on(clock.now().date())
    assert (spent.calls, spent.input_tokens, spent.output_tokens) == (1, 900, 50)


def _manual_incident(uow, t: str, clock: AdjustableClock) -> str:  # type: ignore[no-untyped-def]
    from orchestrix.domain.incidents import Incident, IncidentStatus, Severity

    now = clock.now()
    incident = Incident(
        id=f"inc_{t}",
        tenant_id=t,
        title="web down",
        description="",
        severity=Severity.SEV2,
        status=IncidentStatus.TRIGGERED,
        service="web",
        team_id=None,
        escalation_policy_id=None,
        group_key=None,
        roles={},
        labels={},
        alert_count=0,
        created_by="t",
        triggered_at=now,
        updated_at=now,
    )
    with uow(t) as u:
        STORES.incidents(u).add(incident)
        u.commit()
    return incident.id


class FailingModel:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def converse(self, *, system: str, prompt: str, max_output_tokens: int) -> ModelReply:
        raise self.error


@pytest.mark.parametrize(
    ("error", "note"),
    [
        (
            LanguageModelError("bedrock ThrottlingException"),
            "model unavailable: bedrock ThrottlingException",
        ),
        (RuntimeError("bug"), "model unavailable: adapter error"),
    ],
)
def test_a_failing_model_leaves_the_offline_summary_and_says_why(uow, tenant, clock, error, note):  # type: ignore[no-untyped-def]
    fire(uow, tenant, clock, "Down", service="web", severity="critical")
    incident_id = _manual_incident(uow, tenant, clock)
    service = IncidentAnalysisService(uow, STORES, INTEL, clock, FailingModel(error))

    view = service.analyse(Principal(tenant, "ada", frozenset({Role.RESPONDER})), incident_id)

    assert view.stored is not None and view.stored.note == note
    assert view.stored.analyser == "offline" and view.stored.summary.startswith(
        "Most likely cause: web"
    )
    assert view.incident.summary == view.stored.summary


def test_the_summary_is_redone_as_alerts_join_at_two_four_eight(world, uow, tenant, clock):  # type: ignore[no-untyped-def]
    # Given an incident opened by the web tier's alert, before anything pointed below it
    incidents, _ = world
    graph = (Service("web", ("api",)), Service("api", ("db",)), Service("db"))
    configure(uow, tenant, clock, CorrelationSettings(), *graph)
    opened = incidents.on_alert_fired(
        tenant, fire(uow, tenant, clock, "Slow", service="web", severity="critical")
    )
    assert opened is not None and "chg_db" not in str(opened.summary)

    # When a database deployment lands and the database's own alert joins as the second
    clock.advance(timedelta(minutes=1))
    with uow(tenant) as u:
        INTEL.changes(u).add(
            Change("chg_db_migrate", "db", "deployment", "db schema migration", clock.now()),
            "t",
            clock.now(),
        )
        u.commit()
    clock.advance(timedelta(minutes=1))
    second = incidents.on_alert_fired(
        tenant, fire(uow, tenant, clock, "Latency", service="api", severity="critical")
    )
    with uow(tenant) as u:
        after_two = STORES.incidents(u).get(opened.id)

    # Then the summary now names the change below, and the next alerts redo it at four only
    for n in range(2):
        incidents.on_alert_fired(
            tenant, fire(uow, tenant, clock, f"Errors{n}", service="api", severity="critical")
        )
    with uow(tenant) as u:
        analyses = [
            e
            for e in u.conn.execute(  # type: ignore[attr-defined]
                "SELECT action FROM audit_log WHERE resource_id = %s AND action = %s",
                (opened.id, "incident.analyse"),
            )
        ]
        final = STORES.incidents(u).get(opened.id)
    assert second is not None and second.id == opened.id
    assert after_two is not None and after_two.summary and "chg_db_migrate" in after_two.summary
    assert final is not None and final.alert_count == 4
    assert len(analyses) == 3  # on opening, at the second alert and at the fourth
