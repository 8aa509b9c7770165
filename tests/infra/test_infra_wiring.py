"""The synthesized template and orchestrix.wiring agree: every route, schedule, rule, state
machine and function is there, and nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Built

from infra.constructs.api import PROBLEM_JSON
from orchestrix import wiring
from orchestrix.local.stage_admin import admin_function_name

pytestmark = pytest.mark.xdist_group("cdk")


def api_routes(built: Built) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) -> Method properties, rebuilt from the Resource parent chain."""
    resources = built.of_type("AWS::ApiGateway::Resource")

    def path_of(ref: Any) -> str:
        if not isinstance(ref, dict) or "Ref" not in ref:
            return ""  # the API's root resource
        props = resources[ref["Ref"]]["Properties"]
        return f"{path_of(props['ParentId'])}/{props['PathPart']}"

    return {
        (m["Properties"]["HttpMethod"], path_of(m["Properties"]["ResourceId"]) or "/"): m[
            "Properties"
        ]
        for m in built.of_type("AWS::ApiGateway::Method").values()
    }


def function_logical_ids(built: Built) -> dict[str, str]:
    """wiring name -> logical id of its Lambda function."""
    prefix = f"{built.config.prefix}-"
    return {
        props["Properties"]["FunctionName"].removeprefix(prefix): logical
        for logical, props in built.of_type("AWS::Lambda::Function").items()
        if str(props["Properties"].get("FunctionName", "")).startswith(prefix)
    }


@pytest.fixture(params=["dev", "full"])
def built(request: pytest.FixtureRequest) -> Built:
    value: Built = request.getfixturevalue(request.param)
    return value


def test_every_route_is_a_method_and_nothing_else(built: Built) -> None:
    routes = api_routes(built)

    assert set(routes) == {(r.method, r.path) for r in built.tables.routes}


def test_each_route_invokes_its_function_with_the_right_authorization(built: Built) -> None:
    routes = api_routes(built)
    functions = function_logical_ids(built)

    for route in built.tables.routes:
        method = routes[(route.method, route.path)]
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert f'"{functions[route.function]}"' in built.from_parent(integration["Uri"])
        if route.auth:
            assert method["AuthorizationType"] == "CUSTOM"
            assert "AuthorizerId" in method
        else:
            assert method["AuthorizationType"] == "NONE"
            assert "AuthorizerId" not in method


def test_every_schedule_targets_its_function_and_nothing_else(built: Built) -> None:
    schedules = built.of_type("AWS::Scheduler::Schedule").values()
    functions = function_logical_ids(built)

    found = {
        s["Properties"]["Name"]: (s["Properties"]["ScheduleExpression"], s["Properties"]["Target"])
        for s in schedules
    }
    assert set(found) == {f"{built.config.prefix}-{s.name}" for s in built.tables.schedules}
    for entry in built.tables.schedules:
        expression, target = found[f"{built.config.prefix}-{entry.name}"]
        assert expression == entry.expression
        assert target["Arn"] == {"Fn::GetAtt": [functions[entry.function], "Arn"]}
        assert "DeadLetterConfig" in target


def test_every_event_rule_has_its_pattern_bus_and_target_and_nothing_else(built: Built) -> None:
    rules = {
        r["Properties"]["Name"]: r["Properties"]
        for r in built.of_type("AWS::Events::Rule").values()
    }
    functions = function_logical_ids(built)
    bus = next(iter(built.of_type("AWS::Events::EventBus")))

    assert set(rules) == {f"{built.config.prefix}-{r.name}" for r in built.tables.rules}
    for rule in built.tables.rules:
        props = rules[f"{built.config.prefix}-{rule.name}"]
        assert props["EventPattern"] == built.stack.resolve(
            rule.pattern_for(built.config.stage, built.stack.events.state_machine_arn_prefix)
        )
        if rule.bus == "orchestrix":
            assert props["EventBusName"] == {"Ref": bus}
        else:
            assert "EventBusName" not in props
        (target,) = props["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [functions[rule.function], "Arn"]}


def test_every_state_machine_is_deployed_and_nothing_else(built: Built) -> None:
    machines = built.of_type("AWS::StepFunctions::StateMachine").values()

    assert {m["Properties"]["StateMachineName"] for m in machines} == {
        f"{built.config.prefix}-{m.name}" for m in built.tables.state_machines
    }


def test_every_function_is_python312_arm64_with_the_layer_and_nothing_else(built: Built) -> None:
    functions = function_logical_ids(built)
    resources = built.resources

    assert set(functions) == {fn.name for fn in built.tables.functions}
    for spec in built.tables.functions:
        props = resources[functions[spec.name]]["Properties"]
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == "handler.handler"
        assert props["MemorySize"] == spec.memory_mb
        assert props["Timeout"] == spec.timeout_s
        assert len(props["Layers"]) == 1
        # Reserved concurrency fails to deploy on accounts with a low Lambda quota (the
        # unreserved pool may not drop below 10); jobs serialize with an advisory lock.
        assert "ReservedConcurrentExecutions" not in props
        assert "DeadLetterConfig" in props
        assert "VpcConfig" in props


SETTINGS = {
    "ORCHESTRIX_STAGE", "DB_SECRET_ARN", "DB_HOST", "DB_NAME", "EVENT_BUS_NAME",
    "SCHEDULE_GROUP_NAME", "SCHEDULER_ROLE_ARN", "SCHEDULER_TARGET_PREFIX",
    "STATE_MACHINE_ROLE_ARN", "STATE_MACHINE_PREFIX", "OIDC_ISSUER", "OIDC_AUDIENCE",
    "TENANT_CLAIM", "ROLE_CLAIMS", "METRICS_BACKEND", "NOTIFY_TOPIC_ARN", "SES_FROM_ADDRESS",
    "EGRESS_ALLOW", "BEDROCK_MODEL_ID", "ORCHESTRIX_TRACING", "LOG_LEVEL",
    "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE",
}  # fmt: skip


def test_every_function_gets_the_runtime_settings_contract(built: Built) -> None:
    for logical in function_logical_ids(built).values():
        env = built.resources[logical]["Properties"]["Environment"]["Variables"]
        assert set(env) >= SETTINGS
        assert not any(name.startswith("TIMESTREAM_") for name in env)
        assert env["ORCHESTRIX_STAGE"] == built.config.stage
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Orchestrix"
        assert env["METRICS_BACKEND"] == built.config.metrics_backend


def test_authorizer_is_a_cached_token_authorizer_on_the_authorization_header(dev: Built) -> None:
    (authorizer,) = dev.of_type("AWS::ApiGateway::Authorizer").values()
    functions = function_logical_ids(dev)

    props = authorizer["Properties"]
    assert props["Type"] == "TOKEN"
    assert props["IdentitySource"] == "method.request.header.Authorization"
    assert props["AuthorizerResultTtlInSeconds"] == 300
    assert f'"{functions["authorizer"]}"' in dev.from_parent(props["AuthorizerUri"])


def test_binary_media_types_come_from_wiring(dev: Built) -> None:
    from orchestrix import wiring

    (api,) = dev.of_type("AWS::ApiGateway::RestApi").values()

    assert api["Properties"]["BinaryMediaTypes"] == list(wiring.BINARY_MEDIA_TYPES)


@pytest.mark.parametrize(
    ("response_type", "status", "title"),
    [
        ("UNAUTHORIZED", 401, "Unauthorized"),
        ("ACCESS_DENIED", 403, "Forbidden"),
        ("MISSING_AUTHENTICATION_TOKEN", 404, "No route"),
        ("THROTTLED", 429, "Too Many Requests"),
        ("REQUEST_TOO_LARGE", 413, "Content Too Large"),
        ("DEFAULT_4XX", 400, "Bad Request"),
        ("DEFAULT_5XX", 500, "Internal Server Error"),
    ],
)
def test_gateway_errors_are_problem_json_with_the_request_id(
    dev: Built, response_type: str, status: int, title: str
) -> None:
    import json

    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in dev.of_type("AWS::ApiGateway::GatewayResponse").values()
    }

    props = responses[response_type]
    assert props["StatusCode"] == str(status)
    headers = props["ResponseParameters"]
    assert headers["gatewayresponse.header.Content-Type"] == f"'{PROBLEM_JSON}'"
    assert headers["gatewayresponse.header.X-Request-Id"] == "context.requestId"
    # What a client receives once API Gateway fills $context.error.messageString (quoted).
    body = props["ResponseTemplates"]["application/json"].replace(
        "$context.error.messageString", '"Missing Authentication Token"'
    )
    assert json.loads(body) == {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": "Missing Authentication Token",
    }


def test_api_invoke_permission_is_one_per_function_not_one_per_route(dev: Built) -> None:
    permissions = [
        p["Properties"]
        for p in dev.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    backing = {r.function for r in dev.tables.routes} | {"authorizer"}

    assert len(permissions) == len(backing)


def test_admin_function_is_reachable_by_iam_only_and_named_in_the_outputs(dev: Built) -> None:
    functions = function_logical_ids(dev)
    admin = functions[wiring.ADMIN_FUNCTION]

    # no route, rule, schedule or resource policy reaches it
    assert wiring.ADMIN_FUNCTION not in {r.function for r in wiring.ROUTES}
    assert wiring.ADMIN_FUNCTION not in {r.function for r in wiring.EVENT_RULES}
    assert wiring.ADMIN_FUNCTION not in {s.function for s in wiring.SCHEDULES}
    assert not [
        p for p in dev.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [admin, "Arn"]}
    ]  # fmt: skip
    # the roles that may invoke orchestrix-dev-* by wildcard are denied it explicitly
    policies = dev.of_type("AWS::IAM::Policy").values()
    denied = {
        role["Ref"]
        for policy in policies
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny" and admin in json.dumps(statement)
        for role in policy["Properties"]["Roles"]
    }
    wildcard_invokers = {
        role["Ref"]
        for policy in policies
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow" and "function:orchestrix-dev-*" in json.dumps(statement)
        for role in policy["Properties"]["Roles"]
    }
    assert len(wildcard_invokers) >= 2
    assert wildcard_invokers <= denied
    # and the CLI finds it under the name the stack gives it
    assert dev.templates["stage"]["Outputs"]["AdminFunctionName"]["Value"] == {"Ref": admin}
    assert dev.of_type("AWS::Lambda::Function")[admin]["Properties"]["FunctionName"] == (
        admin_function_name("dev")
    )
