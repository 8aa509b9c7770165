"""Alerts: intake from integrations, the REST API, acknowledge and resolve."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from orchestrix.domain.alerting.alerts import Alert, AlertFilter, AlertSignal, AlertStatus
from orchestrix.domain.alerting.fingerprint import fingerprint
from orchestrix.domain.errors import Conflict, NotFound, ValidationFailed
from orchestrix.domain.identity import Principal, Role, Scope
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.ports.clock import Clock
from orchestrix.ports.events import EventPublisher
from orchestrix.ports.unit_of_work import UnitOfWorkFactory
from orchestrix.services.alert_intake import (
    ACKNOWLEDGED,
    RESOLVED,
    AlertChange,
    apply_signals,
    publish,
)
from orchestrix.services.alert_ports import ReposFactory


class AlertService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        repos: ReposFactory,
        events: EventPublisher,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._repos = repos
        self._events = events
        self._clock = clock

    def ingest(
        self, principal: Principal, signals: list[AlertSignal], request_id: str | None = None
    ) -> list[AlertChange]:
        """Integrations (ingestion key with alerts:write): all or nothing, one transaction."""
        principal.require_scope(Scope.ALERTS_WRITE)
        return self._apply(principal, signals, request_id)

    def create(
        self, principal: Principal, signal: AlertSignal, request_id: str | None = None
    ) -> Alert:
        """`POST /api/v1/alerts` by a person (responder or above) or an ingestion key."""
        if principal.kind == "api_key":
            principal.require_scope(Scope.ALERTS_WRITE)
        else:
            principal.require_role(Role.RESPONDER)
        changes = self._apply(principal, [signal], request_id)
        if changes:
            return changes[-1].alert
        with self._uow(principal.tenant_id, principal.actor) as uow:
            fp = fingerprint(signal.labels, signal.dedup_key)
            found = self._repos(uow).alerts.latest_by_fingerprint([fp]).get(fp)
        if found is None:
            # Only a resolve changes nothing and finds nothing: there was never such an alert.
            raise ValidationFailed.single(
                ("body", "status"), "nothing to resolve: no alert has these labels or dedup_key"
            )
        return found

    def acknowledge_dedup_key(
        self, principal: Principal, dedup_key: str, request_id: str | None = None
    ) -> Alert | None:
        """PagerDuty's `event_action: acknowledge` for the open alert with this dedup key."""
        principal.require_scope(Scope.ALERTS_WRITE)
        fp = fingerprint({}, dedup_key)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            alert = self._repos(uow).alerts.latest_by_fingerprint([fp]).get(fp)
        if alert is None or not alert.is_open:
            return None
        return self.acknowledge(principal, alert.id, request_id, check_role=False)

    def _apply(
        self, principal: Principal, signals: list[AlertSignal], request_id: str | None
    ) -> list[AlertChange]:
        now = self._clock.now()
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            changes = apply_signals(uow, self._repos(uow), signals, now)
            uow.commit()
        publish(self._events, principal.tenant_id, changes)
        return changes

    def get(self, principal: Principal, alert_id: str) -> tuple[Alert, list[dict[str, Any]]]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            repo = self._repos(uow).alerts
            alert = repo.get(alert_id)
            if alert is None:
                raise NotFound("alert", alert_id)
            return alert, repo.occurrences(alert_id)

    def acknowledge(
        self,
        principal: Principal,
        alert_id: str,
        request_id: str | None = None,
        check_role: bool = True,
    ) -> Alert:
        if check_role:
            principal.require_role(Role.RESPONDER)
        now = self._clock.now()

        def ack(a: Alert) -> Alert:
            if a.status is AlertStatus.RESOLVED:
                raise Conflict(f"alert {alert_id!r} is resolved")
            return replace(
                a,
                status=AlertStatus.ACKNOWLEDGED,
                acknowledged_at=a.acknowledged_at or now,
                acknowledged_by=a.acknowledged_by or principal.actor,
                updated_at=now,
            )

        return self._change(principal, alert_id, "alert.acknowledge", ACKNOWLEDGED, ack, request_id)

    def resolve(self, principal: Principal, alert_id: str, request_id: str | None = None) -> Alert:
        principal.require_role(Role.RESPONDER)
        now = self._clock.now()

        def res(a: Alert) -> Alert:
            if a.status is AlertStatus.RESOLVED:
                raise Conflict(f"alert {alert_id!r} is already resolved")
            return replace(
                a,
                status=AlertStatus.RESOLVED,
                ends_at=now,
                resolved_by=principal.actor,
                updated_at=now,
            )

        return self._change(principal, alert_id, "alert.resolve", RESOLVED, res, request_id)

    def _change(
        self,
        principal: Principal,
        alert_id: str,
        action: str,
        event: str,
        change: Any,
        request_id: str | None,
    ) -> Alert:
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._repos(uow).alerts
            before = repo.get(alert_id)
            if before is None:
                raise NotFound("alert", alert_id)
            after: Alert = change(before)
            if after.status is before.status:
                return before  # acknowledging twice is not a new event
            repo.update_many([after])
            uow.record(action, "alert", alert_id, before.snapshot(), after.snapshot())
            uow.commit()
        self._events.publish(principal.tenant_id, event, after.snapshot())
        return after

    def list(self, principal: Principal, filters: AlertFilter, page: PageRequest) -> Page[Alert]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._repos(uow).alerts.list(filters, page)
