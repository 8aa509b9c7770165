"""What each workflow step does when its Lambda runs (pure: I/O comes in as callables).

`run_step(event, tools)` is the whole step Lambda minus wiring: it decodes the event the
compiled state machine sends (see `workflow_compiler`), runs the step and returns its output,
or raises the error Step Functions should see (the exception class name is the error name).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import TypeAdapter

from orchestrix.domain.egress import EgressPolicy
from orchestrix.domain.workflow.aws_actions import ALLOWED_AWS_ACTIONS
from orchestrix.domain.workflow.conditions import evaluate
from orchestrix.domain.workflow.errors import (
    AwsActionFailed,
    AwsActionNotAllowed,
    HttpStatusError,
    NotifyFailed,
    StepFailed,
)
from orchestrix.domain.workflow.http import HttpClient, OutboundRequest, OutboundResponse
from orchestrix.domain.workflow.model import (
    AnyStep,
    ApprovalStep,
    AwsStep,
    ConditionStep,
    EmailChannel,
    HttpStep,
    NotifyStep,
    SlackChannel,
    SmsChannel,
    Step,
    WebhookChannel,
)
from orchestrix.domain.workflow.templates import render, render_value

MAX_BODY_CHARS: Final = 32_768  # step outputs travel in the execution state (256 KiB cap)
_STEP: Final[TypeAdapter[AnyStep]] = TypeAdapter(Step)

# (service, operation such as "UpdateService", params) -> the API response
# (tenant id, service, operation, params): the tenant decides which credentials act.
AwsCaller = Callable[[str, str, str, Mapping[str, Any]], Mapping[str, Any]]
# (recipient(s), subject, message) -> None; raise to signal failure
EmailSender = Callable[[list[str], str, str], None]
SmsSender = Callable[[str, str], None]


@dataclass(frozen=True)
class StepTools:
    egress: EgressPolicy
    http_client: HttpClient
    aws: AwsCaller | None = None
    send_email: EmailSender | None = None
    send_sms: SmsSender | None = None


@dataclass(frozen=True)
class StepEvent:
    step: AnyStep
    context: Mapping[str, Any]
    execution_id: str
    workflow: str
    token: str | None


def decode_event(event: Mapping[str, Any]) -> StepEvent:
    raw = event["step"]
    step = _STEP.validate_json(raw) if isinstance(raw, str | bytes) else _STEP.validate_python(raw)
    return StepEvent(
        step=step,
        context=event.get("context") or {},
        execution_id=str(event.get("execution_id", "")),
        workflow=str(event.get("workflow", "")),
        token=event.get("token"),
    )


def run_step(event: Mapping[str, Any], tools: StepTools) -> dict[str, Any]:
    """Run the step described by a step Lambda event; see the compiler for the contract."""
    decoded = decode_event(event)
    step, context = decoded.step, decoded.context
    if isinstance(step, HttpStep):
        return run_http_step(step, context, tools.egress, tools.http_client)
    if isinstance(step, NotifyStep):
        return run_notify_step(step, context, tools)
    if isinstance(step, AwsStep):
        if tools.aws is None:
            raise StepFailed("aws steps are not available in this deployment")
        return run_aws_step(step, context, tools.aws)
    if isinstance(step, ConditionStep):
        return run_condition(step, context)
    if isinstance(step, ApprovalStep):
        return run_approval_step(step, context)
    raise StepFailed(f"step type {step.type!r} does not run in a Lambda")


def run_http_step(
    spec: HttpStep, context: Mapping[str, Any], egress: EgressPolicy, http_client: HttpClient
) -> dict[str, Any]:
    request = spec.request
    url = render(request.url, context, strict=True)
    headers = {name: render(value, context) for name, value in request.headers.items()}
    body: bytes | None = None
    if request.body is not None:
        rendered = render_value(request.body, context)
        if isinstance(rendered, str):
            body = rendered.encode()
        else:
            body = json.dumps(rendered).encode()
            headers.setdefault("Content-Type", "application/json")
    outbound = OutboundRequest(request.method, url, headers, body, float(spec.timeout_seconds))
    response = http_client(outbound, egress)
    if spec.expect_status and response.status not in spec.expect_status:
        raise HttpStatusError(
            f"{request.method} {url} answered {response.status}, expected one of "
            f"{sorted(spec.expect_status)}"
        )
    return {"status": response.status, "headers": response.headers, "body": _body(response)}


def _body(response: OutboundResponse) -> Any:
    text = response.body.decode("utf-8", errors="replace")
    if "json" in response.headers.get("content-type", ""):
        try:
            parsed = json.loads(text)
        except ValueError:
            pass
        else:
            if len(text) <= MAX_BODY_CHARS:
                return parsed
    return text[:MAX_BODY_CHARS]


def run_condition(spec: ConditionStep, context: Mapping[str, Any]) -> dict[str, Any]:
    return {"result": evaluate(spec.if_, context)}


def run_approval_step(spec: ApprovalStep, context: Mapping[str, Any]) -> dict[str, Any]:
    """What to show the approvers; the handler stores it with the task token."""
    return {"message": render(spec.message, context), "timeout_seconds": spec.timeout_seconds}


def run_notify_step(
    spec: NotifyStep, context: Mapping[str, Any], tools: StepTools
) -> dict[str, Any]:
    message = render(spec.message, context)
    channel = spec.channel
    if isinstance(channel, WebhookChannel | SlackChannel):
        url = channel.url if isinstance(channel, WebhookChannel) else channel.webhook_url
        payload = (
            {"text": message}
            if isinstance(channel, SlackChannel)
            else {"message": message, "step": spec.id}
        )
        headers = {"Content-Type": "application/json"}
        if isinstance(channel, WebhookChannel):
            headers |= {k: render(v, context) for k, v in channel.headers.items()}
        request = OutboundRequest(
            "POST", render(url, context, strict=True), headers, json.dumps(payload).encode(), 10.0
        )
        response = tools.http_client(request, tools.egress)
        if not 200 <= response.status < 300:
            raise NotifyFailed(f"{channel.type} receiver answered {response.status}")
    elif isinstance(channel, EmailChannel):
        if tools.send_email is None:
            raise NotifyFailed("email is not configured in this deployment")
        tools.send_email(list(channel.to), render(channel.subject, context), message)
    elif isinstance(channel, SmsChannel):
        if tools.send_sms is None:
            raise NotifyFailed("sms is not configured in this deployment")
        tools.send_sms(channel.phone, message)
    return {"channel": channel.type, "delivered": True}


def run_aws_step(spec: AwsStep, context: Mapping[str, Any], aws: AwsCaller) -> dict[str, Any]:
    # Checked again here, not only at save: definitions and versions saved before an action
    # left the allow-list still compile to state machines that send it.
    if spec.action not in ALLOWED_AWS_ACTIONS:
        raise AwsActionNotAllowed(f"aws action {spec.action!r} is not allowed")
    tenant_id = (context.get("meta") or {}).get("tenant_id")
    if not tenant_id:
        raise StepFailed("the execution carries no tenant: aws steps cannot run")
    service, operation = spec.action.split(":", 1)
    params = render_value(spec.params, context, strict=True)
    try:
        response = aws(str(tenant_id), service, operation, params)
    except StepFailed:
        raise
    except Exception as exc:  # the adapter's own errors, e.g. botocore ClientError
        raise AwsActionFailed(f"{spec.action}: {exc}") from exc
    # Round-trip through JSON so datetimes and the like fit the execution state.
    cleaned = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    return {"action": spec.action, "response": json.loads(json.dumps(cleaned, default=str))}
