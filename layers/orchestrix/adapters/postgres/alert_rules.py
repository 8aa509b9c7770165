"""Alert rules and their evaluation state (the ALERTS_FOR_STATE equivalent)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.alerting.evaluation import ActiveState
from orchestrix.domain.alerting.rules import AlertRule, ThresholdSpec
from orchestrix.domain.anomaly.spec import AnomalySpec
from orchestrix.domain.pagination import Page, PageRequest

_COLUMNS = (
    "id, tenant_id, name, group_name, interval_s, expr, threshold, anomaly, for_s,"
    " keep_firing_for_s, labels, annotations, severity, remediation_workflow_id,"
    " escalation_policy_id, enabled,"
    " created_at, updated_at, created_by, last_evaluated_at, last_error, last_duration_ms,"
    " language"
)
_VALUES = (
    "%(id)s, %(tenant_id)s, %(name)s, %(group_name)s, %(interval_s)s, %(expr)s, %(threshold)s,"
    " %(anomaly)s,"
    " %(for_s)s, %(keep_firing_for_s)s, %(labels)s, %(annotations)s, %(severity)s,"
    " %(remediation_workflow_id)s, %(escalation_policy_id)s, %(enabled)s, %(created_at)s,"
    " %(updated_at)s, %(created_by)s, %(last_evaluated_at)s, %(last_error)s,"
    " %(last_duration_ms)s, %(language)s"
)
INSERT = f"INSERT INTO alert_rules ({_COLUMNS}) VALUES ({_VALUES})"
UPDATE = """
UPDATE alert_rules SET name = %(name)s, group_name = %(group_name)s, interval_s = %(interval_s)s,
  expr = %(expr)s, threshold = %(threshold)s, anomaly = %(anomaly)s, for_s = %(for_s)s,
  keep_firing_for_s = %(keep_firing_for_s)s, labels = %(labels)s, annotations = %(annotations)s,
  severity = %(severity)s, remediation_workflow_id = %(remediation_workflow_id)s,
  escalation_policy_id = %(escalation_policy_id)s, enabled = %(enabled)s,
  updated_at = %(updated_at)s, language = %(language)s
WHERE id = %(id)s
"""
GET = f"SELECT {_COLUMNS} FROM alert_rules WHERE id = %(id)s"
DELETE = "DELETE FROM alert_rules WHERE id = %(id)s"
LIST = f"""
SELECT {_COLUMNS} FROM alert_rules
WHERE (%(after_at)s::timestamptz IS NULL OR (created_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""
ALL = f"SELECT {_COLUMNS} FROM alert_rules ORDER BY group_name, created_at, id"
ENABLED = f"SELECT {_COLUMNS} FROM alert_rules WHERE enabled ORDER BY group_name, created_at, id"
MARK_EVALUATED = """
UPDATE alert_rules SET last_evaluated_at = %(at)s, last_error = %(error)s,
  last_duration_ms = %(duration_ms)s
WHERE id = %(id)s
"""
STATES = """
SELECT rule_id, fingerprint, labels, annotations, state, active_at, fired_at, last_seen_at,
       keep_firing_since, value
FROM alert_rule_states WHERE rule_id = ANY(%(rule_ids)s)
"""
UPSERT_STATE = """
INSERT INTO alert_rule_states (tenant_id, rule_id, fingerprint, labels, annotations, state,
  active_at, fired_at, last_seen_at, keep_firing_since, value)
VALUES (%(tenant_id)s, %(rule_id)s, %(fingerprint)s, %(labels)s, %(annotations)s, %(state)s,
  %(active_at)s, %(fired_at)s, %(last_seen_at)s, %(keep_firing_since)s, %(value)s)
ON CONFLICT (tenant_id, rule_id, fingerprint) DO UPDATE SET
  annotations = excluded.annotations, state = excluded.state, fired_at = excluded.fired_at,
  last_seen_at = excluded.last_seen_at, keep_firing_since = excluded.keep_firing_since,
  value = excluded.value
"""
DELETE_STATES = """
DELETE FROM alert_rule_states s
USING unnest(%(rule_ids)s::text[], %(fps)s::text[]) AS gone(rule_id, fingerprint)
WHERE s.rule_id = gone.rule_id AND s.fingerprint = gone.fingerprint
"""
EVAL_LOCK = "SELECT pg_try_advisory_xact_lock(hashtext('orchestrix.evaluate_rules'), hashtext(%s))"


def _to_rule(row: dict[str, Any]) -> AlertRule:
    threshold = row.pop("threshold")
    anomaly = row.pop("anomaly")
    row["group"] = row.pop("group_name")
    return AlertRule(
        **row,
        threshold=ThresholdSpec.from_dict(threshold) if threshold else None,
        anomaly=AnomalySpec.from_dict(anomaly) if anomaly else None,
    )


def _params(rule: AlertRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "tenant_id": rule.tenant_id,
        "name": rule.name,
        "group_name": rule.group,
        "interval_s": rule.interval_s,
        "expr": rule.expr,
        "threshold": Jsonb(rule.threshold.as_dict()) if rule.threshold else None,
        "anomaly": Jsonb(rule.anomaly.as_dict()) if rule.anomaly else None,
        "for_s": rule.for_s,
        "keep_firing_for_s": rule.keep_firing_for_s,
        "labels": Jsonb(rule.labels),
        "annotations": Jsonb(rule.annotations),
        "severity": rule.severity,
        "remediation_workflow_id": rule.remediation_workflow_id,
        "escalation_policy_id": rule.escalation_policy_id,
        "enabled": rule.enabled,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
        "created_by": rule.created_by,
        "last_evaluated_at": rule.last_evaluated_at,
        "last_error": rule.last_error,
        "last_duration_ms": rule.last_duration_ms,
        "language": rule.language,
    }


class PostgresAlertRuleRepository:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def add(self, rule: AlertRule) -> None:
        self._conn.execute(INSERT, _params(rule))

    def add_many(self, rules: Sequence[AlertRule]) -> None:
        if rules:
            self._conn.cursor().executemany(INSERT, [_params(r) for r in rules])

    def update(self, rule: AlertRule) -> None:
        self._conn.execute(UPDATE, _params(rule))

    def get(self, rule_id: str) -> AlertRule | None:
        row = self._cursor().execute(GET, {"id": rule_id}).fetchone()
        return _to_rule(row) if row else None

    def delete(self, rule_id: str) -> bool:
        return self._conn.execute(DELETE, {"id": rule_id}).rowcount > 0

    def all(self, enabled_only: bool = False) -> list[AlertRule]:
        return [_to_rule(r) for r in self._cursor().execute(ENABLED if enabled_only else ALL)]

    def try_lock_evaluation(self, tenant_id: str) -> bool:
        """Only one evaluation per tenant at a time; a second one skips (transaction lock)."""
        row = self._conn.execute(EVAL_LOCK, (tenant_id,)).fetchone()
        return bool(row and row[0])

    def mark_evaluated(self, results: Iterable[tuple[str, datetime, str | None, float]]) -> None:
        params = [
            {"id": rid, "at": at, "error": err, "duration_ms": ms} for rid, at, err, ms in results
        ]
        if params:
            self._conn.cursor().executemany(MARK_EVALUATED, params)

    def states(self, rule_ids: Sequence[str]) -> dict[str, dict[str, ActiveState]]:
        out: dict[str, dict[str, ActiveState]] = {rid: {} for rid in rule_ids}
        if not rule_ids:
            return out
        for row in self._cursor().execute(STATES, {"rule_ids": list(rule_ids)}):
            rule_id = row.pop("rule_id")
            out.setdefault(rule_id, {})[row["fingerprint"]] = ActiveState(**row)
        return out

    def save_states(
        self,
        tenant_id: str,
        upserts: Sequence[tuple[str, ActiveState]],
        deletes: Sequence[tuple[str, str]],
    ) -> None:
        if upserts:
            self._conn.cursor().executemany(
                UPSERT_STATE,
                [
                    {
                        "tenant_id": tenant_id,
                        "rule_id": rule_id,
                        "fingerprint": s.fingerprint,
                        "labels": Jsonb(s.labels),
                        "annotations": Jsonb(s.annotations),
                        "state": s.state,
                        "active_at": s.active_at,
                        "fired_at": s.fired_at,
                        "last_seen_at": s.last_seen_at,
                        "keep_firing_since": s.keep_firing_since,
                        "value": s.value,
                    }
                    for rule_id, s in upserts
                ],
            )
        if deletes:
            self._conn.execute(
                DELETE_STATES,
                {"rule_ids": [d[0] for d in deletes], "fps": [d[1] for d in deletes]},
            )

    def list(self, page: PageRequest) -> Page[AlertRule]:
        rows = self._cursor().execute(LIST, keyset_params(page)).fetchall()
        return keyset_page(rows, page, _to_rule, lambda r: (r.created_at, r.id))
