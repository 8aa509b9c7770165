"""PostgreSQL storage for workflows, versions, executions and approvals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.adapters.postgres.database import Database
from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.adapters.postgres.unit_of_work import PostgresUnitOfWork
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.workflow.execution import (
    Approval,
    ApprovalStatus,
    Execution,
    ExecutionStatus,
    Workflow,
    WorkflowVersion,
)

_WF = (
    "id, tenant_id, name, description, current_version, created_at, created_by, updated_at,"
    " deleted_at"
)
_EX = (
    "id, tenant_id, workflow_id, workflow_version, status, input, output, idempotency_key,"
    " sfn_execution_arn, started_by, started_at, finished_at, error, cause, cancel_reason,"
    " reject_reason"
)
_AP = (
    "execution_id, step_id, token, message, status, requested_at, expires_at, decided_at,"
    " decided_by, reason"
)

INSERT_WORKFLOW = """
INSERT INTO workflows (id, tenant_id, name, description, current_version, created_at,
                       created_by, updated_at)
VALUES (%(id)s, %(tenant_id)s, %(name)s, %(description)s, %(current_version)s, %(created_at)s,
        %(created_by)s, %(updated_at)s)
"""
GET_WORKFLOW = f"SELECT {_WF} FROM workflows WHERE id = %(id)s"
LIST_WORKFLOWS = f"""
SELECT {_WF} FROM workflows
WHERE deleted_at IS NULL
  AND (%(after_at)s::timestamptz IS NULL OR (created_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""
SAVE_WORKFLOW = """
UPDATE workflows SET name = %(name)s, description = %(description)s,
       current_version = %(current_version)s, updated_at = %(updated_at)s,
       deleted_at = %(deleted_at)s
WHERE id = %(id)s
"""
NAME_TAKEN = """
SELECT 1 FROM workflows
WHERE name = %(name)s AND deleted_at IS NULL AND id IS DISTINCT FROM %(except_id)s
"""
INSERT_VERSION = """
INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition, asl,
                               state_machine_arn, created_at, created_by)
VALUES (current_setting('app.tenant_id'), %(workflow_id)s, %(version)s, %(definition)s,
        %(asl)s, %(state_machine_arn)s, %(created_at)s, %(created_by)s)
"""
GET_VERSION = """
SELECT workflow_id, version, definition, asl, state_machine_arn, created_at, created_by
FROM workflow_versions WHERE workflow_id = %(workflow_id)s AND version = %(version)s
"""
ALL_VERSIONS = """
SELECT workflow_id, version, definition, asl, state_machine_arn, created_at, created_by
FROM workflow_versions ORDER BY workflow_id, version
"""
INSERT_EXECUTION = """
INSERT INTO workflow_executions (id, tenant_id, workflow_id, workflow_version, status, input,
                                 idempotency_key, sfn_execution_arn, started_by, started_at)
VALUES (%(id)s, %(tenant_id)s, %(workflow_id)s, %(workflow_version)s, %(status)s, %(input)s,
        %(idempotency_key)s, %(sfn_execution_arn)s, %(started_by)s, %(started_at)s)
"""
GET_EXECUTION = f"SELECT {_EX} FROM workflow_executions WHERE id = %(id)s"
EXECUTION_BY_KEY = f"""
SELECT {_EX} FROM workflow_executions
WHERE workflow_id = %(workflow_id)s AND idempotency_key = %(key)s
"""
EXECUTION_BY_ARN = f"SELECT {_EX} FROM workflow_executions WHERE sfn_execution_arn = %(arn)s"
LIST_EXECUTIONS = f"""
SELECT {_EX} FROM workflow_executions
WHERE (%(workflow_id)s::text IS NULL OR workflow_id = %(workflow_id)s)
  AND (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(after_at)s::timestamptz IS NULL OR (started_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY started_at DESC, id DESC
LIMIT %(limit)s
"""
UNFINISHED_EXECUTIONS = f"""
SELECT {_EX} FROM workflow_executions WHERE status = 'running' ORDER BY started_at, id
"""
FINISH_EXECUTION = """
UPDATE workflow_executions
SET status = %(status)s, output = %(output)s, finished_at = %(finished_at)s,
    error = %(error)s, cause = %(cause)s, cancel_reason = %(cancel_reason)s
WHERE id = %(id)s AND status = 'running'
"""
SET_REJECT_REASON = "UPDATE workflow_executions SET reject_reason = %(reason)s WHERE id = %(id)s"
INSERT_APPROVAL = """
INSERT INTO workflow_approvals (tenant_id, execution_id, step_id, token, message, status,
                                requested_at, expires_at)
VALUES (current_setting('app.tenant_id'), %(execution_id)s, %(step_id)s, %(token)s,
        %(message)s, 'pending', %(requested_at)s, %(expires_at)s)
ON CONFLICT DO NOTHING
"""
PENDING_APPROVAL = f"""
SELECT {_AP} FROM workflow_approvals
WHERE execution_id = %(execution_id)s AND status = 'pending'
ORDER BY requested_at DESC LIMIT 1
"""
DECIDE_APPROVAL = """
UPDATE workflow_approvals
SET status = %(status)s, decided_at = %(at)s, decided_by = %(by)s, reason = %(reason)s
WHERE token = %(token)s AND status = 'pending'
"""
CLOSE_PENDING = """
UPDATE workflow_approvals SET status = %(status)s
WHERE execution_id = %(execution_id)s AND status = 'pending'
"""


def _workflow(row: dict[str, Any]) -> Workflow:
    return Workflow(**row)


def _execution(row: dict[str, Any]) -> Execution:
    return Execution(**{**row, "status": ExecutionStatus(row["status"])})


def _approval(row: dict[str, Any]) -> Approval:
    return Approval(**{**row, "status": ApprovalStatus(row["status"])})


class PostgresWorkflowRepository:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        return self._conn.cursor(row_factory=dict_row).execute(sql, params).fetchone()

    def _all(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row).execute(sql, params).fetchall()

    def add_workflow(self, workflow: Workflow) -> None:
        self._conn.execute(INSERT_WORKFLOW, vars(workflow))

    def get_workflow(self, workflow_id: str, *, include_deleted: bool = False) -> Workflow | None:
        row = self._one(GET_WORKFLOW, {"id": workflow_id})
        if row is None or (row["deleted_at"] is not None and not include_deleted):
            return None
        return _workflow(row)

    def list_workflows(self, page: PageRequest) -> Page[Workflow]:
        rows = self._all(LIST_WORKFLOWS, keyset_params(page))
        return keyset_page(rows, page, _workflow, lambda w: (w.created_at, w.id))

    def save_workflow(self, workflow: Workflow) -> None:
        self._conn.execute(SAVE_WORKFLOW, vars(workflow))

    def name_taken(self, name: str, except_id: str | None = None) -> bool:
        return self._one(NAME_TAKEN, {"name": name, "except_id": except_id}) is not None

    def add_version(self, version: WorkflowVersion) -> None:
        params = vars(version) | {
            "definition": Jsonb(version.definition),
            "asl": Jsonb(version.asl),
        }
        self._conn.execute(INSERT_VERSION, params)

    def get_version(self, workflow_id: str, version: int) -> WorkflowVersion | None:
        row = self._one(GET_VERSION, {"workflow_id": workflow_id, "version": version})
        return WorkflowVersion(**row) if row else None

    def all_versions(self) -> list[WorkflowVersion]:
        return [WorkflowVersion(**row) for row in self._all(ALL_VERSIONS, {})]

    def add_execution(self, execution: Execution) -> None:
        params = vars(execution) | {
            "status": execution.status.value,
            "input": Jsonb(execution.input),
        }
        self._conn.execute(INSERT_EXECUTION, params)

    def get_execution(self, execution_id: str) -> Execution | None:
        row = self._one(GET_EXECUTION, {"id": execution_id})
        return _execution(row) if row else None

    def execution_by_key(self, workflow_id: str, key: str) -> Execution | None:
        row = self._one(EXECUTION_BY_KEY, {"workflow_id": workflow_id, "key": key})
        return _execution(row) if row else None

    def execution_by_arn(self, arn: str) -> Execution | None:
        row = self._one(EXECUTION_BY_ARN, {"arn": arn})
        return _execution(row) if row else None

    def list_executions(
        self, page: PageRequest, workflow_id: str | None, status: ExecutionStatus | None
    ) -> Page[Execution]:
        filters = {"workflow_id": workflow_id, "status": status.value if status else None}
        rows = self._all(LIST_EXECUTIONS, {**filters, **keyset_params(page)})
        return keyset_page(rows, page, _execution, lambda e: (e.started_at, e.id))

    def unfinished_executions(self) -> list[Execution]:
        return [_execution(row) for row in self._all(UNFINISHED_EXECUTIONS, {})]

    def finish_execution(self, execution: Execution) -> bool:
        params = vars(execution) | {
            "status": execution.status.value,
            "output": Jsonb(execution.output) if execution.output is not None else None,
        }
        return self._conn.execute(FINISH_EXECUTION, params).rowcount == 1

    def set_reject_reason(self, execution_id: str, reason: str) -> None:
        self._conn.execute(SET_REJECT_REASON, {"id": execution_id, "reason": reason})

    def add_approval(self, approval: Approval) -> None:
        self._conn.execute(INSERT_APPROVAL, vars(approval))

    def pending_approval(self, execution_id: str) -> Approval | None:
        row = self._one(PENDING_APPROVAL, {"execution_id": execution_id})
        return _approval(row) if row else None

    def decide_approval(
        self,
        token: str,
        status: ApprovalStatus,
        at: datetime,
        by: str | None,
        reason: str | None,
    ) -> bool:
        params = {"token": token, "status": status.value, "at": at, "by": by, "reason": reason}
        return self._conn.execute(DECIDE_APPROVAL, params).rowcount == 1

    def close_pending_approvals(self, execution_id: str, status: ApprovalStatus) -> None:
        self._conn.execute(CLOSE_PENDING, {"execution_id": execution_id, "status": status.value})


class PostgresWorkflowUnitOfWork(PostgresUnitOfWork):
    """The foundation's unit of work plus the workflow repository on the same transaction."""

    def __enter__(self) -> PostgresWorkflowUnitOfWork:
        super().__enter__()
        self.workflows = PostgresWorkflowRepository(self.conn)
        return self


def execution_tenant(db: Database, execution_arn: str) -> str | None:
    """The tenant owning a Step Functions execution, for events that arrive without one."""
    with db.connection() as conn:
        row = conn.execute("SELECT orchestrix_execution_tenant(%s)", (execution_arn,)).fetchone()
        conn.rollback()
    return str(row[0]) if row and row[0] is not None else None
