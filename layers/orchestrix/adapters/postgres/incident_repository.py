"""Incidents, their linked alerts and their timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.incidents import (
    AlertSnapshot,
    Incident,
    IncidentStatus,
    Severity,
    TimelineEntry,
    TimelineKind,
)
from orchestrix.domain.pagination import Page, PageRequest

_FIELDS = (
    *("id", "tenant_id", "title", "description", "severity", "status", "service", "team_id"),
    *("escalation_policy_id", "group_key", "roles", "labels", "alert_count", "created_by"),
    *("triggered_at", "acknowledged_at", "acknowledged_by", "mitigated_at", "resolved_at"),
    *("resolved_by", "last_alert_at", "updated_at", "sla_breaches", "summary"),
)
_COLUMNS = ", ".join(_FIELDS)

INSERT = f"""
INSERT INTO incidents ({_COLUMNS})
VALUES ({", ".join(f"%({f})s" for f in _FIELDS)})
"""
UPDATE = (
    "UPDATE incidents SET "
    + ", ".join(f"{f} = %({f})s" for f in _FIELDS if f != "id")
    + " WHERE id = %(id)s"
)
GET = f"SELECT {_COLUMNS} FROM incidents WHERE id = %(id)s"
LOCK = GET + " FOR UPDATE"
LIST = f"""
SELECT {_COLUMNS} FROM incidents
WHERE (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(severity)s::text IS NULL OR severity = %(severity)s)
  AND (%(service)s::text IS NULL OR service = %(service)s)
  AND (%(after_at)s::timestamptz IS NULL OR (triggered_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY triggered_at DESC, id DESC
LIMIT %(limit)s
"""
IN_RANGE = f"""
SELECT {_COLUMNS} FROM incidents
WHERE triggered_at >= %(start)s AND triggered_at < %(end)s
ORDER BY triggered_at
"""
# Serialises alerts of one group within the tenant: the loser waits, then joins.
LOCK_GROUP = "SELECT pg_advisory_xact_lock(hashtextextended(%(key)s, 0))"
OPEN_IN_GROUP = f"""
SELECT {_COLUMNS} FROM incidents
WHERE group_key = %(group_key)s AND status <> 'resolved' AND last_alert_at >= %(since)s
ORDER BY last_alert_at DESC
LIMIT 1
FOR UPDATE
"""
LINK_ALERT = """
INSERT INTO incident_alerts (tenant_id, incident_id, alert_id, fingerprint, severity, labels,
                             linked_at)
VALUES (%(tenant_id)s, %(incident_id)s, %(alert_id)s, %(fingerprint)s, %(severity)s,
        %(labels)s, %(at)s)
ON CONFLICT DO NOTHING
"""
RESOLVE_ALERT = """
UPDATE incident_alerts SET resolved_at = %(at)s
WHERE alert_id = %(alert_id)s AND resolved_at IS NULL
RETURNING incident_id
"""
ALERTS = """
SELECT alert_id, fingerprint, severity, labels, linked_at, resolved_at FROM incident_alerts
WHERE incident_id = %(incident_id)s ORDER BY linked_at, alert_id
"""
ADD_TIMELINE = """
INSERT INTO incident_timeline (tenant_id, id, incident_id, at, kind, actor, message, data)
VALUES (%(tenant_id)s, %(id)s, %(incident_id)s, %(at)s, %(kind)s, %(actor)s, %(message)s,
        %(data)s)
"""
TIMELINE = """
SELECT id, incident_id, at, kind, actor, message, data FROM incident_timeline
WHERE incident_id = %(incident_id)s ORDER BY at, id
"""


def _to_incident(row: dict[str, Any]) -> Incident:
    return Incident(
        **{
            **row,
            "severity": Severity(row["severity"]),
            "status": IncidentStatus(row["status"]),
            "roles": dict(row["roles"]),
            "labels": dict(row["labels"]),
            "sla_breaches": tuple(row["sla_breaches"]),
        }
    )


def _params(incident: Incident) -> dict[str, Any]:
    return {
        **{f: getattr(incident, f) for f in _FIELDS},
        "severity": incident.severity.value,
        "status": incident.status.value,
        "roles": Jsonb(incident.roles),
        "labels": Jsonb(incident.labels),
        "sla_breaches": list(incident.sla_breaches),
    }


class PostgresIncidentRepository:
    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def add(self, incident: Incident) -> None:
        self._conn.execute(INSERT, _params(incident))

    def save(self, incident: Incident) -> None:
        self._conn.execute(UPDATE, _params(incident))

    def get(self, incident_id: str) -> Incident | None:
        row = self._cursor().execute(GET, {"id": incident_id}).fetchone()
        return _to_incident(row) if row else None

    def lock(self, incident_id: str) -> Incident | None:
        row = self._cursor().execute(LOCK, {"id": incident_id}).fetchone()
        return _to_incident(row) if row else None

    def search(
        self,
        page: PageRequest,
        status: str | None = None,
        severity: str | None = None,
        service: str | None = None,
    ) -> Page[Incident]:
        filters = {"status": status, "severity": severity, "service": service}
        rows = self._cursor().execute(LIST, {**filters, **keyset_params(page)}).fetchall()
        return keyset_page(rows, page, _to_incident, lambda i: (i.triggered_at, i.id))

    def in_range(self, start: datetime, end: datetime) -> list[Incident]:
        rows = self._cursor().execute(IN_RANGE, {"start": start, "end": end}).fetchall()
        return [_to_incident(r) for r in rows]

    def lock_group(self, group_key: str) -> None:
        self._conn.execute(LOCK_GROUP, {"key": f"incident-group:{self._tenant_id}:{group_key}"})

    def open_in_group(self, group_key: str, since: datetime) -> Incident | None:
        row = (
            self._cursor()
            .execute(OPEN_IN_GROUP, {"group_key": group_key, "since": since})
            .fetchone()
        )
        return _to_incident(row) if row else None

    def link_alert(self, incident_id: str, alert: AlertSnapshot, at: datetime) -> bool:
        cur = self._conn.execute(
            LINK_ALERT,
            {
                "tenant_id": self._tenant_id,
                "incident_id": incident_id,
                "alert_id": alert.id,
                "fingerprint": alert.fingerprint,
                "severity": alert.severity,
                "labels": Jsonb(alert.labels),
                "at": at,
            },
        )
        return cur.rowcount == 1

    def resolve_alert(self, alert_id: str, at: datetime) -> list[str]:
        rows = self._conn.execute(RESOLVE_ALERT, {"alert_id": alert_id, "at": at}).fetchall()
        return [str(r[0]) for r in rows]

    def alerts(self, incident_id: str) -> list[dict[str, Any]]:
        return self._cursor().execute(ALERTS, {"incident_id": incident_id}).fetchall()

    def add_timeline(self, entry: TimelineEntry) -> None:
        self._conn.execute(
            ADD_TIMELINE,
            {
                "tenant_id": self._tenant_id,
                "id": entry.id,
                "incident_id": entry.incident_id,
                "at": entry.at,
                "kind": entry.kind.value,
                "actor": entry.actor,
                "message": entry.message,
                "data": Jsonb(entry.data),
            },
        )

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        rows = self._cursor().execute(TIMELINE, {"incident_id": incident_id}).fetchall()
        return [
            TimelineEntry(
                id=r["id"],
                incident_id=r["incident_id"],
                at=r["at"],
                kind=TimelineKind(r["kind"]),
                actor=r["actor"],
                message=r["message"],
                data=dict(r["data"]),
            )
            for r in rows
        ]
