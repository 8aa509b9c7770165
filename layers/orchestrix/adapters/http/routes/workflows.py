"""/api/v1/workflows and /api/v1/executions — remediation runbooks and their runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from orchestrix import bootstrap
from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.domain.pagination import DEFAULT_LIMIT
from orchestrix.domain.workflow.error_text import error_message, without_traces
from orchestrix.domain.workflow.execution import (
    Approval,
    Execution,
    ExecutionStatus,
    StepRun,
    Workflow,
    WorkflowVersion,
)
from orchestrix.services.workflow_executions import ExecutionView

router = Router()
WorkflowId = Annotated[str, Path(max_length=64)]
ExecutionId = Annotated[str, Path(max_length=64)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="Retrying with the same key returns the execution the first call started",
    ),
]


class WorkflowOut(BaseModel):
    id: str
    name: str
    description: str
    version: int
    definition: dict[str, Any]
    state_machine_arn: str
    created_at: datetime
    created_by: str
    updated_at: datetime

    @classmethod
    def of(cls, workflow: Workflow, version: WorkflowVersion) -> WorkflowOut:
        return cls(
            id=workflow.id,
            name=workflow.name,
            description=workflow.description,
            version=version.version,
            definition=version.definition,
            state_machine_arn=version.state_machine_arn,
            created_at=workflow.created_at,
            created_by=workflow.created_by,
            updated_at=workflow.updated_at,
        )


class WorkflowSummary(BaseModel):
    id: str
    name: str
    description: str
    version: int
    created_at: datetime
    updated_at: datetime


class WorkflowPage(BaseModel):
    items: list[WorkflowSummary]
    next_cursor: str | None


class ExecuteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: dict[str, Any] = Field(default_factory=dict, description="Checked against `inputs`")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=2000)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class StepOut(BaseModel):
    id: str
    type: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    output: Any = None
    error: dict[str, Any] | None = None
    attempts: int

    @classmethod
    def of(cls, run: StepRun) -> StepOut:
        shown = vars(run) | {
            "output": without_traces(run.output),
            "error": without_traces(run.error),
        }
        return cls(**shown)


class ApprovalOut(BaseModel):
    step_id: str
    message: str
    status: str
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None
    reason: str | None

    @classmethod
    def of(cls, approval: Approval) -> ApprovalOut:
        return cls(
            step_id=approval.step_id,
            message=approval.message,
            status=approval.status.value,
            requested_at=approval.requested_at,
            expires_at=approval.expires_at,
            decided_by=approval.decided_by,
            reason=approval.reason,
        )


class ExecutionOut(BaseModel):
    id: str
    workflow_id: str
    workflow_version: int
    status: ExecutionStatus
    input: dict[str, Any]
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    cancel_reason: str | None
    reject_reason: str | None

    @classmethod
    def of(cls, execution: Execution, status: ExecutionStatus | None = None) -> ExecutionOut:
        return cls(
            id=execution.id,
            workflow_id=execution.workflow_id,
            workflow_version=execution.workflow_version,
            status=status or execution.status,
            input=execution.input,
            # Executions stored before causes were cleaned may still hold a stack trace.
            output=without_traces(execution.output),
            error=execution.error,
            cause=_cause(execution.cause),
            started_by=execution.started_by,
            started_at=execution.started_at,
            finished_at=execution.finished_at,
            cancel_reason=execution.cancel_reason,
            reject_reason=execution.reject_reason,
        )


def _cause(cause: str | None) -> str | None:
    shown = error_message(cause)
    return None if shown is None else str(shown)


class ExecutionDetail(ExecutionOut):
    approval: ApprovalOut | None = Field(description="The approval it is waiting for, if any")
    steps: list[StepOut]

    @classmethod
    def of_view(cls, view: ExecutionView) -> ExecutionDetail:
        base = ExecutionOut.of(view.execution, view.status).model_dump()
        approval = ApprovalOut.of(view.approval) if view.approval else None
        return cls(**base, approval=approval, steps=[StepOut.of(s) for s in view.steps])


class ExecutionPage(BaseModel):
    items: list[ExecutionOut]
    next_cursor: str | None


def _json(status: int, body: BaseModel) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body=body)


@router.get("/api/v1/workflows", tags=["workflows"], summary="List workflows")
def list_workflows(limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None) -> WorkflowPage:
    page = bootstrap.workflow_service().list(current_principal(router), page_request(limit, cursor))
    items = [
        WorkflowSummary(
            id=w.id,
            name=w.name,
            description=w.description,
            version=w.current_version,
            created_at=w.created_at,
            updated_at=w.updated_at,
        )
        for w in page.items
    ]
    return WorkflowPage(items=items, next_cursor=page.next_cursor)


@router.post(
    "/api/v1/workflows",
    tags=["workflows"],
    summary="Create a workflow (editor); version 1 becomes a state machine",
    responses={201: {"description": "created"}},
)
def create_workflow(body: Annotated[dict[str, Any], Body()]) -> Response[WorkflowOut]:
    workflow, version = bootstrap.workflow_service().create(
        current_principal(router), body, current_request_id(router)
    )
    return _json(201, WorkflowOut.of(workflow, version))


@router.get("/api/v1/workflows/<workflow_id>", tags=["workflows"], summary="Get a workflow")
def get_workflow(workflow_id: WorkflowId) -> WorkflowOut:
    return WorkflowOut.of(*bootstrap.workflow_service().get(current_principal(router), workflow_id))


@router.put(
    "/api/v1/workflows/<workflow_id>",
    tags=["workflows"],
    summary="Replace the definition (editor): a new immutable version",
)
def update_workflow(
    workflow_id: WorkflowId, body: Annotated[dict[str, Any], Body()]
) -> WorkflowOut:
    workflow, version = bootstrap.workflow_service().update(
        current_principal(router), workflow_id, body, current_request_id(router)
    )
    return WorkflowOut.of(workflow, version)


@router.delete(
    "/api/v1/workflows/<workflow_id>",
    tags=["workflows"],
    summary="Delete a workflow (editor); its executions stay readable",
    responses={204: {"description": "deleted"}},
)
def delete_workflow(workflow_id: WorkflowId) -> Response[None]:
    bootstrap.workflow_service().delete(
        current_principal(router), workflow_id, current_request_id(router)
    )
    return Response(status_code=204)


@router.post(
    "/api/v1/workflows/<workflow_id>/execute",
    tags=["executions"],
    summary="Start an execution (responder)",
    responses={201: {"description": "started"}, 200: {"description": "replayed key"}},
)
def execute_workflow(
    workflow_id: WorkflowId, body: ExecuteIn, idempotency_key: IdempotencyKey = None
) -> Response[ExecutionOut]:
    execution, created = bootstrap.execution_service().execute(
        current_principal(router),
        workflow_id,
        body.input,
        idempotency_key,
        current_request_id(router),
    )
    return _json(201 if created else 200, ExecutionOut.of(execution))


@router.get("/api/v1/executions", tags=["executions"], summary="List executions")
def list_executions(
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    workflow_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[ExecutionStatus | None, Query()] = None,
) -> ExecutionPage:
    page = bootstrap.execution_service().list(
        current_principal(router), page_request(limit, cursor), workflow_id, status
    )
    items = [ExecutionOut.of(execution, shown) for execution, shown in page.items]
    return ExecutionPage(items=items, next_cursor=page.next_cursor)


@router.get(
    "/api/v1/executions/<execution_id>",
    tags=["executions"],
    summary="Get an execution with per-step progress",
)
def get_execution(execution_id: ExecutionId) -> ExecutionDetail:
    view = bootstrap.execution_service().get(current_principal(router), execution_id)
    return ExecutionDetail.of_view(view)


@router.post(
    "/api/v1/executions/<execution_id>/cancel",
    tags=["executions"],
    summary="Cancel a running execution (responder)",
)
def cancel_execution(
    execution_id: ExecutionId, body: Annotated[ReasonIn | None, Body()] = None
) -> ExecutionOut:
    cancelled = bootstrap.execution_service().cancel(
        current_principal(router),
        execution_id,
        body.reason if body else None,
        current_request_id(router),
    )
    return ExecutionOut.of(cancelled)


@router.post(
    "/api/v1/executions/<execution_id>/approve",
    tags=["executions"],
    summary="Approve the step the execution waits on (responder)",
)
def approve_execution(
    execution_id: ExecutionId, body: Annotated[ReasonIn | None, Body()] = None
) -> ApprovalOut:
    approval = bootstrap.execution_service().approve(
        current_principal(router),
        execution_id,
        body.reason if body else None,
        current_request_id(router),
    )
    return ApprovalOut.of(approval)


@router.post(
    "/api/v1/executions/<execution_id>/reject",
    tags=["executions"],
    summary="Reject the step the execution waits on (responder); the run fails",
)
def reject_execution(execution_id: ExecutionId, body: RejectIn) -> ApprovalOut:
    approval = bootstrap.execution_service().reject(
        current_principal(router), execution_id, body.reason, current_request_id(router)
    )
    return ApprovalOut.of(approval)
