"""The declared service graph, correlation settings and change events — each change audited."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from orchestrix.domain.errors import NotFound, ValidationFailed
from orchestrix.domain.identity import Principal
from orchestrix.domain.identity import Role as AccessRole
from orchestrix.domain.ids import new_id
from orchestrix.domain.intelligence.correlation import CorrelationSettings
from orchestrix.domain.intelligence.evidence import Change, ChangeKind
from orchestrix.domain.intelligence.topology import Service
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.ports.clock import Clock
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from orchestrix.services.change_sources import deployment_change
from orchestrix.services.intelligence_stores import IntelligenceStores

SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
DEPLOYMENTS_ACTOR = "system:deployments"
T = TypeVar("T")


@dataclass(frozen=True)
class NewChange:
    service: str
    kind: ChangeKind
    title: str
    at: datetime | None = None
    details: dict[str, Any] | None = None
    external_id: str | None = None


def _snapshot(service: Service) -> dict[str, Any]:
    return {
        "name": service.name,
        "depends_on": list(service.depends_on),
        "description": service.description,
        "team_id": service.team_id,
    }


class IntelligenceConfigService:
    def __init__(self, uow: UnitOfWorkFactory, stores: IntelligenceStores, clock: Clock) -> None:
        self._uow = uow
        self._stores = stores
        self._clock = clock

    # -- services ---------------------------------------------------------------------------

    def services(self, principal: Principal) -> list[Service]:
        principal.require_role(AccessRole.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._stores.services(uow).all()

    def service(self, principal: Principal, name: str) -> Service:
        return self._one(principal, "service", name, lambda uow: self._stores.services(uow).get)

    def _one(
        self,
        principal: Principal,
        kind: str,
        key: str,
        getter: Callable[[UnitOfWork], Callable[[str], T | None]],
    ) -> T:
        """One item for a viewer; another tenant's is invisible, so it is "not found" too."""
        principal.require_role(AccessRole.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            found = getter(uow)(key)
        if found is None:
            raise NotFound(kind, key)
        return found

    def put_service(
        self, principal: Principal, service: Service, request_id: str | None = None
    ) -> Service:
        principal.require_role(AccessRole.EDITOR)
        if not SERVICE_NAME.fullmatch(service.name):
            raise ValidationFailed.single(("path", "service"), "invalid service name")
        for i, dep in enumerate(service.depends_on):
            if dep == service.name:
                raise ValidationFailed.single(
                    ("body", "depends_on", i), "a service cannot depend on itself"
                )
            if not SERVICE_NAME.fullmatch(dep):
                raise ValidationFailed.single(("body", "depends_on", i), "invalid service name")
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._stores.services(uow)
            before = repo.get(service.name)
            repo.put(service, self._clock.now())
            uow.record(
                "service.put",
                "service",
                service.name,
                _snapshot(before) if before else None,
                _snapshot(service),
            )
            uow.commit()
        return service

    def delete_service(
        self, principal: Principal, name: str, request_id: str | None = None
    ) -> None:
        principal.require_role(AccessRole.EDITOR)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._stores.services(uow)
            before = repo.get(name)
            if before is None or not repo.delete(name):
                raise NotFound("service", name)
            uow.record("service.delete", "service", name, _snapshot(before), None)
            uow.commit()

    # -- correlation settings -----------------------------------------------------------------

    def correlation(self, principal: Principal) -> CorrelationSettings:
        principal.require_role(AccessRole.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._stores.correlation(uow).get()

    def put_correlation(
        self, principal: Principal, settings: CorrelationSettings, request_id: str | None = None
    ) -> CorrelationSettings:
        principal.require_role(AccessRole.ADMIN)
        names = [r.name for r in settings.rules]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValidationFailed.single(("body", "rules", i, "name"), "duplicate rule name")
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._stores.correlation(uow)
            before = repo.get()
            repo.save(settings, self._clock.now())
            uow.record(
                "correlation_settings.update",
                "correlation_settings",
                principal.tenant_id,
                before.as_dict(),
                settings.as_dict(),
            )
            uow.commit()
        return settings

    # -- changes -----------------------------------------------------------------------------

    def record_change(
        self, principal: Principal, spec: NewChange, request_id: str | None = None
    ) -> Change:
        principal.require_role(AccessRole.RESPONDER)
        now = self._clock.now()
        at = spec.at or now
        change = Change(
            id=new_id("chg", int(at.timestamp() * 1000)),
            service=spec.service,
            kind=spec.kind,
            title=spec.title,
            at=at,
            source="api",
            details=spec.details or {},
            external_id=spec.external_id,
        )
        return self._store(principal.tenant_id, principal.actor, change, request_id)

    def record_deployment(
        self, event: dict[str, Any], stage: str, tenant_exists: Callable[[str], bool]
    ) -> Change | None:
        """A CodeDeploy/ECS/CloudFormation event; None when it is not for a tenant of ours.
        The database is asked about the tenant only once the event's name is marked for one:
        the account's other deployments cost no connection."""
        found = deployment_change(event, stage, new_id("chg"))
        if found is None or not tenant_exists(found.tenant_id):
            return None
        return self._store(found.tenant_id, DEPLOYMENTS_ACTOR, found.change, None)

    def _store(self, tenant_id: str, actor: str, change: Change, request_id: str | None) -> Change:
        with self._uow(tenant_id, actor, request_id) as uow:
            stored = self._stores.changes(uow).add(change, actor, self._clock.now())
            if stored.id == change.id:
                uow.record("change.create", "change", change.id, None, change.as_dict())
            uow.commit()
        return stored

    def change(self, principal: Principal, change_id: str) -> Change:
        return self._one(principal, "change", change_id, lambda uow: self._stores.changes(uow).get)

    def changes(
        self, principal: Principal, page: PageRequest, service: str | None = None
    ) -> Page[Change]:
        principal.require_role(AccessRole.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._stores.changes(uow).search(page, service)
