"""Post-mortems, their action items and the tenant's template; the incident evidence reads."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.domain.postmortems import (
    ActionItem,
    ActionItemStatus,
    Evidence,
    NarrativeSource,
    Postmortem,
    PostmortemStatus,
)
from orchestrix.services.postmortem_ports import OverdueItem, StoredTemplate

_FIELDS = (
    *("id", "tenant_id", "incident_id", "status", "title", "narrative", "narrative_source"),
    *("model_id", "contributing_factors", "evidence", "drafted_at", "created_at", "created_by"),
    *("updated_at", "published_at"),
)
_COLUMNS = ", ".join(_FIELDS)
INSERT = f"INSERT INTO postmortems ({_COLUMNS}) VALUES ({', '.join(f'%({f})s' for f in _FIELDS)})"
UPDATE = (
    "UPDATE postmortems SET "
    + ", ".join(f"{f} = %({f})s" for f in _FIELDS if f not in ("id", "tenant_id"))
    + " WHERE id = %(id)s"
)
FOR_INCIDENT = f"SELECT {_COLUMNS} FROM postmortems WHERE incident_id = %(incident_id)s"

_ITEM_FIELDS = ("id", "title", "owner_member_id", "due_date", "status", "created_at")
_ITEM_COLUMNS = ", ".join((*_ITEM_FIELDS, "completed_at"))
ITEMS = f"""
SELECT {_ITEM_COLUMNS} FROM postmortem_action_items
WHERE postmortem_id = %(postmortem_id)s ORDER BY position
"""
# Keeps `overdue_notified_for`: the published miss of a due date stays published.
UPSERT_ITEM = f"""
INSERT INTO postmortem_action_items (tenant_id, postmortem_id, position, {_ITEM_COLUMNS})
VALUES (%(tenant_id)s, %(postmortem_id)s, %(position)s,
        {", ".join(f"%({f})s" for f in (*_ITEM_FIELDS, "completed_at"))})
ON CONFLICT (tenant_id, id) DO UPDATE SET
    position = excluded.position, title = excluded.title,
    owner_member_id = excluded.owner_member_id, due_date = excluded.due_date,
    status = excluded.status, completed_at = excluded.completed_at
"""
DELETE_OTHER_ITEMS = """
DELETE FROM postmortem_action_items
WHERE postmortem_id = %(postmortem_id)s AND NOT (id = ANY(%(keep)s))
"""
OVERDUE = """
SELECT id FROM postmortem_action_items
WHERE status = 'open' AND due_date < %(today)s
  AND overdue_notified_for IS DISTINCT FROM due_date
ORDER BY due_date, id
LIMIT %(limit)s
"""
CLAIM_OVERDUE = f"""
UPDATE postmortem_action_items i SET overdue_notified_for = i.due_date
FROM postmortems p
WHERE i.id = %(id)s AND p.tenant_id = i.tenant_id AND p.id = i.postmortem_id
  AND i.status = 'open' AND i.due_date < %(today)s
  AND i.overdue_notified_for IS DISTINCT FROM i.due_date
RETURNING {", ".join(f"i.{c}" for c in (*_ITEM_FIELDS, "completed_at"))},
          i.postmortem_id, p.incident_id
"""
TEMPLATE = "SELECT body, updated_at, updated_by FROM postmortem_templates"
SAVE_TEMPLATE = """
INSERT INTO postmortem_templates (tenant_id, body, updated_at, updated_by)
VALUES (%(tenant_id)s, %(body)s, %(updated_at)s, %(updated_by)s)
ON CONFLICT (tenant_id) DO UPDATE SET
    body = excluded.body, updated_at = excluded.updated_at, updated_by = excluded.updated_by
"""


def _to_item(row: dict[str, Any]) -> ActionItem:
    return ActionItem(
        id=row["id"],
        title=row["title"],
        owner_member_id=row["owner_member_id"],
        due_date=row["due_date"],
        status=ActionItemStatus(row["status"]),
        created_at=row["created_at"],
        completed_at=row["completed_at"],
    )


class PostgresPostmortemRepository:
    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def add(self, postmortem: Postmortem) -> None:
        self._conn.execute(INSERT, _params(postmortem))
        self._save_items(postmortem)

    def save(self, postmortem: Postmortem) -> None:
        self._conn.execute(UPDATE, _params(postmortem))
        self._save_items(postmortem)

    def _save_items(self, postmortem: Postmortem) -> None:
        keep = [i.id for i in postmortem.action_items]
        self._conn.execute(DELETE_OTHER_ITEMS, {"postmortem_id": postmortem.id, "keep": keep})
        with self._conn.cursor() as cur:
            cur.executemany(
                UPSERT_ITEM,
                [
                    {
                        "tenant_id": self._tenant_id,
                        "postmortem_id": postmortem.id,
                        "position": n,
                        **{f: getattr(item, f) for f in _ITEM_FIELDS},
                        "status": item.status.value,
                        "completed_at": item.completed_at,
                    }
                    for n, item in enumerate(postmortem.action_items)
                ],
            )

    def for_incident(self, incident_id: str, *, lock: bool = False) -> Postmortem | None:
        query = FOR_INCIDENT + (" FOR UPDATE" if lock else "")
        row = self._cursor().execute(query, {"incident_id": incident_id}).fetchone()
        if row is None:
            return None
        items = self._cursor().execute(ITEMS, {"postmortem_id": row["id"]}).fetchall()
        return Postmortem(
            **{
                **row,
                "status": PostmortemStatus(row["status"]),
                "narrative_source": NarrativeSource(row["narrative_source"]),
                "contributing_factors": tuple(row["contributing_factors"]),
                "evidence": Evidence.from_json(row["evidence"]),
            },
            action_items=tuple(_to_item(r) for r in items),
        )

    def overdue(self, today: date, limit: int) -> list[str]:
        rows = self._conn.execute(OVERDUE, {"today": today, "limit": limit}).fetchall()
        return [str(r[0]) for r in rows]

    def claim_overdue(self, item_id: str, today: date) -> OverdueItem | None:
        row = self._cursor().execute(CLAIM_OVERDUE, {"id": item_id, "today": today}).fetchone()
        if row is None:
            return None
        return OverdueItem(_to_item(row), row["postmortem_id"], row["incident_id"])

    def template(self) -> StoredTemplate | None:
        row = self._cursor().execute(TEMPLATE).fetchone()
        return StoredTemplate(**row) if row else None

    def save_template(self, template: StoredTemplate) -> None:
        self._conn.execute(
            SAVE_TEMPLATE,
            {
                "tenant_id": self._tenant_id,
                "body": template.body,
                "updated_at": template.updated_at,
                "updated_by": template.updated_by,
            },
        )


def _params(postmortem: Postmortem) -> dict[str, Any]:
    return {
        **{f: getattr(postmortem, f) for f in _FIELDS},
        "status": postmortem.status.value,
        "narrative_source": postmortem.narrative_source.value,
        "contributing_factors": Jsonb(list(postmortem.contributing_factors)),
        "evidence": Jsonb(postmortem.evidence.as_json()),
    }


ALERTS = """
SELECT ia.alert_id AS id, coalesce(a.name, ia.labels->>'alertname', 'alert') AS name,
       ia.severity, coalesce(a.annotations->>'summary', a.annotations->>'description') AS summary,
       coalesce(a.starts_at, ia.linked_at) AS starts_at,
       coalesce(ia.resolved_at, CASE WHEN a.status = 'resolved' THEN a.ends_at END) AS resolved_at
FROM incident_alerts ia
LEFT JOIN alerts a ON a.tenant_id = ia.tenant_id AND a.id = ia.alert_id
WHERE ia.incident_id = %(incident_id)s
ORDER BY ia.linked_at, ia.alert_id
"""
# Executions reach an incident through its alerts' remediations; a remediation whose
# workflow has not started yet shows as itself.
EXECUTIONS = """
SELECT coalesce(r.execution_id, r.id) AS id, r.workflow_id,
       coalesce(x.status, r.status) AS status, coalesce(x.started_at, r.started_at) AS started_at,
       coalesce(x.finished_at, r.finished_at) AS finished_at,
       coalesce(x.error, r.reason) AS error
FROM incident_alerts ia
JOIN alert_remediations r ON r.tenant_id = ia.tenant_id AND r.alert_id = ia.alert_id
LEFT JOIN workflow_executions x ON x.tenant_id = r.tenant_id AND x.id = r.execution_id
WHERE ia.incident_id = %(incident_id)s
ORDER BY 4, 1
"""
MEMBER_NAMES = "SELECT id, name FROM members WHERE id = ANY(%(ids)s)"


class PostgresIncidentEvidence:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def alerts(self, incident_id: str) -> list[dict[str, Any]]:
        cur = self._conn.cursor(row_factory=dict_row)
        return cur.execute(ALERTS, {"incident_id": incident_id}).fetchall()

    def executions(self, incident_id: str) -> list[dict[str, Any]]:
        cur = self._conn.cursor(row_factory=dict_row)
        return cur.execute(EXECUTIONS, {"incident_id": incident_id}).fetchall()

    def member_names(self, member_ids: list[str]) -> dict[str, str]:
        rows = self._conn.execute(MEMBER_NAMES, {"ids": member_ids}).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}
