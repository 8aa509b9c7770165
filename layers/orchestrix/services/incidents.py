"""Incidents: one service for opening, working, reading and closing them.

`IncidentService` is what handlers and routes call. Its use cases live in siblings along their
seams: alert intake and grouping (`incident_intake`), reading and notes (`incident_timeline`),
and the ports plus the shared opening steps (`incident_base`). This module keeps the lifecycle:
declaring an incident by hand, changing it, and moving it through its statuses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from orchestrix.domain.errors import NotFound, ValidationFailed
from orchestrix.domain.identity import Principal
from orchestrix.domain.identity import Role as AccessRole
from orchestrix.domain.ids import new_id
from orchestrix.domain.incidents import (
    Incident,
    IncidentStatus,
    Severity,
    TimelineKind,
    check_transition,
)
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.incident_intake import AlertIntake
from orchestrix.services.incident_stores import timeline_entry
from orchestrix.services.incident_timeline import IncidentTimeline
from orchestrix.services.sla import missed

# Member ids are issued as new_id("mem") (services/members.py).
MEMBER_ID_PREFIX = "mem_"


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


class IncidentService(AlertIntake, IncidentTimeline):
    """The incident use cases: the lifecycle below, intake and reading inherited."""

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
            self._require_team(uow, spec.team_id)
            self._require_members(uow, spec.roles or {})
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
            self._require_team(uow, changes.team_id)
            self._require_members(uow, changes.roles or {})
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

    def _require_team(self, uow: UnitOfWork, team_id: str | None) -> None:
        # Another tenant's team is invisible under RLS: the same answer as a missing one.
        if team_id and self._stores.targets(uow).team_members(team_id) is None:
            raise ValidationFailed.single(("body", "team_id"), "no such team")

    def _require_members(self, uow: UnitOfWork, roles: dict[str, str]) -> None:
        """A holder written as a member id must be a member of this tenant. Another tenant's
        member is invisible under RLS, so it gets the same answer as an id never issued.
        Other holders (an IdP subject, a name) are free text."""
        directory = self._stores.targets(uow)
        for role, holder in roles.items():
            if holder.startswith(MEMBER_ID_PREFIX) and not directory.member_exists(holder):
                raise ValidationFailed.single(("body", "roles", role), "no such member")

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
        # Every move is published: status pages follow mitigated ("monitoring") too.
        if wanted is not IncidentStatus.TRIGGERED:
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
