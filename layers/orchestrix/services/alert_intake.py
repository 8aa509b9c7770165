"""Applying alert signals inside one transaction: dedup, occurrences, silences, audit.

Every path that creates or changes alerts (integrations, the REST API, rule evaluation)
goes through `apply_signals`, so they share one meaning of "the same alert", one way of
counting repeats and one rule for silences; `publish` sends the events after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from orchestrix.domain.alerting.alerts import Alert, AlertSignal, AlertStatus
from orchestrix.domain.alerting.fingerprint import fingerprint
from orchestrix.domain.alerting.silences import silencing
from orchestrix.domain.ids import new_id
from orchestrix.ports.events import EventPublisher
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.alert_ports import AlertingRepos

FIRED = "alert.fired"
RESOLVED = "alert.resolved"
REMEDIATION_FAILED = "alert.remediation_failed"  # the automatic fix did not work: page now
ACKNOWLEDGED = "alert.acknowledged"


@dataclass(frozen=True)
class AlertChange:
    """What happened to one alert; `event` is the bus detail-type to publish, if any."""

    alert: Alert
    action: str  # audit action: alert.create, alert.fire, alert.suppress, alert.resolve, ...
    event: str | None
    rule_id: str | None = None
    before: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None  # added to the event detail (escalation policy, ...)


def _new_alert(tenant_id: str, s: AlertSignal, fp: str, silenced: list[str]) -> Alert:
    at = s.at
    return Alert(
        id=new_id("alr", int(at.timestamp() * 1000)),
        tenant_id=tenant_id,
        fingerprint=fp,
        status=AlertStatus.SUPPRESSED if silenced else AlertStatus.FIRING,
        source=s.source,
        name=s.name,
        severity=s.severity,
        labels=s.labels,
        annotations=s.annotations,
        starts_at=s.starts_at or at,
        last_received_at=at,
        occurrences=1,
        created_at=at,
        updated_at=at,
        rule_id=s.rule_id,
        value=s.value,
        dedup_key=s.dedup_key,
        generator_url=s.generator_url,
        silenced_by=tuple(silenced),
    )


def _occurrence(alert: Alert, s: AlertSignal) -> dict[str, Any]:
    return {
        "tenant_id": alert.tenant_id,
        "alert_id": alert.id,
        "at": s.at,
        "status": "firing" if s.firing else "resolved",
        "source": s.source,
        "value": s.value,
        "payload": s.payload,
    }


def _on_firing(
    old: Alert, s: AlertSignal, silenced: list[str]
) -> tuple[Alert, str | None, str | None]:
    """The open alert after another firing signal: (alert, audit action, event)."""
    alert = replace(
        old,
        annotations=s.annotations or old.annotations,
        value=s.value if s.value is not None else old.value,
        last_received_at=s.at,
        updated_at=s.at,
        occurrences=old.occurrences + (0 if s.refresh else 1),
        silenced_by=tuple(silenced),
    )
    if old.status is AlertStatus.FIRING and silenced:
        return replace(alert, status=AlertStatus.SUPPRESSED), "alert.suppress", None
    if old.status is AlertStatus.SUPPRESSED and not silenced:
        # The silence or maintenance window ended while the alert still fires: it comes back.
        return replace(alert, status=AlertStatus.FIRING), "alert.fire", FIRED
    return alert, None, None


def apply_signals(
    uow: UnitOfWork, repos: AlertingRepos, signals: list[AlertSignal], now: datetime
) -> list[AlertChange]:
    """Apply signals in order (a batch may fire and resolve the same alert)."""
    if not signals:
        return []
    keyed = [(fingerprint(s.labels, s.dedup_key), s) for s in signals]
    latest = repos.alerts.latest_by_fingerprint([fp for fp, _ in keyed])
    silences = repos.silences.active(now)
    inserted: dict[str, Alert] = {}
    updated: dict[str, Alert] = {}
    occurrences: list[dict[str, Any]] = []
    changes: list[AlertChange] = []
    for fp, s in keyed:
        current = latest.get(fp)
        is_open = current is not None and current.is_open
        if s.firing:
            silenced = silencing(silences, s.labels, now)
            if current is not None and is_open:
                alert, action, event = _on_firing(current, s, silenced)
                (inserted if current.id in inserted else updated)[current.id] = alert
                if not s.refresh:
                    occurrences.append(_occurrence(alert, s))
                if action:
                    changes.append(AlertChange(alert, action, event, s.rule_id, current.snapshot()))
            elif s.refresh or (
                current is not None
                and current.resolved_by
                and s.starts_at is not None
                and current.starts_at == s.starts_at
            ):
                # A re-sent alert somebody resolved by hand stays resolved until it really
                # stops and starts again.
                continue
            else:
                alert = _new_alert(uow.tenant_id, s, fp, silenced)
                inserted[alert.id] = alert
                occurrences.append(_occurrence(alert, s))
                event = None if silenced else FIRED
                action = "alert.suppress" if silenced else "alert.create"
                changes.append(AlertChange(alert, action, event, s.rule_id))
        elif current is not None and is_open:
            alert = replace(
                current,
                status=AlertStatus.RESOLVED,
                ends_at=s.at,
                last_received_at=s.at,
                updated_at=s.at,
                value=s.value if s.value is not None else current.value,
                resolved_by=None,
            )
            (inserted if current.id in inserted else updated)[current.id] = alert
            occurrences.append(_occurrence(alert, s))
            changes.append(
                AlertChange(alert, "alert.resolve", RESOLVED, s.rule_id, current.snapshot())
            )
        else:
            continue
        latest[fp] = alert
    repos.alerts.insert_many(list(inserted.values()))
    repos.alerts.update_many([a for i, a in updated.items() if i not in inserted])
    repos.alerts.add_occurrences(occurrences)
    for change in changes:
        uow.record(change.action, "alert", change.alert.id, change.before, change.alert.snapshot())
    return changes


def publish(events: EventPublisher, tenant_id: str, changes: list[AlertChange]) -> None:
    for change in changes:
        if change.event:
            detail = change.alert.snapshot()
            detail["suppressed"] = change.alert.status.value == "suppressed"
            events.publish(tenant_id, change.event, {**detail, **(change.extra or {})})
