"""Status pages, their component groups and components, and each component's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.status_pages import (
    Component,
    ComponentChange,
    ComponentGroup,
    ComponentSpec,
    ComponentStatus,
    GroupSpec,
    PageSpec,
    StatusPage,
)

UPSERT_PAGE = """
INSERT INTO status_pages (tenant_id, id, slug, title, description, branding, created_at,
                          updated_at)
VALUES (%(tenant_id)s, %(id)s, %(slug)s, %(title)s, %(description)s, %(branding)s,
        %(created_at)s, %(updated_at)s)
ON CONFLICT (tenant_id, id) DO UPDATE
SET slug = excluded.slug, title = excluded.title, description = excluded.description,
    branding = excluded.branding, updated_at = excluded.updated_at
"""
LIST_PAGES = """
SELECT * FROM status_pages
WHERE (%(after_at)s::timestamptz IS NULL OR (created_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY created_at DESC, id DESC LIMIT %(limit)s
"""
SLUG_TAKEN = "SELECT orchestrix_status_page_tenant(%(slug)s) IS NOT NULL AS taken"
UPSERT_GROUP = """
INSERT INTO status_component_groups (tenant_id, id, page_id, name, position, created_at,
                                     updated_at)
VALUES (%(tenant_id)s, %(id)s, %(page_id)s, %(name)s, %(position)s, %(created_at)s,
        %(updated_at)s)
ON CONFLICT (tenant_id, id) DO UPDATE
SET name = excluded.name, position = excluded.position, updated_at = excluded.updated_at
"""
UPSERT_COMPONENT = """
INSERT INTO status_components (tenant_id, id, page_id, group_id, name, description, position,
                               status, services, rule_ids, impact, created_at, updated_at)
VALUES (%(tenant_id)s, %(id)s, %(page_id)s, %(group_id)s, %(name)s, %(description)s,
        %(position)s, %(status)s, %(services)s, %(rule_ids)s, %(impact)s, %(created_at)s,
        %(updated_at)s)
ON CONFLICT (tenant_id, id) DO UPDATE
SET group_id = excluded.group_id, name = excluded.name, description = excluded.description,
    position = excluded.position, status = excluded.status, services = excluded.services,
    rule_ids = excluded.rule_ids, impact = excluded.impact, updated_at = excluded.updated_at
"""
LINKED = """
SELECT * FROM status_components
WHERE (%(service)s::text IS NOT NULL AND services @> ARRAY[%(service)s::text])
   OR rule_ids && %(rule_ids)s::text[]
ORDER BY page_id, position, id
"""
RULES_OF_INCIDENT = """
SELECT DISTINCT a.rule_id FROM incident_alerts ia
JOIN alerts a ON a.tenant_id = ia.tenant_id AND a.id = ia.alert_id
WHERE ia.incident_id = %(incident_id)s AND a.rule_id IS NOT NULL
"""
ADD_CHANGE = """
INSERT INTO status_component_changes (tenant_id, component_id, at, status)
VALUES (%(tenant_id)s, %(component_id)s, %(at)s, %(status)s)
"""
# The last change before the window says which status the window starts in.
CHANGES = """
SELECT component_id, at, status FROM (
    SELECT c.*, max(at) FILTER (WHERE at <= %(since)s)
        OVER (PARTITION BY component_id) AS window_start
    FROM status_component_changes c WHERE component_id = ANY(%(ids)s)
) s
WHERE at >= coalesce(window_start, '-infinity')
ORDER BY component_id, at, seq
"""


class PostgresStatusPageRepository:
    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def _rows(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row).execute(sql, params).fetchall()

    # -- pages -------------------------------------------------------------------------------

    def slug_taken(self, slug: str) -> bool:
        """By any tenant: slugs are public names."""
        return bool(self._rows(SLUG_TAKEN, {"slug": slug})[0]["taken"])

    def save_page(self, page: StatusPage) -> None:
        spec = page.spec
        self._conn.execute(
            UPSERT_PAGE,
            {
                "tenant_id": self._tenant_id,
                "id": page.id,
                "slug": spec.slug,
                "title": spec.title,
                "description": spec.description,
                "branding": Jsonb(spec.branding.model_dump(mode="json")),
                "created_at": page.created_at,
                "updated_at": page.updated_at,
            },
        )

    def get_page(self, page_id: str) -> StatusPage | None:
        rows = self._rows("SELECT * FROM status_pages WHERE id = %(id)s", {"id": page_id})
        return _page(rows[0]) if rows else None

    def page_by_slug(self, slug: str) -> StatusPage | None:
        rows = self._rows("SELECT * FROM status_pages WHERE slug = %(s)s", {"s": slug})
        return _page(rows[0]) if rows else None

    def list_pages(self, page: PageRequest) -> Page[StatusPage]:
        rows = self._rows(LIST_PAGES, keyset_params(page))
        return keyset_page(rows, page, _page, lambda p: (p.created_at, p.id))

    def delete_page(self, page_id: str) -> None:
        self._conn.execute("DELETE FROM status_pages WHERE id = %(id)s", {"id": page_id})

    # -- groups ------------------------------------------------------------------------------

    def save_group(self, group: ComponentGroup) -> None:
        self._conn.execute(
            UPSERT_GROUP,
            {
                "tenant_id": self._tenant_id,
                "id": group.id,
                "page_id": group.page_id,
                **group.spec.model_dump(),
                "created_at": group.created_at,
                "updated_at": group.updated_at,
            },
        )

    def groups(self, page_id: str) -> list[ComponentGroup]:
        sql = "SELECT * FROM status_component_groups WHERE page_id = %(p)s ORDER BY position, id"
        return [_group(r) for r in self._rows(sql, {"p": page_id})]

    def delete_group(self, group_id: str) -> None:
        self._conn.execute(
            "DELETE FROM status_component_groups WHERE id = %(id)s", {"id": group_id}
        )

    # -- components --------------------------------------------------------------------------

    def save_component(self, component: Component) -> None:
        spec = component.spec
        self._conn.execute(
            UPSERT_COMPONENT,
            {
                "tenant_id": self._tenant_id,
                "id": component.id,
                "page_id": component.page_id,
                **spec.model_dump(mode="json"),
                "created_at": component.created_at,
                "updated_at": component.updated_at,
            },
        )

    def components(self, page_id: str) -> list[Component]:
        sql = "SELECT * FROM status_components WHERE page_id = %(p)s ORDER BY position, id"
        return [_component(r) for r in self._rows(sql, {"p": page_id})]

    def delete_component(self, component_id: str) -> None:
        self._conn.execute("DELETE FROM status_components WHERE id = %(id)s", {"id": component_id})

    def linked_components(self, service: str | None, rule_ids: list[str]) -> list[Component]:
        return [
            _component(r) for r in self._rows(LINKED, {"service": service, "rule_ids": rule_ids})
        ]

    def rules_of_incident(self, incident_id: str) -> list[str]:
        return [r["rule_id"] for r in self._rows(RULES_OF_INCIDENT, {"incident_id": incident_id})]

    def existing_rules(self, rule_ids: list[str]) -> set[str]:
        sql = "SELECT id FROM alert_rules WHERE id = ANY(%(ids)s)"
        return {r["id"] for r in self._rows(sql, {"ids": rule_ids})}

    def add_change(self, component_id: str, at: datetime, status: ComponentStatus) -> None:
        params = {"tenant_id": self._tenant_id, "component_id": component_id}
        self._conn.execute(ADD_CHANGE, {**params, "at": at, "status": status.value})

    def changes(
        self, component_ids: list[str], since: datetime
    ) -> dict[str, list[ComponentChange]]:
        found: dict[str, list[ComponentChange]] = {cid: [] for cid in component_ids}
        for row in self._rows(CHANGES, {"ids": component_ids, "since": since}):
            change = ComponentChange(row["at"], ComponentStatus(row["status"]))
            found[row["component_id"]].append(change)
        return found


def _page(row: dict[str, Any]) -> StatusPage:
    spec = PageSpec(
        slug=row["slug"],
        title=row["title"],
        description=row["description"],
        branding=row["branding"],
    )
    return StatusPage(row["id"], row["tenant_id"], spec, row["created_at"], row["updated_at"])


def _group(row: dict[str, Any]) -> ComponentGroup:
    spec = GroupSpec(name=row["name"], position=row["position"])
    return ComponentGroup(row["id"], row["page_id"], spec, row["created_at"], row["updated_at"])


def _component(row: dict[str, Any]) -> Component:
    spec = ComponentSpec(
        name=row["name"],
        description=row["description"],
        group_id=row["group_id"],
        position=row["position"],
        status=row["status"],
        services=row["services"],
        rule_ids=row["rule_ids"],
        impact=row["impact"],
    )
    return Component(row["id"], row["page_id"], spec, row["created_at"], row["updated_at"])
