"""Errors of the workflow domain.

`WorkflowInvalid` is raised at create time with every problem found, each located by a path
into the submitted definition (`loc`). The `*Error`/`StepFailed` classes are raised by step
Lambdas at run time; Step Functions sees their class NAME as the task error, so Retry/Catch
in the compiled ASL match on these names — renaming one is a breaking change.
"""

from __future__ import annotations

from typing import TypedDict

from orchestrix.domain.errors import FieldError, ValidationFailed


class ErrorDetail(TypedDict):
    loc: list[str | int]
    msg: str


class WorkflowInvalid(ValidationFailed):
    """The definition cannot be accepted (422); `errors` lists every problem found, each
    located by its path in the submitted JSON, e.g. ("steps", 2, "next")."""

    def __init__(self, errors: list[ErrorDetail]) -> None:
        super().__init__([FieldError(tuple(e["loc"]), e["msg"]) for e in errors])

    @property
    def details(self) -> list[ErrorDetail]:
        """The errors as plain JSON-ready dicts."""
        return [{"loc": list(e.loc), "msg": e.msg} for e in self.errors]


class TemplateError(Exception):
    """A template is malformed, or a strict render found no value for an expression."""


class StepFailed(Exception):
    """A step could not do its job (generic; retryable)."""


class HttpStatusError(StepFailed):
    """The target answered with a status outside the step's `expect_status`."""


class HttpTransportError(StepFailed):
    """No HTTP answer: connection refused/reset, TLS failure, too many redirects."""


class HttpTimeout(StepFailed):
    """The target did not answer within the step's `timeout_seconds`."""


class NotifyFailed(StepFailed):
    """A notification channel refused or failed to take the message."""


class AwsActionFailed(StepFailed):
    """The AWS remediation call returned an error."""


class AwsActionNotAllowed(Exception):
    """The step names an action outside the allow-list (a definition saved before the list
    shrank): refused before any AWS call, and never retried."""


# Errors worth retrying under a step's `retry`. Template and egress errors are not: the same
# input fails the same way every time.
RETRYABLE_ERRORS: tuple[str, ...] = (
    HttpStatusError.__name__,
    HttpTransportError.__name__,
    HttpTimeout.__name__,
    NotifyFailed.__name__,
    AwsActionFailed.__name__,
    StepFailed.__name__,
)
