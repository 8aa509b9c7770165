"""Builds the CDK stacks once per session (jsii start-up and synth are slow).

`dev` is the stack exactly as `cdk synth -c stage=dev` builds it from orchestrix.wiring;
`acme` is a second stage of the same wiring; `production` is `-c profile=production`;
`full` turns every option on and adds a function with every capability, rules on both buses
and a sample state machine, so the generic builders are exercised beyond what the wiring
holds today.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import typing
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `pytest` run without `python -m` from the repo root
    sys.path.insert(0, str(REPO_ROOT))

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from infra.config import StageConfig, load  # noqa: E402
from infra.stacks.orchestrix_stack import OrchestrixStack, Tables  # noqa: E402
from orchestrix import wiring  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
# The feature flags `cdk synth` reads from cdk.json: without them the template under test is
# not the one deployed (e.g. one IAM policy per addToRolePolicy call).
FEATURE_FLAGS = {
    key: value
    for key, value in json.loads((REPO_ROOT / "cdk.json").read_text())["context"].items()
    if key.startswith("@")
}
ALL_CAPABILITIES: tuple[wiring.Capability, ...] = typing.get_args(wiring.Capability)
FULL_CONTEXT = {
    "oidcIssuer": "https://idp.example.com/realms/acme",
    "alarmEmail": "ops@example.com",
    "sesFromAddress": "alerts@example.com",
    "bedrockModelId": "us.anthropic.claude-3-5-haiku-20241022-v1:0",
    "waf": "true",
    "tracing": "true",
    "domainName": "orchestrix.example.com",
    "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
    "account": "123456789012",
    "deletionProtection": "false",
    "accessLogs": "true",
    "apiGatewayCloudWatchRole": "true",
}
# The sample state machine and rules use a real function folder with every capability.
STEP_FUNCTION = "housekeeping"
FULL_TABLES = Tables(
    functions=tuple(
        dataclasses.replace(fn, capabilities=ALL_CAPABILITIES, internet=True)
        if fn.name == STEP_FUNCTION
        else fn
        for fn in wiring.FUNCTIONS
    ),
    rules=(
        wiring.EventRule(
            "alarm-intake",
            {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "detail": {"alarmName": [{"prefix": wiring.ALARM_NAME_PREFIX}]},
            },
            STEP_FUNCTION,
        ),
        wiring.EventRule(
            "execution-tracker",
            {"source": ["orchestrix"], "detail-type": ["workflow.execution.finished"]},
            STEP_FUNCTION,
            bus="orchestrix",
        ),
    ),
    state_machines=(
        wiring.StateMachine(
            "sample",
            "sample.asl.json",
            {"CheckFunctionArn": STEP_FUNCTION, "ActFunctionArn": "api"},
        ),
    ),
)


@dataclasses.dataclass(frozen=True)
class Built:
    stack: OrchestrixStack
    template: Template  # the stage's own stack
    api_template: Template  # the REST API's nested stack
    config: StageConfig
    tables: Tables

    @functools.cached_property
    def templates(self) -> dict[str, dict[str, Any]]:
        """Each CloudFormation template of the stage, by stack, as JSON."""
        return {"stage": dict(self.template.to_json()), "api": dict(self.api_template.to_json())}

    @property
    def resources(self) -> dict[str, Any]:
        """The resources of every template of the stage, as one deploy creates them."""
        resources: dict[str, Any] = {}
        for template in self.templates.values():
            clash = resources.keys() & template["Resources"].keys()
            assert not clash, f"logical ids in two stacks: {clash}"
            resources |= template["Resources"]
        return resources

    def of_type(self, cfn_type: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}

    def from_parent(self, value: Any) -> str:
        """A nested-stack value as text, each parameter replaced by what the parent passes
        in (e.g. a function's GetAtt), so it can be compared with parent logical ids."""
        text = json.dumps(value)
        (nested,) = self.of_type("AWS::CloudFormation::Stack").values()
        for name, passed in nested["Properties"].get("Parameters", {}).items():
            text = text.replace(json.dumps({"Ref": name}), json.dumps(passed))
        return text


def build(context: dict[str, str], tables: Tables | None = None, **kwargs: Any) -> Built:
    app = cdk.App(context={**FEATURE_FLAGS, "aws:cdk:bundling-stacks": [], **context})
    config = load(app.node.try_get_context, {})
    stack = OrchestrixStack(app, config, tables=tables, **kwargs)
    return Built(
        stack,
        Template.from_stack(stack),
        Template.from_stack(stack.api_stack),
        config,
        tables or Tables(),
    )


@pytest.fixture(scope="session")
def dev() -> Built:
    return build({"stage": "dev"})


@pytest.fixture(scope="session")
def production() -> Built:
    return build({"stage": "prod", "profile": "production"})


@pytest.fixture(scope="session")
def acme() -> Built:
    return build({"stage": "acme"})


@pytest.fixture(scope="session")
def full() -> Built:
    return build({"stage": "full", **FULL_CONTEXT}, FULL_TABLES, statemachines_dir=FIXTURES)


def policy_statements(built: Built, function_name: str) -> list[dict[str, object]]:
    """Statements of the inline policies attached to one function's role."""
    name = f"{built.config.prefix}-{function_name}"
    (fn,) = [
        f for f in built.of_type("AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == name
    ]  # fmt: skip
    return role_statements(built, fn["Properties"]["Role"]["Fn::GetAtt"][0])


def role_statements(built: Built, role: str) -> list[dict[str, object]]:
    """Statements of the inline policies attached to the role with logical id `role`."""
    statements: list[dict[str, object]] = []
    for policy in built.of_type("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def actions_of(statements: list[dict[str, object]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        found |= {action} if isinstance(action, str) else set(map(str, action))  # type: ignore[call-overload]
    return found
