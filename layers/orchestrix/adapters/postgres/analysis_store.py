"""Alerts as evidence (correlation, root cause), stored analyses and language model usage."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
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
# The day's row is created if need be, then updated only while the reservation fits: the
# UPDATE locks the row, so a concurrent reservation waits and re-checks the new totals.
ENSURE_USAGE_DAY = """
INSERT INTO llm_usage (tenant_id, day) VALUES (%(tenant_id)s, %(day)s)
ON CONFLICT (tenant_id, day) DO NOTHING
"""
RESERVE_USAGE = """
UPDATE llm_usage
SET reserved_tokens = reserved_tokens + %(tokens)s, reserved_usd = reserved_usd + %(usd)s
WHERE day = %(day)s
  AND input_tokens + output_tokens + reserved_tokens + %(tokens)s <= %(max_tokens)s
  AND cost_usd + reserved_usd + %(usd)s <= %(max_usd)s
RETURNING 1
"""
REFUSE_USAGE = "UPDATE llm_usage SET refused = refused + 1 WHERE day = %(day)s"
SETTLE_USAGE = """
UPDATE llm_usage
SET reserved_tokens = greatest(reserved_tokens - %(held_tokens)s, 0),
    reserved_usd = greatest(reserved_usd - %(held_usd)s, 0),
    calls = calls + %(calls)s,
    input_tokens = input_tokens + %(input_tokens)s,
    output_tokens = output_tokens + %(output_tokens)s,
    cost_usd = cost_usd + %(cost_usd)s
WHERE day = %(day)s
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

    def reserve(self, day: date, held: Usage, max_tokens: int, max_cost_usd: float) -> bool:
        self._conn.execute(ENSURE_USAGE_DAY, {"tenant_id": self._tenant_id, "day": day})
        params = {
            "day": day,
            "tokens": held.tokens,
            "usd": _money(held.cost_usd, ROUND_CEILING),
            "max_tokens": max_tokens,
            "max_usd": _money(max_cost_usd),
        }
        if self._conn.execute(RESERVE_USAGE, params).fetchone() is not None:
            return True
        self._conn.execute(REFUSE_USAGE, {"day": day})
        return False

    def settle(self, day: date, held: Usage, used: Usage) -> None:
        self._conn.execute(
            SETTLE_USAGE,
            {
                "day": day,
                "held_tokens": held.tokens,
                "held_usd": _money(held.cost_usd, ROUND_CEILING),
                "calls": used.calls,
                "input_tokens": used.input_tokens,
                "output_tokens": used.output_tokens,
                "cost_usd": _money(used.cost_usd),
            },
        )


def _money(usd: float, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    # numeric(12, 6) columns; a reservation is rounded up, never below what it holds
    return Decimal(str(usd)).quantize(Decimal("0.000001"), rounding=rounding)
