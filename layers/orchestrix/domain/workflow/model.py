"""The workflow definition: what a tenant submits, as pydantic v2 models.

Steps form a discriminated union on `type`. Structural checks live here (field types,
ranges, required fields); checks that need the whole definition (references, reachability,
cycles, templates, egress) live in `validation`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic import JsonValue as PydJsonValue

# Step ids double as Step Functions state names and JSONPath segments ($.steps.<id>), hence
# the narrow alphabet; generated helper states use a `__` prefix a step id cannot have.
StepId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$")]
ValuePath = Annotated[
    str,
    Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*$"),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Retry(_Model):
    max_attempts: int = Field(3, ge=1, le=10, description="total attempts, the first included")
    interval_seconds: int = Field(1, ge=1, le=3600)
    backoff_rate: float = Field(2.0, ge=1.0, le=10.0)


class _Step(_Model):
    id: StepId


class _Sequenced(_Step):
    next: StepId | None = None


class _Fallible(_Sequenced):
    on_error: StepId | None = None


class HttpRequest(_Model):
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: str = Field(min_length=1, max_length=2048)
    headers: dict[str, str] = Field(default_factory=dict)
    body: PydJsonValue = None


class HttpStep(_Fallible):
    type: Literal["http"]
    request: HttpRequest
    timeout_seconds: int = Field(10, ge=1, le=300)
    expect_status: list[Annotated[int, Field(ge=100, le=599)]] | None = None
    retry: Retry | None = None


CompareOp = Literal["eq", "ne", "gt", "gte", "lt", "lte", "contains", "exists"]


class Comparison(_Model):
    path: ValuePath
    op: CompareOp
    value: PydJsonValue = None

    @model_validator(mode="after")
    def _value_given(self) -> Comparison:
        if self.op == "exists":
            if "value" in self.model_fields_set and not isinstance(self.value, bool):
                raise ValueError("'exists' takes an optional boolean value")
        elif "value" not in self.model_fields_set:
            raise ValueError(f"'{self.op}' needs a value")
        elif self.op in ("gt", "gte", "lt", "lte") and (
            isinstance(self.value, bool) or not isinstance(self.value, int | float | str)
        ):
            raise ValueError(f"'{self.op}' compares numbers or strings")
        return self


class AllOf(_Model):
    all: list[Predicate] = Field(min_length=1)


class AnyOf(_Model):
    any: list[Predicate] = Field(min_length=1)


def _predicate_kind(value: Any) -> str:
    if isinstance(value, dict):
        if "all" in value:
            return "all"
        if "any" in value:
            return "any"
    elif isinstance(value, AllOf | AnyOf):
        return "all" if isinstance(value, AllOf) else "any"
    return "compare"


Predicate = Annotated[
    Annotated[Comparison, Tag("compare")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")],
    Discriminator(_predicate_kind),
]


class ConditionStep(_Step):
    type: Literal["condition"]
    if_: Predicate = Field(alias="if")
    then: StepId
    else_: StepId | None = Field(None, alias="else")


class WaitStep(_Sequenced):
    type: Literal["wait"]
    seconds: Annotated[int, Field(ge=0, le=31_536_000)] | str | None = None
    until: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> WaitStep:
        if (self.seconds is None) == (self.until is None):
            raise ValueError("give exactly one of 'seconds' or 'until'")
        return self


class ApprovalStep(_Fallible):
    type: Literal["approval"]
    message: str = Field(min_length=1, max_length=4000)
    timeout_seconds: int = Field(3600, ge=1, le=7 * 86_400)


class WebhookChannel(_Model):
    type: Literal["webhook"]
    url: str = Field(min_length=1, max_length=2048)
    headers: dict[str, str] = Field(default_factory=dict)


class SlackChannel(_Model):
    type: Literal["slack"]
    webhook_url: str = Field(min_length=1, max_length=2048)


class EmailChannel(_Model):
    type: Literal["email"]
    to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1)
    subject: str = Field("Orchestrix workflow", max_length=200)


class SmsChannel(_Model):
    type: Literal["sms"]
    phone: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$")


Channel = Annotated[
    WebhookChannel | SlackChannel | EmailChannel | SmsChannel, Field(discriminator="type")
]


class NotifyStep(_Fallible):
    type: Literal["notify"]
    channel: Channel
    message: str = Field(min_length=1, max_length=4000)
    retry: Retry | None = None


class AwsStep(_Fallible):
    type: Literal["aws"]
    action: str = Field(pattern=r"^[a-z0-9-]+:[A-Za-z0-9]+$")
    params: dict[str, PydJsonValue] = Field(default_factory=dict)
    retry: Retry | None = None


class ParallelStep(_Fallible):
    type: Literal["parallel"]
    branches: list[Annotated[list[Step], Field(min_length=1)]] = Field(min_length=1, max_length=10)


class SucceedStep(_Step):
    type: Literal["succeed"]


class FailStep(_Step):
    type: Literal["fail"]
    error: str = Field("WorkflowFailed", pattern=r"^[A-Za-z][A-Za-z0-9_.]{0,127}$")
    cause: str | None = Field(None, max_length=1000)


Step = Annotated[
    HttpStep
    | ConditionStep
    | WaitStep
    | ApprovalStep
    | NotifyStep
    | AwsStep
    | ParallelStep
    | SucceedStep
    | FailStep,
    Field(discriminator="type"),
]
STEP_TYPES: tuple[str, ...] = (
    "http", "condition", "wait", "approval", "notify", "aws", "parallel", "succeed", "fail"
)  # fmt: skip
AnyStep = (
    HttpStep
    | ConditionStep
    | WaitStep
    | ApprovalStep
    | NotifyStep
    | AwsStep
    | ParallelStep
    | SucceedStep
    | FailStep
)


class WorkflowDefinition(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    description: str = Field("", max_length=2000)
    inputs: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    steps: list[Step] = Field(min_length=1, max_length=500)


AllOf.model_rebuild()
AnyOf.model_rebuild()
ConditionStep.model_rebuild()
ParallelStep.model_rebuild()
WorkflowDefinition.model_rebuild()
