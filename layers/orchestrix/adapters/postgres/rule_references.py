"""Do the escalation policy and workflow an alert rule names exist in the caller's tenant?

Asked on the rule write's own transaction, so row-level security hides other tenants' rows
and a foreign id reads exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

import psycopg

POLICY_EXISTS = "SELECT 1 FROM escalation_policies WHERE id = %(id)s"
# A deleted workflow keeps its row (executions point at it) but can no longer be started.
WORKFLOW_EXISTS = "SELECT 1 FROM workflows WHERE id = %(id)s AND deleted_at IS NULL"


class PostgresRuleReferences:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _exists(self, sql: str, object_id: str) -> bool:
        return self._conn.execute(sql, {"id": object_id}).fetchone() is not None

    def escalation_policy_exists(self, policy_id: str) -> bool:
        return self._exists(POLICY_EXISTS, policy_id)

    def workflow_exists(self, workflow_id: str) -> bool:
        return self._exists(WORKFLOW_EXISTS, workflow_id)
