"""Workflow definitions: models, validation, templates and condition semantics."""

from orchestrix.domain.workflow.aws_actions import ALLOWED_AWS_ACTIONS
from orchestrix.domain.workflow.errors import (
    AwsActionFailed,
    ErrorDetail,
    HttpStatusError,
    HttpTimeout,
    HttpTransportError,
    NotifyFailed,
    StepFailed,
    TemplateError,
    WorkflowInvalid,
)
from orchestrix.domain.workflow.model import Step, WorkflowDefinition
from orchestrix.domain.workflow.validation import parse_workflow

__all__ = [
    "ALLOWED_AWS_ACTIONS",
    "AwsActionFailed",
    "ErrorDetail",
    "HttpStatusError",
    "HttpTimeout",
    "HttpTransportError",
    "NotifyFailed",
    "Step",
    "StepFailed",
    "TemplateError",
    "WorkflowDefinition",
    "WorkflowInvalid",
    "parse_workflow",
]
