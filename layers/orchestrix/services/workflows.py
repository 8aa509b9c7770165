"""Use cases for workflow definitions: validate, compile, one state machine per version."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from orchestrix.domain.egress import EgressPolicy
from orchestrix.domain.errors import Conflict, NotFound
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.ids import new_id
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.workflow import WorkflowDefinition, parse_workflow
from orchestrix.domain.workflow.execution import Workflow, WorkflowVersion
from orchestrix.ports.clock import Clock
from orchestrix.ports.workflow_engine import WorkflowEngine
from orchestrix.ports.workflow_store import WorkflowUnitOfWork, WorkflowUnitOfWorkFactory
from orchestrix.services.workflow_compiler import STEP_KINDS, compile_workflow
from orchestrix.services.workflow_inputs import check_inputs_schema

# Step kinds -> the ARN of the Lambda running them (one function serves every kind).
StepFunctionArns = Callable[[], Mapping[str, str]]


def describe(workflow: Workflow, version: WorkflowVersion | None = None) -> dict[str, Any]:
    """The audit snapshot of a workflow."""
    snapshot: dict[str, Any] = {
        "id": workflow.id,
        "name": workflow.name,
        "version": workflow.current_version,
        "deleted_at": workflow.deleted_at.isoformat() if workflow.deleted_at else None,
    }
    if version is not None:
        snapshot["definition"] = version.definition
        snapshot["state_machine_arn"] = version.state_machine_arn
    return snapshot


def validate_definition(body: Any, egress: EgressPolicy) -> WorkflowDefinition:
    """The definition, or WorkflowInvalid with every problem (the `inputs` schema included)."""
    definition = parse_workflow(body, egress=egress)
    check_inputs_schema(definition.inputs)
    return definition


class WorkflowService:
    def __init__(
        self,
        uow: WorkflowUnitOfWorkFactory,
        engine: WorkflowEngine,
        clock: Clock,
        egress: EgressPolicy,
        step_function_arn: str,
    ) -> None:
        self._uow = uow
        self._engine = engine
        self._clock = clock
        self._egress = egress
        self._functions = {kind: step_function_arn for kind in STEP_KINDS}

    def create(
        self, principal: Principal, body: Any, request_id: str | None = None
    ) -> tuple[Workflow, WorkflowVersion]:
        principal.require_role(Role.EDITOR)
        definition = validate_definition(body, self._egress)
        now = self._clock.now()
        workflow = Workflow(
            id=new_id("wf", int(now.timestamp() * 1000)),
            tenant_id=principal.tenant_id,
            name=definition.name,
            description=definition.description,
            current_version=1,
            created_at=now,
            created_by=principal.subject,
            updated_at=now,
        )
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            if uow.workflows.name_taken(definition.name):
                raise Conflict(f"a workflow named {definition.name!r} exists already")
            uow.workflows.add_workflow(workflow)
            version = self._add_version(uow, principal, workflow, definition)
            uow.record(
                "workflow.create", "workflow", workflow.id, after=describe(workflow, version)
            )
            uow.commit()
        return workflow, version

    def update(
        self, principal: Principal, workflow_id: str, body: Any, request_id: str | None = None
    ) -> tuple[Workflow, WorkflowVersion]:
        """A new immutable version; running executions keep the version they started on."""
        principal.require_role(Role.EDITOR)
        definition = validate_definition(body, self._egress)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            before = self._live(uow, workflow_id)
            if uow.workflows.name_taken(definition.name, except_id=workflow_id):
                raise Conflict(f"a workflow named {definition.name!r} exists already")
            after = Workflow(
                **{
                    **vars(before),
                    "name": definition.name,
                    "description": definition.description,
                    "current_version": before.current_version + 1,
                    "updated_at": self._clock.now(),
                }
            )
            uow.workflows.save_workflow(after)
            version = self._add_version(uow, principal, after, definition)
            uow.record(
                "workflow.update",
                "workflow",
                workflow_id,
                before=describe(before),
                after=describe(after, version),
            )
            uow.commit()
        return after, version

    def delete(self, principal: Principal, workflow_id: str, request_id: str | None = None) -> None:
        """Soft delete: past executions stay readable; the name is free again."""
        principal.require_role(Role.EDITOR)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            before = self._live(uow, workflow_id)
            after = Workflow(**{**vars(before), "deleted_at": self._clock.now()})
            uow.workflows.save_workflow(after)
            uow.record(
                "workflow.delete",
                "workflow",
                workflow_id,
                before=describe(before),
                after=describe(after),
            )
            uow.commit()

    def get(self, principal: Principal, workflow_id: str) -> tuple[Workflow, WorkflowVersion]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            workflow = self._live(uow, workflow_id)
            version = uow.workflows.get_version(workflow_id, workflow.current_version)
        if version is None:
            raise NotFound("workflow", workflow_id)
        return workflow, version

    def list(self, principal: Principal, page: PageRequest) -> Page[Workflow]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return uow.workflows.list_workflows(page)

    def _live(self, uow: WorkflowUnitOfWork, workflow_id: str) -> Workflow:
        workflow = uow.workflows.get_workflow(workflow_id)
        if workflow is None:
            raise NotFound("workflow", workflow_id)
        return workflow

    def _add_version(
        self,
        uow: WorkflowUnitOfWork,
        principal: Principal,
        workflow: Workflow,
        definition: WorkflowDefinition,
    ) -> WorkflowVersion:
        asl = compile_workflow(definition, self._functions)
        name = self._engine.machine_name(principal.tenant_id, workflow.id, workflow.current_version)
        version = WorkflowVersion(
            workflow_id=workflow.id,
            version=workflow.current_version,
            definition=definition.model_dump(mode="json", by_alias=True, exclude_unset=True),
            asl=asl,
            state_machine_arn=self._engine.create_machine(name, asl),
            created_at=self._clock.now(),
            created_by=principal.subject,
        )
        uow.workflows.add_version(version)
        return version
