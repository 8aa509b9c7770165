"""Alert intake: alerts open incidents, join them, and are noted when they resolve.

A firing alert of an incident-worthy severity joins the open incident of its group (same
`group_by` label values, last alert within the window) or opens one. An advisory lock per
group key makes 200 simultaneous alerts of one outage one incident.

An alert whose rule has a remediation workflow waits: the fix runs first, and nobody is paged
for what it repairs. If the fix fails (`alert.remediation_failed`), the alert opens or joins
its incident then, the reason on the timeline.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from orchestrix.domain.ids import new_id
from orchestrix.domain.incidents import (
    AlertSnapshot,
    Incident,
    IncidentStatus,
    TimelineKind,
    severity_of,
)
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.correlation import place
from orchestrix.services.incident_base import IncidentServiceBase
from orchestrix.services.incident_stores import timeline_entry

ALERTS_ACTOR: Final = "system:alerts"


class AlertIntake(IncidentServiceBase):
    def on_alert_fired(
        self, tenant_id: str, alert: AlertSnapshot, fix_failed: str | None = None
    ) -> Incident | None:
        """An alert fired: join its group's open incident, or open one. None: not incident-
        worthy (severity, suppression), or its automatic fix is still being tried.
        `fix_failed`: why the remediation did not repair it (the alert comes back then)."""
        if alert.remediation_workflow_id and fix_failed is None:
            return None
        with self._uow(tenant_id, ALERTS_ACTOR) as uow:
            settings = self._stores.settings(uow).get()
            if not settings.opens_incident(alert):
                return None
            repo = self._stores.incidents(uow)
            now = self._clock.now()
            where = place(self._stores.intelligence, uow, alert, settings, now)
            if where.hold:
                return None
            key = where.group_key
            repo.lock_group(key)
            existing = (
                repo.lock(where.join_id)
                if where.join_id
                else repo.open_in_group(key, now - where.window)
            )
            if existing is None or not existing.is_open:
                if where.inhibited:  # its inhibitor's incident is over: stay muted
                    return None
            else:
                reason = (
                    f"{where.reason}; {_fix_failed(fix_failed)}" if fix_failed else where.reason
                )
                joined = self._join(uow, existing, alert, reason)
                uow.commit()
                self._after_join(joined, existing.alert_count)
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
            opened = f"opened by alert {alert.title}"
            self._open(
                uow, incident, f"{opened}: {_fix_failed(fix_failed)}" if fix_failed else opened
            )
            repo.link_alert(incident.id, alert, now)
            for peer in where.related:  # the rule's earlier alerts that make up its count
                incident = self._join(uow, incident, peer, where.reason)
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

    def _join(
        self, uow: UnitOfWork, incident: Incident, alert: AlertSnapshot, reason: str = "same group"
    ) -> Incident:
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
                    f"alert {alert.title} joined ({reason})",
                    now,
                    {"alert_id": alert.id, "fingerprint": alert.fingerprint, "reason": reason},
                )
            )
            uow.record("incident.alert_linked", "incident", incident.id, None, {"alert": alert.id})
        return joined


def _fix_failed(reason: str) -> str:
    return f"its automatic remediation did not fix it ({reason})"
