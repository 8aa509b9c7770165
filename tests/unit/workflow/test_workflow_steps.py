from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import TypeAdapter

from orchestrix.domain.egress import EgressDenied, EgressPolicy
from orchestrix.domain.workflow.errors import (
    AwsActionFailed,
    AwsActionNotAllowed,
    HttpStatusError,
    NotifyFailed,
    StepFailed,
    TemplateError,
)
from orchestrix.domain.workflow.http import OutboundRequest, OutboundResponse
from orchestrix.domain.workflow.model import AnyStep, Step
from orchestrix.services.workflow_steps import StepTools, run_step

STEP: TypeAdapter[AnyStep] = TypeAdapter(Step)
CONTEXT: dict[str, Any] = {
    "inputs": {"service": "api.example", "count": 3},
    "steps": {"check": {"status": 503}},
    "alert": None,
    "meta": {"tenant_id": "acme", "execution_id": "exe_1"},
}


class FakeHttp:
    """Answers every request with one canned response and remembers the requests."""

    def __init__(self, status: int = 200, body: bytes = b"{}", ctype: str = "application/json"):
        self.response = (status, body, ctype)
        self.sent: list[OutboundRequest] = []

    def __call__(self, request: OutboundRequest, egress: EgressPolicy) -> OutboundResponse:
        egress.check_url(request.url)
        self.sent.append(request)
        status, body, ctype = self.response
        return OutboundResponse(status, {"content-type": ctype}, body, request.url)


PUBLIC = EgressPolicy(resolver=lambda host: ["93.184.216.34"])


def event(step: dict[str, Any], context: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"step": json.dumps(step), "context": context or CONTEXT, "execution_id": "arn:x"}


def test_http_step_renders_the_request_and_returns_status_headers_and_json_body() -> None:
    http = FakeHttp(200, b'{"healthy": true}')
    step = {
        "id": "check",
        "type": "http",
        "request": {
            "method": "POST",
            "url": "https://{{ inputs.service }}/health",
            "headers": {"X-Count": "{{ inputs.count }}"},
            "body": {"n": "{{ inputs.count }}"},
        },
    }

    output = run_step(event(step), StepTools(egress=PUBLIC, http_client=http))

    assert output == {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "body": {"healthy": True},
    }
    sent = http.sent[0]
    assert (sent.method, sent.url, sent.headers["X-Count"]) == (
        "POST",
        "https://api.example/health",
        "3",
    )
    assert json.loads(sent.body or b"") == {"n": 3}


def test_status_outside_expect_status_is_an_http_status_error() -> None:
    step = {
        "id": "check",
        "type": "http",
        "request": {"url": "https://x.example/"},
        "expect_status": [200, 204],
    }

    with pytest.raises(HttpStatusError, match=r"answered 503, expected one of \[200, 204\]"):
        run_step(event(step), StepTools(egress=PUBLIC, http_client=FakeHttp(503)))


def test_templated_url_to_a_refused_target_fails_the_step_at_run_time() -> None:
    step = {"id": "check", "type": "http", "request": {"url": "http://{{ inputs.service }}/"}}
    context = {**CONTEXT, "inputs": {"service": "169.254.169.254"}}

    with pytest.raises(EgressDenied, match="link-local"):
        run_step(event(step, context), StepTools(egress=PUBLIC, http_client=FakeHttp()))


def test_url_with_a_missing_value_is_a_template_error() -> None:
    step = {"id": "check", "type": "http", "request": {"url": "http://{{ inputs.nope }}/"}}

    with pytest.raises(TemplateError):
        run_step(event(step), StepTools(egress=PUBLIC, http_client=FakeHttp()))


def test_long_text_body_is_truncated_to_fit_the_execution_state() -> None:
    step = {"id": "get", "type": "http", "request": {"url": "https://x.example/"}}
    http = FakeHttp(200, b"x" * 100_000, "text/plain")

    output = run_step(event(step), StepTools(egress=PUBLIC, http_client=http))

    assert len(output["body"]) == 32_768


def test_webhook_notify_posts_the_rendered_message() -> None:
    http = FakeHttp(202)
    step = {
        "id": "tell",
        "type": "notify",
        "message": "{{ inputs.service }}: {{ steps.check.status }}",
        "channel": {"type": "webhook", "url": "https://hooks.example/x"},
    }

    output = run_step(event(step), StepTools(egress=PUBLIC, http_client=http))

    assert output == {"channel": "webhook", "delivered": True}
    assert json.loads(http.sent[0].body or b"") == {"message": "api.example: 503", "step": "tell"}


def test_webhook_refusing_the_message_is_a_notify_failure() -> None:
    step = {
        "id": "tell",
        "type": "notify",
        "message": "hi",
        "channel": {"type": "slack", "webhook_url": "https://hooks.slack.example/T"},
    }

    with pytest.raises(NotifyFailed, match="slack receiver answered 500"):
        run_step(event(step), StepTools(egress=PUBLIC, http_client=FakeHttp(500)))


def test_email_goes_through_the_injected_sender() -> None:
    sent: list[tuple[list[str], str, str]] = []
    step = {
        "id": "mail",
        "type": "notify",
        "message": "{{ inputs.service }} restarted",
        "channel": {"type": "email", "to": ["oncall@corp.example"], "subject": "fyi"},
    }
    tools = StepTools(
        egress=PUBLIC, http_client=FakeHttp(), send_email=lambda *args: sent.append(args)
    )

    run_step(event(step), tools)

    assert sent == [(["oncall@corp.example"], "fyi", "api.example restarted")]


def test_aws_step_calls_the_action_with_rendered_typed_params() -> None:
    calls: list[tuple[str, str, str, Any]] = []

    def aws(tenant: str, service: str, operation: str, params: Any) -> dict[str, Any]:
        calls.append((tenant, service, operation, params))
        return {"ResponseMetadata": {"RequestId": "r"}, "Activities": []}

    step = {
        "id": "scale",
        "type": "aws",
        "action": "autoscaling:SetDesiredCapacity",
        "params": {
            "AutoScalingGroupName": "{{ inputs.service }}",
            "DesiredCapacity": "{{ inputs.count }}",
        },
    }

    output = run_step(event(step), StepTools(egress=PUBLIC, http_client=FakeHttp(), aws=aws))

    assert calls == [
        (
            "acme",  # the execution's tenant: its credentials act
            "autoscaling",
            "SetDesiredCapacity",
            {"AutoScalingGroupName": "api.example", "DesiredCapacity": 3},
        ),
    ]
    assert output == {"action": "autoscaling:SetDesiredCapacity", "response": {"Activities": []}}


def test_aws_error_becomes_aws_action_failed() -> None:
    def aws(tenant: str, service: str, operation: str, params: Any) -> dict[str, Any]:
        raise RuntimeError("ServiceNotFoundException: no such service")

    step = {"id": "r", "type": "aws", "action": "ecs:UpdateService", "params": {}}

    with pytest.raises(AwsActionFailed, match="ecs:UpdateService: ServiceNotFound"):
        run_step(event(step), StepTools(egress=PUBLIC, http_client=FakeHttp(), aws=aws))


@pytest.mark.parametrize(
    "action", ["lambda:Invoke", "states:StartExecution", "secretsmanager:GetSecretValue",
               "ssm:SendCommand", "lambda:PutFunctionConcurrency", "rds-data:ExecuteStatement"]
)  # fmt: skip
def test_aws_step_saved_before_the_allow_list_shrank_is_refused_at_run_time(action: str) -> None:
    # given a step event as a state machine compiled from an old definition sends it
    called: list[str] = []

    def aws(tenant: str, service: str, operation: str, params: Any) -> dict[str, Any]:
        called.append(f"{service}:{operation}")
        return {}

    forged = {"tenant_id": "a", "roles": "admin"}
    params = {"FunctionName": "orchestrix-dev-api", "Payload": json.dumps(forged)}
    step = {"id": "x", "type": "aws", "action": action, "params": params}

    # when the step Lambda runs it, then it is refused before any AWS call
    with pytest.raises(AwsActionNotAllowed, match=f"aws action '{action}' is not allowed"):
        run_step(event(step), StepTools(egress=PUBLIC, http_client=FakeHttp(), aws=aws))
    assert called == []


def test_step_tools_refuse_an_action_outside_the_table_before_building_a_client() -> None:
    from orchestrix.adapters.aws.workflow_tools import step_tools

    clients: list[str] = []
    tools = step_tools(lambda service: clients.append(service), egress=PUBLIC, ses_from=None)
    assert tools.aws is not None

    with pytest.raises(AwsActionNotAllowed):
        tools.aws("acme", "lambda", "Invoke", {"FunctionName": "orchestrix-dev-api"})
    assert clients == []


def test_aws_step_acts_with_the_clients_of_the_executions_tenant() -> None:
    from orchestrix.adapters.aws.workflow_tools import step_tools

    class Ecs:
        def update_service(self, **params: Any) -> dict[str, Any]:
            return {"service": params}

    asked: list[tuple[str, str]] = []

    def tenant_clients(tenant: str, service: str) -> Ecs:
        asked.append((tenant, service))
        return Ecs()

    tools = step_tools(
        lambda service: pytest.fail("the function's own client must not act"),
        egress=PUBLIC,
        ses_from=None,
        tenant_clients=tenant_clients,
    )
    step = {"id": "s", "type": "aws", "action": "ecs:UpdateService", "params": {"service": "web"}}

    output = run_step(event(step), tools)

    assert asked == [("acme", "ecs")]
    assert output["response"] == {"service": {"service": "web"}}


def test_aws_step_without_a_tenant_in_the_execution_is_refused() -> None:
    step = {"id": "s", "type": "aws", "action": "ecs:UpdateService", "params": {}}
    context = {k: v for k, v in CONTEXT.items() if k != "meta"}

    with pytest.raises(StepFailed, match="carries no tenant"):
        run_step(event(step, context), StepTools(egress=PUBLIC, http_client=FakeHttp(),
                                                 aws=lambda *a: pytest.fail("called")))  # fmt: skip


def test_condition_and_approval_steps_evaluate_and_render() -> None:
    condition = {
        "id": "c",
        "type": "condition",
        "then": "x",
        "if": {"path": "steps.check.status", "op": "contains", "value": 5},
    }
    approval = {"id": "ask", "type": "approval", "message": "Restart {{ inputs.service }}?"}
    tools = StepTools(egress=PUBLIC, http_client=FakeHttp())

    assert run_step(event(condition), tools) == {"result": False}
    assert run_step(event(approval), tools) == {
        "message": "Restart api.example?",
        "timeout_seconds": 3600,
    }
