"""Alerts as evidence (correlation, root cause), stored analyses and language model usage."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.domain.incidents import AlertSnapshot
from orchestrix.domain.intelligence.correlation import OpenIncident
from orchestrix.domain.intelligence.evidence import Signal, signal_kind
from orchestrix.services.intelligence_stores import FiringAlert, StoredAnalysis, Usage

# Bounded: correlation runs on every firing alert; a tenant with more open alerts than this
# gets inhibition/rule counts over the newest ones.
FIRING = """
SELECT a.id, a.fingerprint, a.labels, a.annotations, a.severity, a.rule_id, a.starts_at,
       (SELECT ia.incident_id FROM incident_alerts ia
        JOIN incidents i ON i.tenant_id = ia.tenant_id AND i.id = ia.incident_id
        WHERE ia.alert_id = a.id AND i.status <> 'resolved'
        ORDER BY ia.linked_at DESC LIMIT 1) AS incident_id
FROM alerts a
WHERE a.status IN ('firing', 'acknowledged')
ORDER BY a.starts_at DESC
LIMIT 1000
"""
OPEN_INCIDENTS = """
SELECT i.id, i.service, i.labels,
       ARRAY(SELECT DISTINCT ia.labels ->> 'service' FROM incident_alerts ia
             WHERE ia.incident_id = i.id AND ia.labels ? 'service') AS services
FROM incidents i
WHERE status <> 'resolved' AND coalesce(last_alert_at, triggered_at) >= %(since)s
ORDER BY coalesce(last_alert_at, triggered_at) DESC
LIMIT 200
"""
OPEN_GROUP = """
SELECT EXISTS (SELECT 1 FROM incidents
               WHERE group_key = %(group_key)s AND status <> 'resolved'
                 AND last_alert_at >= %(since)s)
"""
SIGNALS = """
SELECT a.id, a.name, a.source, a.severity, a.labels, a.starts_at, a.ends_at,
       EXISTS (SELECT 1 FROM incident_alerts ia
               WHERE ia.alert_id = a.id AND ia.incident_id = %(incident_id)s) AS linked
FROM alerts a
WHERE a.starts_at <= %(end)s AND (a.ends_at IS NULL OR a.ends_at >= %(start)s)
  AND a.status <> 'suppressed'
ORDER BY a.starts_at, a.id
LIMIT 2000
"""
GET_ANALYSIS = """
SELECT incident_id, analyser, model_id, summary, claims, dropped, candidates, note,
       input_tokens, output_tokens, created_by, created_at
FROM incident_analyses WHERE incident_id = %(incident_id)s
"""
PUT_ANALYSIS = """
INSERT INTO incident_analyses (tenant_id, incident_id, analyser, model_id, summary, claims,
                               dropped, candidates, note, input_tokens, output_tokens,
                               created_by, created_at)
VALUES (%(tenant_id)s, %(incident_id)s, %(analyser)s, %(model_id)s, %(summary)s, %(claims)s,
        %(dropped)s, %(candidates)s, %(note)s, %(input_tokens)s, %(output_tokens)s,
        %(created_by)s, %(created_at)s)
ON CONFLICT (tenant_id, incident_id) DO UPDATE SET
    analyser = EXCLUDED.analyser, model_id = EXCLUDED.model_id, summary = EXCLUDED.summary,
    claims = EXCLUDED.claims, dropped = EXCLUDED.dropped, candidates = EXCLUDED.candidates,
    note = EXCLUDED.note, input_tokens = EXCLUDED.input_tokens,
    output_tokens = EXCLUDED.output_tokens, created_by = EXCLUDED.created_by,
    created_at = EXCLUDED.created_at
"""
USAGE = """
SELECT calls, input_tokens, output_tokens, cost_usd FROM llm_usage WHERE day = %(day)s
"""
ADD_USAGE = """
INSERT INTO llm_usage (tenant_id, day, calls, refused, input_tokens, output_tokens, cost_usd)
VALUES (%(tenant_id)s, %(day)s, %(calls)s, %(refused)s, %(input_tokens)s, %(output_tokens)s,
        %(cost_usd)s)
ON CONFLICT (tenant_id, day) DO UPDATE SET
    calls = llm_usage.calls + EXCLUDED.calls, refused = llm_usage.refused + EXCLUDED.refused,
    input_tokens = llm_usage.input_tokens + EXCLUDED.input_tokens,
    output_tokens = llm_usage.output_tokens + EXCLUDED.output_tokens,
    cost_usd = llm_usage.cost_usd + EXCLUDED.cost_usd
"""


class PostgresSignalReader:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def firing(self) -> list[FiringAlert]:
        out = []
        for r in self._cursor().execute(FIRING).fetchall():
            alert = AlertSnapshot(
                id=r["id"],
                fingerprint=r["fingerprint"],
                labels=dict(r["labels"]),
                annotations=dict(r["annotations"]),
                severity=r["severity"],
                suppressed=False,
                escalation_policy_id=None,
                rule_id=r["rule_id"],
                at=r["starts_at"],
            )
            out.append(FiringAlert(alert, r["starts_at"], r["incident_id"]))
        return out

    def open_incidents(self, since: datetime) -> list[OpenIncident]:
        rows = self._cursor().execute(OPEN_INCIDENTS, {"since": since}).fetchall()
        return [
            OpenIncident(r["id"], r["service"], dict(r["labels"]), tuple(r["services"]))
            for r in rows
        ]

    def has_open_group(self, group_key: str, since: datetime) -> bool:
        row = self._conn.execute(OPEN_GROUP, {"group_key": group_key, "since": since}).fetchone()
        return bool(row and row[0])

    def signals(self, start: datetime, end: datetime, incident_id: str) -> list[Signal]:
        params = {"start": start, "end": end, "incident_id": incident_id}
        out = []
        for r in self._cursor().execute(SIGNALS, params).fetchall():
            labels = dict(r["labels"])
            out.append(
                Signal(
                    id=r["id"],
                    service=labels.get("service"),
                    name=r["name"],
                    kind=signal_kind(labels, r["source"]),
                    started_at=r["starts_at"],
                    severity=r["severity"],
                    labels=labels,
                    linked=r["linked"],
                    ended_at=r["ends_at"],
                )
            )
        return out


class PostgresAnalysisRepository:
    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def get(self, incident_id: str) -> StoredAnalysis | None:
        cur = self._conn.cursor(row_factory=dict_row)
        row = cur.execute(GET_ANALYSIS, {"incident_id": incident_id}).fetchone()
        return StoredAnalysis(**row) if row else None

    def save(self, analysis: StoredAnalysis) -> None:
        params = dict(analysis.__dict__)
        for key in ("claims", "dropped", "candidates"):
            params[key] = Jsonb(params[key])
        self._conn.execute(PUT_ANALYSIS, {**params, "tenant_id": self._tenant_id})


class PostgresUsageRepository:
    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def on(self, day: date) -> Usage:
        row = self._conn.cursor(row_factory=dict_row).execute(USAGE, {"day": day}).fetchone()
        if row is None:
            return Usage()
        return Usage(
            row["calls"], row["input_tokens"], row["output_tokens"], float(row["cost_usd"])
        )

    def add(self, day: date, usage: Usage, refused: bool) -> None:
        self._conn.execute(
            ADD_USAGE,
            {
                "tenant_id": self._tenant_id,
                "day": day,
                "calls": usage.calls,
                "refused": 1 if refused else 0,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cost_usd": usage.cost_usd,
            },
        )
