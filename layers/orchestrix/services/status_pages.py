"""Status pages, their component groups and components: the editors' use cases.

Incidents, maintenances and subscribers live in `status_events`; what the public sees in
`status_public`; what incidents do to components in `status_automation`.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from orchestrix.domain.errors import Conflict, NotFound, ValidationFailed
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.ids import new_id
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.status_pages import (
    Component,
    ComponentGroup,
    ComponentSpec,
    GroupSpec,
    PageSpec,
    StatusPage,
    UptimeDay,
)
from orchestrix.domain.uptime import BAR_DAYS, uptime_days
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.status_page_ports import StatusPagePorts


def require_page(ports: StatusPagePorts, uow: UnitOfWork, page_id: str) -> StatusPage:
    """The page, or 404 (also for another tenant's page: RLS hides it)."""
    page = ports.pages(uow).get_page(page_id)
    if page is None:
        raise NotFound("status page", page_id)
    return page


def _page_audit(page: StatusPage) -> dict[str, Any]:
    return {"id": page.id, **page.spec.model_dump(mode="json")}


def _audit(item: ComponentGroup | Component) -> dict[str, Any]:
    return {"id": item.id, "page_id": item.page_id, **item.spec.model_dump(mode="json")}


Item = TypeVar("Item", ComponentGroup, Component)


def _one(items: Iterable[Item], item_id: str | None, what: str) -> Item | None:
    """The page's item with this id; None when no id is given (a creation); else 404."""
    if item_id is None:
        return None
    found = next((i for i in items if i.id == item_id), None)
    if found is None:
        raise NotFound(what, item_id)
    return found


def _record(uow: UnitOfWork, kind: str, before: Item | None, after: Item) -> None:
    action = f"{kind}.update" if before else f"{kind}.create"
    uow.record(action, kind, after.id, _audit(before) if before else None, _audit(after))


def _new(prefix: str, now: datetime) -> str:
    return new_id(prefix, int(now.timestamp() * 1000))


class StatusPageService:
    def __init__(self, ports: StatusPagePorts) -> None:
        self._p = ports

    # -- pages -------------------------------------------------------------------------------

    def create(self, principal: Principal, spec: PageSpec, request_id: str | None) -> StatusPage:
        principal.require_role(Role.EDITOR)
        now = self._p.clock.now()
        page = StatusPage(
            new_id("spg", int(now.timestamp() * 1000)), principal.tenant_id, spec, now, now
        )
        with self._p.uow(principal.tenant_id, principal.actor, request_id) as uow:
            self._claim_slug(uow, spec.slug)
            self._p.pages(uow).save_page(page)
            uow.record("status_page.create", "status_page", page.id, None, _page_audit(page))
            uow.commit()
        return page

    def replace(
        self, principal: Principal, page_id: str, spec: PageSpec, request_id: str | None
    ) -> StatusPage:
        principal.require_role(Role.EDITOR)
        with self._p.uow(principal.tenant_id, principal.actor, request_id) as uow:
            before = require_page(self._p, uow, page_id)
            if spec.slug != before.spec.slug:
                self._claim_slug(uow, spec.slug)
            after = replace(before, spec=spec, updated_at=self._p.clock.now())
            self._p.pages(uow).save_page(after)
            uow.record(
                "status_page.update",
                "status_page",
                page_id,
                _page_audit(before),
                _page_audit(after),
            )
            uow.commit()
        return after

    def _claim_slug(self, uow: UnitOfWork, slug: str) -> None:
        if self._p.pages(uow).slug_taken(slug):
            raise Conflict(f"slug {slug!r} is taken by another status page")

    def get(self, principal: Principal, page_id: str) -> StatusPage:
        principal.require_role(Role.VIEWER)
        with self._p.uow(principal.tenant_id, principal.actor) as uow:
            return require_page(self._p, uow, page_id)

    def list(self, principal: Principal, page: PageRequest) -> Page[StatusPage]:
        principal.require_role(Role.VIEWER)
        with self._p.uow(principal.tenant_id, principal.actor) as uow:
            return self._p.pages(uow).list_pages(page)

    def delete(self, principal: Principal, page_id: str, request_id: str | None) -> None:
        principal.require_role(Role.EDITOR)
        with self._p.uow(principal.tenant_id, principal.actor, request_id) as uow:
            before = require_page(self._p, uow, page_id)
            self._p.pages(uow).delete_page(page_id)
            uow.record("status_page.delete", "status_page", page_id, _page_audit(before), None)
            uow.commit()

    # -- component groups --------------------------------------------------------------------

    def groups(self, principal: Principal, page_id: str) -> builtins.list[ComponentGroup]:
        principal.require_role(Role.VIEWER)
        with self._p.uow(principal.tenant_id, principal.actor) as uow:
            require_page(self._p, uow, page_id)
            return self._p.pages(uow).groups(page_id)

    def save_group(
        self,
        principal: Principal,
        page_id: str,
        group_id: str | None,
        spec: GroupSpec,
        request_id: str | None,
    ) -> ComponentGroup:
        """Create (group_id None) or replace a group."""
        principal.require_role(Role.EDITOR)
        now = self._p.clock.now()
        with self._p.uow(principal.tenant_id, principal.actor, request_id) as uow:
            require_page(self._p, uow, page_id)
            repo = self._p.pages(uow)
            before = _one(repo.groups(page_id), group_id, "component group")
            new_group = ComponentGroup(_new("scg", now), page_id, spec, now, now)
            after = replace(before, spec=spec, updated_at=now) if before else new_group
            repo.save_group(after)
            _record(uow, "status_group", before, after)
            uow.commit()
        return after

    # -- components --------------------------------------------------------------------------

    def components(self, principal: Principal, page_id: str) -> builtins.list[Component]:
        principal.require_role(Role.VIEWER)
        with self._p.uow(principal.tenant_id, principal.actor) as uow:
            require_page(self._p, uow, page_id)
            return self._p.pages(uow).components(page_id)

    def save_component(
        self,
        principal: Principal,
        page_id: str,
        component_id: str | None,
        spec: ComponentSpec,
        request_id: str | None,
    ) -> Component:
        """Create (component_id None) or replace a component; a new status is history."""
        principal.require_role(Role.EDITOR)
        now = self._p.clock.now()
        with self._p.uow(principal.tenant_id, principal.actor, request_id) as uow:
            require_page(self._p, uow, page_id)
            repo = self._p.pages(uow)
            self._check_links(uow, page_id, spec)
            before = _one(repo.components(page_id), component_id, "component")
            new_component = Component(_new("cmp", now), page_id, spec, now, now)
            after = replace(before, spec=spec, updated_at=now) if before else new_component
            repo.save_component(after)
            if before is None or before.status is not after.status:
                repo.add_change(after.id, now, after.status)
            _record(uow, "status_component", before, after)
            uow.commit()
        return after

    def _check_links(self, uow: UnitOfWork, page_id: str, spec: ComponentSpec) -> None:
        repo = self._p.pages(uow)
        if spec.group_id and spec.group_id not in {g.id for g in repo.groups(page_id)}:
            raise ValidationFailed.single(("body", "group_id"), "no such group on this page")
        # Another tenant's rule is invisible under RLS: the same answer as an unknown id.
        missing = [r for r in spec.rule_ids if r not in repo.existing_rules(spec.rule_ids)]
        if missing:
            raise ValidationFailed.single(("body", "rule_ids"), f"no such alert rule: {missing[0]}")

    def delete_item(
        self,
        principal: Principal,
        page_id: str,
        kind: str,
        item_id: str,
        request_id: str | None,
    ) -> None:
        """Delete a group (its components stay, ungrouped) or a component (its history too).
        `kind`: status_group | status_component."""
        principal.require_role(Role.EDITOR)
        with self._p.uow(principal.tenant_id, principal.actor, request_id) as uow:
            require_page(self._p, uow, page_id)
            repo = self._p.pages(uow)
            if kind == "status_group":
                group = _one(repo.groups(page_id), item_id, "component group")
                assert group is not None
                repo.delete_group(item_id)
                before: ComponentGroup | Component = group
            else:
                component = _one(repo.components(page_id), item_id, "component")
                assert component is not None
                repo.delete_component(item_id)
                before = component
            uow.record(f"{kind}.delete", kind, item_id, _audit(before), None)
            uow.commit()

    def uptime(
        self, principal: Principal, page_id: str
    ) -> builtins.list[tuple[Component, builtins.list[UptimeDay]]]:
        principal.require_role(Role.VIEWER)
        with self._p.uow(principal.tenant_id, principal.actor) as uow:
            require_page(self._p, uow, page_id)
            return component_uptime(self._p, uow, page_id)


def component_uptime(
    ports: StatusPagePorts, uow: UnitOfWork, page_id: str
) -> list[tuple[Component, list[UptimeDay]]]:
    now = ports.clock.now()
    repo = ports.pages(uow)
    components = repo.components(page_id)
    history = repo.changes([c.id for c in components], now - timedelta(days=BAR_DAYS))
    return [(c, uptime_days(history[c.id], now)) for c in components]
