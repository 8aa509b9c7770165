"""PostgreSQL storage for alert remediations (one row per attempt)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from orchestrix.services.remediation_ports import Remediation, RemediationStatus

_COLUMNS = (
    "id, tenant_id, alert_id, rule_id, workflow_id, attempt, status, sfn_execution_arn,"
    " execution_id, execution_status, recheck_at, reason, started_at, finished_at"
)

# ON CONFLICT without a target also covers the partial "one running per alert" index.
INSERT = """
INSERT INTO alert_remediations (id, tenant_id, alert_id, rule_id, workflow_id, attempt, status,
                                sfn_execution_arn, started_at)
VALUES (%(id)s, %(tenant_id)s, %(alert_id)s, %(rule_id)s, %(workflow_id)s, %(attempt)s,
        %(status)s, %(sfn_execution_arn)s, %(started_at)s)
ON CONFLICT DO NOTHING
"""
GET = f"SELECT {_COLUMNS} FROM alert_remediations WHERE id = %(id)s"
RUNNING = f"""
SELECT {_COLUMNS} FROM alert_remediations WHERE alert_id = %(alert_id)s AND status = 'running'
"""
BY_EXECUTION = f"""
SELECT {_COLUMNS} FROM alert_remediations WHERE execution_id = %(execution_id)s
ORDER BY attempt DESC LIMIT 1
"""
ALL_RUNNING = f"""
SELECT {_COLUMNS} FROM alert_remediations WHERE status = 'running' ORDER BY started_at, id
"""
NEXT_ATTEMPT = """
SELECT coalesce(max(attempt), 0) + 1 FROM alert_remediations WHERE alert_id = %(alert_id)s
"""
UPDATE = """
UPDATE alert_remediations
SET status = %(status)s, execution_id = %(execution_id)s,
    execution_status = %(execution_status)s, recheck_at = %(recheck_at)s, reason = %(reason)s,
    finished_at = %(finished_at)s
WHERE id = %(id)s
"""
FOR_ALERT = f"""
SELECT {_COLUMNS} FROM alert_remediations WHERE alert_id = %(alert_id)s ORDER BY attempt DESC
"""


def _to_remediation(row: dict[str, Any]) -> Remediation:
    return Remediation(**{**row, "status": RemediationStatus(row["status"])})


def _params(r: Remediation) -> dict[str, Any]:
    return {
        "id": r.id,
        "tenant_id": r.tenant_id,
        "alert_id": r.alert_id,
        "rule_id": r.rule_id,
        "workflow_id": r.workflow_id,
        "attempt": r.attempt,
        "status": r.status.value,
        "sfn_execution_arn": r.sfn_execution_arn,
        "execution_id": r.execution_id,
        "execution_status": r.execution_status,
        "recheck_at": r.recheck_at,
        "reason": r.reason,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
    }


class PostgresRemediationRepository:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def add(self, remediation: Remediation) -> bool:
        cur = self._cursor()
        cur.execute(INSERT, _params(remediation))
        return cur.rowcount == 1

    def get(self, remediation_id: str) -> Remediation | None:
        row = self._cursor().execute(GET, {"id": remediation_id}).fetchone()
        return None if row is None else _to_remediation(row)

    def running(self, alert_id: str) -> Remediation | None:
        row = self._cursor().execute(RUNNING, {"alert_id": alert_id}).fetchone()
        return None if row is None else _to_remediation(row)

    def by_execution(self, execution_id: str) -> Remediation | None:
        row = self._cursor().execute(BY_EXECUTION, {"execution_id": execution_id}).fetchone()
        return None if row is None else _to_remediation(row)

    def all_running(self) -> list[Remediation]:
        rows = self._cursor().execute(ALL_RUNNING).fetchall()
        return [_to_remediation(r) for r in rows]

    def next_attempt(self, alert_id: str) -> int:
        row = self._conn.execute(NEXT_ATTEMPT, {"alert_id": alert_id}).fetchone()
        return int(row[0]) if row else 1

    def update(self, remediation: Remediation) -> None:
        self._cursor().execute(UPDATE, _params(remediation))

    def for_alert(self, alert_id: str) -> list[Remediation]:
        rows = self._cursor().execute(FOR_ALERT, {"alert_id": alert_id}).fetchall()
        return [_to_remediation(r) for r in rows]
