"""Declared services (the dependency graph), correlation settings and change events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.alerting.matchers import Matcher
from orchestrix.domain.intelligence.correlation import (
    CorrelationRule,
    CorrelationSettings,
    InhibitionRule,
)
from orchestrix.domain.intelligence.evidence import Change
from orchestrix.domain.intelligence.topology import Service
from orchestrix.domain.pagination import Page, PageRequest

SERVICES = "SELECT name, description, team_id, depends_on FROM services ORDER BY name"
SERVICE = "SELECT name, description, team_id, depends_on FROM services WHERE name = %(name)s"
PUT_SERVICE = """
INSERT INTO services (tenant_id, name, description, team_id, depends_on, created_at, updated_at)
VALUES (%(tenant_id)s, %(name)s, %(description)s, %(team_id)s, %(depends_on)s, %(at)s, %(at)s)
ON CONFLICT (tenant_id, name) DO UPDATE SET
    description = EXCLUDED.description, team_id = EXCLUDED.team_id,
    depends_on = EXCLUDED.depends_on, updated_at = EXCLUDED.updated_at
"""
DELETE_SERVICE = "DELETE FROM services WHERE name = %(name)s"

GET_SETTINGS = """
SELECT rules, inhibit_rules, similarity, topology_hops, lookback_seconds, error_query
FROM correlation_settings
"""
PUT_SETTINGS = """
INSERT INTO correlation_settings (tenant_id, rules, inhibit_rules, similarity, topology_hops,
                                  lookback_seconds, error_query, updated_at)
VALUES (%(tenant_id)s, %(rules)s, %(inhibit_rules)s, %(similarity)s, %(topology_hops)s,
        %(lookback_seconds)s, %(error_query)s, %(at)s)
ON CONFLICT (tenant_id) DO UPDATE SET
    rules = EXCLUDED.rules, inhibit_rules = EXCLUDED.inhibit_rules,
    similarity = EXCLUDED.similarity, topology_hops = EXCLUDED.topology_hops,
    lookback_seconds = EXCLUDED.lookback_seconds, error_query = EXCLUDED.error_query,
    updated_at = EXCLUDED.updated_at
"""

_CHANGE = "id, service, kind, title, at, source, details, external_id"
ADD_CHANGE = f"""
INSERT INTO change_events (tenant_id, {_CHANGE}, created_by, created_at)
VALUES (%(tenant_id)s, %(id)s, %(service)s, %(kind)s, %(title)s, %(at)s, %(source)s,
        %(details)s, %(external_id)s, %(created_by)s, %(created_at)s)
ON CONFLICT DO NOTHING
"""
CHANGE_BY_EXTERNAL = f"""
SELECT {_CHANGE} FROM change_events WHERE source = %(source)s AND external_id = %(external_id)s
"""
GET_CHANGE = f"SELECT {_CHANGE} FROM change_events WHERE id = %(id)s"
LIST_CHANGES = f"""
SELECT {_CHANGE} FROM change_events
WHERE (%(service)s::text IS NULL OR service = %(service)s)
  AND (%(after_at)s::timestamptz IS NULL OR (at, id) < (%(after_at)s, %(after_id)s))
ORDER BY at DESC, id DESC
LIMIT %(limit)s
"""
CHANGES_BETWEEN = f"""
SELECT {_CHANGE} FROM change_events WHERE at >= %(start)s AND at <= %(end)s ORDER BY at, id
"""


def _matchers(texts: list[dict[str, str]]) -> tuple[Matcher, ...]:
    return tuple(Matcher(m["name"], m["op"], m["value"]) for m in texts)  # type: ignore[arg-type]


def _service(row: dict[str, Any]) -> Service:
    return Service(row["name"], tuple(row["depends_on"]), row["description"], row["team_id"])


def _change(row: dict[str, Any]) -> Change:
    return Change(**{**row, "details": dict(row["details"])})


class PostgresServiceRepository:
    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def all(self) -> list[Service]:
        rows = self._conn.cursor(row_factory=dict_row).execute(SERVICES).fetchall()
        return [_service(r) for r in rows]

    def get(self, name: str) -> Service | None:
        cur = self._conn.cursor(row_factory=dict_row)
        row = cur.execute(SERVICE, {"name": name}).fetchone()
        return _service(row) if row else None

    def put(self, service: Service, at: datetime) -> None:
        self._conn.execute(
            PUT_SERVICE,
            {
                "tenant_id": self._tenant_id,
                "name": service.name,
                "description": service.description,
                "team_id": service.team_id,
                "depends_on": list(service.depends_on),
                "at": at,
            },
        )

    def delete(self, name: str) -> bool:
        return self._conn.execute(DELETE_SERVICE, {"name": name}).rowcount > 0


class PostgresCorrelationSettingsRepository:
    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def get(self) -> CorrelationSettings:
        row = self._conn.cursor(row_factory=dict_row).execute(GET_SETTINGS).fetchone()
        if row is None:
            return CorrelationSettings()
        return CorrelationSettings(
            rules=tuple(
                CorrelationRule(
                    r["name"],
                    _matchers(r["matchers"]),
                    tuple(r["group_by"]),
                    timedelta(seconds=r["window_seconds"]),
                    r["min_count"],
                )
                for r in row["rules"]
            ),
            inhibit_rules=tuple(
                InhibitionRule(_matchers(r["source"]), _matchers(r["target"]), tuple(r["equal"]))
                for r in row["inhibit_rules"]
            ),
            similarity=row["similarity"],
            topology_hops=row["topology_hops"],
            lookback=timedelta(seconds=row["lookback_seconds"]),
            error_query=row["error_query"],
        )

    def save(self, settings: CorrelationSettings, at: datetime) -> None:
        rules = [
            {
                "name": r.name,
                "matchers": [m.as_dict() for m in r.matchers],
                "group_by": list(r.group_by),
                "window_seconds": int(r.window.total_seconds()),
                "min_count": r.min_count,
            }
            for r in settings.rules
        ]
        inhibit = [
            {
                "source": [m.as_dict() for m in r.source],
                "target": [m.as_dict() for m in r.target],
                "equal": list(r.equal),
            }
            for r in settings.inhibit_rules
        ]
        self._conn.execute(
            PUT_SETTINGS,
            {
                "tenant_id": self._tenant_id,
                "rules": Jsonb(rules),
                "inhibit_rules": Jsonb(inhibit),
                "similarity": settings.similarity,
                "topology_hops": settings.topology_hops,
                "lookback_seconds": int(settings.lookback.total_seconds()),
                "error_query": settings.error_query,
                "at": at,
            },
        )


class PostgresChangeRepository:
    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def add(self, change: Change, created_by: str, at: datetime) -> Change:
        params = {
            "tenant_id": self._tenant_id,
            "id": change.id,
            "service": change.service,
            "kind": change.kind,
            "title": change.title,
            "at": change.at,
            "source": change.source,
            "details": Jsonb(change.details),
            "external_id": change.external_id,
            "created_by": created_by,
            "created_at": at,
        }
        if self._conn.execute(ADD_CHANGE, params).rowcount == 1 or not change.external_id:
            return change
        row = self._cursor().execute(CHANGE_BY_EXTERNAL, params).fetchone()
        return _change(row) if row else change

    def get(self, change_id: str) -> Change | None:
        row = self._cursor().execute(GET_CHANGE, {"id": change_id}).fetchone()
        return _change(row) if row else None

    def search(self, page: PageRequest, service: str | None) -> Page[Change]:
        params = {"service": service, **keyset_params(page)}
        rows = self._cursor().execute(LIST_CHANGES, params).fetchall()
        return keyset_page(rows, page, _change, lambda c: (c.at, c.id))

    def between(self, start: datetime, end: datetime) -> list[Change]:
        rows = self._cursor().execute(CHANGES_BETWEEN, {"start": start, "end": end}).fetchall()
        return [_change(r) for r in rows]
