"""Incidents: open them (by hand or from alerts), work them, and close them.

Alert intake groups alerts: a firing alert of an incident-worthy severity joins the open
incident of its group (same `group_by` label values, last alert within the window) or opens
one. An advisory lock per group key makes 200 simultaneous alerts of one outage one incident.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

from orchestrix.domain.errors import NotFound, ValidationFailed
from orchestrix.domain.escalation import FIRST_STEP
from orchestrix.domain.identity import Principal
from orchestrix.domain.identity import Role as AccessRole
from orchestrix.domain.ids import new_id
from orchestrix.domain.incidents import (
    AlertSnapshot,
    Incident,
    IncidentSettings,
    IncidentStatus,
    Severity,
    TimelineEntry,
    TimelineKind,
    check_transition,
    severity_of,
)
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.ports.clock import Clock
from orchestrix.ports.events import EventPublisher
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from orchestrix.services.escalation import EscalationService
from orchestrix.services.incident_stores import IncidentStores, timeline_entry
from orchestrix.services.sla import SlaService, missed

ALERTS_ACTOR: Final = "system:alerts"


@dataclass(frozen=True)
class NewIncident:
    title: str
    severity: Severity
    description: str = ""
    service: str | None = None
    team_id: str | None = None
    escalation_policy_id: str | None = None
    roles: dict[str, str] | None = None


@dataclass(frozen=True)
class IncidentChanges:
    """PATCH: only the fields given change; `roles` entries merge (empty string removes)."""

    title: str | None = None
    description: str | None = None
    severity: Severity | None = None
    service: str | None = None
    team_id: str | None = None
    roles: dict[str, str] | None = None
    status: IncidentStatus | None = None


class IncidentService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        stores: IncidentStores,
        escalation: EscalationService,
        sla: SlaService,
        events: EventPublisher,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._stores = stores
        self._escalation = escalation
        self._sla = sla
        self._events = events
        self._clock = clock

    # -- opening -------------------------------------------------------------------------------

    def create(
        self, principal: Principal, spec: NewIncident, request_id: str | None = None
    ) -> Incident:
        principal.require_role(AccessRole.RESPONDER)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            settings = self._stores.settings(uow).get()
            policy_id = spec.escalation_policy_id or settings.policy_for(None, spec.service)
            if spec.escalation_policy_id and not self._stores.policies(uow).get(policy_id or ""):
                raise ValidationFailed.single(
                    ("body", "escalation_policy_id"), "no such escalation policy"
                )
            now = self._clock.now()
            incident = Incident(
                id=new_id("inc", int(now.timestamp() * 1000)),
                tenant_id=principal.tenant_id,
                title=spec.title,
                description=spec.description,
                severity=spec.severity,
                status=IncidentStatus.TRIGGERED,
                service=spec.service,
                team_id=spec.team_id,
                escalation_policy_id=policy_id,
                group_key=None,
                roles=dict(spec.roles or {}),
                labels={},
                alert_count=0,
                created_by=principal.actor,
                triggered_at=now,
                updated_at=now,
            )
            self._open(uow, incident, f"opened by {principal.actor}")
            uow.commit()
        self._after_open(incident, settings)
        return incident

    def on_alert_fired(self, tenant_id: str, alert: AlertSnapshot) -> Incident | None:
        """An alert fired: join its group's open incident, or open one. None: not incident-
        worthy (severity, suppression)."""
        with self._uow(tenant_id, ALERTS_ACTOR) as uow:
            settings = self._stores.settings(uow).get()
            if not settings.opens_incident(alert):
                return None
            repo = self._stores.incidents(uow)
            key = settings.group_key(alert.labels)
            repo.lock_group(key)
            now = self._clock.now()
            existing = repo.open_in_group(key, now - settings.window)
            if existing is not None:
                joined = self._join(uow, existing, alert)
                uow.commit()
                return joined
            service = alert.labels.get("service")
            named = alert.escalation_policy_id
            if named and self._stores.policies(uow).get(named) is None:
                # The rule names a policy deleted since (or another tenant's): fall back to
                # the service mapping or the tenant default rather than page nobody.
                named = None
            incident = Incident(
                id=new_id("inc", int(now.timestamp() * 1000)),
                tenant_id=tenant_id,
                title=alert.title,
                description=alert.annotations.get("description", ""),
                severity=severity_of(alert),
                status=IncidentStatus.TRIGGERED,
                service=service,
                team_id=alert.labels.get("team"),
                escalation_policy_id=settings.policy_for(named, service),
                group_key=key,
                roles={},
                labels=dict(alert.labels),
                alert_count=1,
                created_by=ALERTS_ACTOR,
                triggered_at=now,
                last_alert_at=now,
                updated_at=now,
            )
            self._open(uow, incident, f"opened by alert {alert.title}")
            repo.link_alert(incident.id, alert, now)
            uow.commit()
        self._after_open(incident, settings)
        return incident

    def on_alert_resolved(self, tenant_id: str, alert: AlertSnapshot) -> list[str]:
        """An alert stopped firing: note it on the incidents it belongs to (they stay open)."""
        with self._uow(tenant_id, ALERTS_ACTOR) as uow:
            now = self._clock.now()
            repo = self._stores.incidents(uow)
            incident_ids = repo.resolve_alert(alert.id, now)
            for incident_id in incident_ids:
                message = f"alert {alert.title} resolved"
                entry = timeline_entry(
                    incident_id,
                    TimelineKind.ALERT_RESOLVED,
                    ALERTS_ACTOR,
                    message,
                    now,
                    {"alert_id": alert.id},
                )
                repo.add_timeline(entry)
                uow.record(
                    "incident.alert_resolved", "incident", incident_id, None, {"alert": alert.id}
                )
            uow.commit()
        return incident_ids

    # -- working -------------------------------------------------------------------------------

    def acknowledge(
        self, principal: Principal, incident_id: str, request_id: str | None = None
    ) -> Incident:
        return self._transition(principal, incident_id, IncidentStatus.ACKNOWLEDGED, request_id)

    def resolve(
        self, principal: Principal, incident_id: str, request_id: str | None = None
    ) -> Incident:
        return self._transition(principal, incident_id, IncidentStatus.RESOLVED, request_id)

    def update(
        self,
        principal: Principal,
        incident_id: str,
        changes: IncidentChanges,
        request_id: str | None = None,
    ) -> Incident:
        principal.require_role(AccessRole.RESPONDER)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._stores.incidents(uow)
            before = repo.lock(incident_id)
            if before is None:
                raise NotFound("incident", incident_id)
            roles = dict(before.roles)
            for role, holder in (changes.roles or {}).items():
                if holder:
                    roles[role] = holder
                else:
                    roles.pop(role, None)
            fields: dict[str, Any] = {
                k: v
                for k, v in {
                    "title": changes.title,
                    "description": changes.description,
                    "severity": changes.severity,
                    "service": changes.service,
                    "team_id": changes.team_id,
                }.items()
                if v is not None
            }
            after = replace(before, **fields, roles=roles, updated_at=self._clock.now())
            repo.save(after)
            now = self._clock.now()
            if fields:
                message = "changed " + ", ".join(sorted(fields))
                repo.add_timeline(
                    timeline_entry(incident_id, TimelineKind.UPDATED, principal.actor, message, now)
                )
            for role, holder in (changes.roles or {}).items():
                message = f"{role}: {holder or 'unassigned'}"
                repo.add_timeline(
                    timeline_entry(
                        incident_id,
                        TimelineKind.ROLE_ASSIGNED,
                        principal.actor,
                        message,
                        now,
                        {"role": role, "holder": holder or None},
                    )
                )
            uow.record(
                "incident.update", "incident", incident_id, before.snapshot(), after.snapshot()
            )
            uow.commit()
        if changes.status is not None and changes.status is not after.status:
            return self._transition(principal, incident_id, changes.status, request_id)
        return after

    def add_note(
        self, principal: Principal, incident_id: str, text: str, request_id: str | None = None
    ) -> TimelineEntry:
        principal.require_role(AccessRole.RESPONDER)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._stores.incidents(uow)
            if repo.get(incident_id) is None:
                raise NotFound("incident", incident_id)
            entry = timeline_entry(
                incident_id, TimelineKind.NOTE, principal.actor, text, self._clock.now()
            )
            repo.add_timeline(entry)
            uow.record("incident.note", "incident", incident_id, None, {"note": entry.id})
            uow.commit()
        return entry

    # -- reading -------------------------------------------------------------------------------

    def get(self, principal: Principal, incident_id: str) -> tuple[Incident, list[dict[str, Any]]]:
        principal.require_role(AccessRole.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            repo = self._stores.incidents(uow)
            incident = repo.get(incident_id)
            if incident is None:
                raise NotFound("incident", incident_id)
            return incident, repo.alerts(incident_id)

    def search(
        self,
        principal: Principal,
        page: PageRequest,
        status: str | None = None,
        severity: str | None = None,
        service: str | None = None,
    ) -> Page[Incident]:
        principal.require_role(AccessRole.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._stores.incidents(uow).search(page, status, severity, service)

    def timeline(self, principal: Principal, incident_id: str) -> list[TimelineEntry]:
        principal.require_role(AccessRole.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            repo = self._stores.incidents(uow)
            if repo.get(incident_id) is None:
                raise NotFound("incident", incident_id)
            return repo.timeline(incident_id)

    # -- internals -----------------------------------------------------------------------------

    def _open(self, uow: UnitOfWork, incident: Incident, message: str) -> None:
        repo = self._stores.incidents(uow)
        repo.add(incident)
        repo.add_timeline(
            timeline_entry(
                incident.id,
                TimelineKind.TRIGGERED,
                incident.created_by,
                message,
                incident.triggered_at,
                {"severity": incident.severity.value},
            )
        )
        uow.record("incident.trigger", "incident", incident.id, None, incident.snapshot())
        self._escalation.begin(uow, incident)

    def _after_open(self, incident: Incident, settings: IncidentSettings) -> None:
        self._events.publish(
            incident.tenant_id, "incident.triggered", {"incident": incident.snapshot()}
        )
        self._sla.plan(incident, settings)
        if incident.escalation_policy_id:
            self._escalation.run_step(incident.tenant_id, incident.id, FIRST_STEP)

    def _join(self, uow: UnitOfWork, incident: Incident, alert: AlertSnapshot) -> Incident:
        repo = self._stores.incidents(uow)
        now = self._clock.now()
        linked = repo.link_alert(incident.id, alert, now)
        joined = replace(
            incident,
            alert_count=incident.alert_count + (1 if linked else 0),
            last_alert_at=now,
            updated_at=now,
        )
        repo.save(joined)
        if linked:
            repo.add_timeline(
                timeline_entry(
                    incident.id,
                    TimelineKind.ALERT_LINKED,
                    ALERTS_ACTOR,
                    f"alert {alert.title} joined",
                    now,
                    {"alert_id": alert.id, "fingerprint": alert.fingerprint},
                )
            )
            uow.record("incident.alert_linked", "incident", incident.id, None, {"alert": alert.id})
        return joined

    def _transition(
        self,
        principal: Principal,
        incident_id: str,
        wanted: IncidentStatus,
        request_id: str | None,
    ) -> Incident:
        principal.require_role(AccessRole.RESPONDER)
        breaches: list[str] = []
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._stores.incidents(uow)
            before = repo.lock(incident_id)
            if before is None:
                raise NotFound("incident", incident_id)
            check_transition(before.status, wanted)
            now = self._clock.now()
            after = _moved(before, wanted, principal.actor, now)
            repo.save(after)
            settings = self._stores.settings(uow).get()
            for kind in _sla_kinds(wanted):
                # Resolving an incident acknowledged in time is no late acknowledgement.
                reached = (after.acknowledged_at if kind == "ack" else None) or now
                if missed(after, settings, kind, reached):
                    after = self._sla.breach(uow, after, kind)
                    breaches.append(kind)
            repo.add_timeline(
                timeline_entry(
                    incident_id,
                    TimelineKind(wanted.value),
                    principal.actor,
                    f"{wanted.value} by {principal.actor}",
                    now,
                )
            )
            uow.record(
                f"incident.{wanted.value}",
                "incident",
                incident_id,
                before.snapshot(),
                after.snapshot(),
            )
            stopped = self._escalation.stop(uow, incident_id)
            uow.commit()
        self._escalation.after_stop(principal.tenant_id, incident_id, stopped)
        if wanted is IncidentStatus.RESOLVED:
            self._sla.cancel(incident_id, ("ack", "resolve"))
        for kind in breaches:
            self._sla.published(principal.tenant_id, after, kind)  # type: ignore[arg-type]
        if wanted in (IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED):
            self._events.publish(
                principal.tenant_id, f"incident.{wanted.value}", {"incident": after.snapshot()}
            )
        return after


def _moved(incident: Incident, wanted: IncidentStatus, actor: str, now: Any) -> Incident:
    changes: dict[str, Any] = {"status": wanted, "updated_at": now}
    if wanted is IncidentStatus.ACKNOWLEDGED:
        changes |= {"acknowledged_at": now, "acknowledged_by": actor}
    elif wanted is IncidentStatus.MITIGATED:
        changes |= {"mitigated_at": now}
    elif wanted is IncidentStatus.RESOLVED:
        changes |= {"resolved_at": now, "resolved_by": actor}
    return replace(incident, **changes)


def _sla_kinds(wanted: IncidentStatus) -> tuple[Any, ...]:
    if wanted is IncidentStatus.ACKNOWLEDGED:
        return ("ack",)
    if wanted is IncidentStatus.RESOLVED:
        return ("ack", "resolve")
    return ()
