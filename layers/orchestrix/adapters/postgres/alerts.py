"""Alerts and their occurrences. Batch calls keep an intake of 100 alerts to a few trips."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.alerting.alerts import Alert, AlertFilter, AlertStatus
from orchestrix.domain.pagination import Page, PageRequest

_FIELDS = (
    "id",
    "tenant_id",
    "fingerprint",
    "status",
    "source",
    "name",
    "severity",
    "labels",
    "annotations",
    "value",
    "rule_id",
    "dedup_key",
    "generator_url",
    "starts_at",
    "ends_at",
    "last_received_at",
    "occurrences",
    "acknowledged_at",
    "acknowledged_by",
    "resolved_by",
    "silenced_by",
    "created_at",
    "updated_at",
)
_COLUMNS = ", ".join(_FIELDS)
INSERT = f"INSERT INTO alerts ({_COLUMNS}) VALUES ({', '.join(f'%({f})s' for f in _FIELDS)})"
UPDATE = f"""
UPDATE alerts SET {", ".join(f"{f} = %({f})s" for f in _FIELDS[3:] if f != "created_at")}
WHERE id = %(id)s
"""
GET = f"SELECT {_COLUMNS} FROM alerts WHERE id = %(id)s"
# The latest alert of each fingerprint: the open one if any (at most one), else the last.
LATEST = f"""
SELECT DISTINCT ON (fingerprint) {_COLUMNS} FROM alerts
WHERE fingerprint = ANY(%(fps)s)
ORDER BY fingerprint, (status <> 'resolved') DESC, created_at DESC
"""
LIST = f"""
SELECT {_COLUMNS} FROM alerts
WHERE (%(statuses)s::text[] IS NULL OR status = ANY(%(statuses)s))
  AND (%(severities)s::text[] IS NULL OR severity = ANY(%(severities)s))
  AND (%(labels)s::jsonb IS NULL OR labels @> %(labels)s)
  AND (%(rule_id)s::text IS NULL OR rule_id = %(rule_id)s)
  AND (%(since)s::timestamptz IS NULL OR starts_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR starts_at < %(until)s)
  AND (%(after_at)s::timestamptz IS NULL OR (starts_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY starts_at DESC, id DESC
LIMIT %(limit)s
"""
INSERT_OCCURRENCE = """
INSERT INTO alert_occurrences (tenant_id, alert_id, at, status, source, value, payload)
VALUES (%(tenant_id)s, %(alert_id)s, %(at)s, %(status)s, %(source)s, %(value)s, %(payload)s)
"""
OCCURRENCES = """
SELECT at, status, source, value, payload FROM alert_occurrences
WHERE alert_id = %(id)s ORDER BY seq DESC LIMIT %(limit)s
"""


def _to_alert(row: dict[str, Any]) -> Alert:
    row["status"] = AlertStatus(row["status"])
    row["silenced_by"] = tuple(row["silenced_by"] or ())
    return Alert(**row)


def _params(alert: Alert) -> dict[str, Any]:
    p = {f: getattr(alert, f) for f in _FIELDS}
    p["status"] = alert.status.value
    p["labels"] = Jsonb(alert.labels)
    p["annotations"] = Jsonb(alert.annotations)
    p["silenced_by"] = list(alert.silenced_by)
    return p


class PostgresAlertRepository:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def get(self, alert_id: str) -> Alert | None:
        row = self._cursor().execute(GET, {"id": alert_id}).fetchone()
        return _to_alert(row) if row else None

    def latest_by_fingerprint(self, fingerprints: Sequence[str]) -> dict[str, Alert]:
        if not fingerprints:
            return {}
        rows = self._cursor().execute(LATEST, {"fps": list(set(fingerprints))}).fetchall()
        return {r["fingerprint"]: _to_alert(r) for r in rows}

    def insert_many(self, alerts: Sequence[Alert]) -> None:
        if alerts:
            self._conn.cursor().executemany(INSERT, [_params(a) for a in alerts])

    def update_many(self, alerts: Sequence[Alert]) -> None:
        if alerts:
            self._conn.cursor().executemany(UPDATE, [_params(a) for a in alerts])

    def add_occurrences(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            params = [{**r, "payload": Jsonb(r["payload"]) if r["payload"] else None} for r in rows]
            self._conn.cursor().executemany(INSERT_OCCURRENCE, params)

    def occurrences(self, alert_id: str, limit: int = 20) -> list[dict[str, Any]]:
        return self._cursor().execute(OCCURRENCES, {"id": alert_id, "limit": limit}).fetchall()

    def list(self, filters: AlertFilter, page: PageRequest) -> Page[Alert]:
        equal = {m.name: m.value for m in filters.matchers if m.op == "="}
        params = {
            "statuses": [s.value for s in filters.statuses] or None,
            "severities": list(filters.severities) or None,
            "labels": Jsonb(equal) if equal else None,
            "rule_id": filters.rule_id,
            "since": filters.since,
            "until": filters.until,
            **keyset_params(page),
        }
        others = [m for m in filters.matchers if m.op != "="]
        if not others:
            rows = self._cursor().execute(LIST, params).fetchall()
            alerts = [_to_alert(r) for r in rows]
        else:
            # Regex and negative matchers are applied here, so fetch until the page fills.
            alerts = []
            while len(alerts) <= page.limit:
                rows = self._cursor().execute(LIST, params).fetchall()
                batch = [_to_alert(r) for r in rows]
                alerts += [a for a in batch if all(m.matches(a.labels) for m in others)]
                if len(rows) <= page.limit:
                    break
                params["after_at"], params["after_id"] = batch[-1].starts_at, batch[-1].id
        # Rows are already mapped (and filtered) here, so the mapping step is the identity.
        return keyset_page(alerts, page, lambda a: a, lambda a: (a.starts_at, a.id))
