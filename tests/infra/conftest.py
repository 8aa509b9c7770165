"""Builds the CDK stacks once per session (jsii start-up and synth are slow).

`dev` is the stack exactly as `cdk synth -c stage=dev` builds it from orchestrix.wiring;
`acme` is a second stage of the same wiring; `full` turns every option on and adds a function
with every capability, rules on both buses and a sample state machine, so the generic
builders are exercised beyond what the wiring holds today.
"""

from __future__ import annotations

import dataclasses
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
ALL_CAPABILITIES: tuple[wiring.Capability, ...] = typing.get_args(wiring.Capability)
FULL_CONTEXT = {
    "metricsBackend": "timestream",
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
            {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]},
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
    template: Template
    config: StageConfig
    tables: Tables

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template.to_json()["Resources"]
        return resources

    def of_type(self, cfn_type: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}


def build(context: dict[str, str], tables: Tables | None = None, **kwargs: Any) -> Built:
    app = cdk.App(context={"aws:cdk:bundling-stacks": [], **context})
    config = load(app.node.try_get_context, {})
    stack = OrchestrixStack(app, config, tables=tables, **kwargs)
    return Built(stack, Template.from_stack(stack), config, tables or Tables())


@pytest.fixture(scope="session")
def dev() -> Built:
    return build({"stage": "dev"})


@pytest.fixture(scope="session")
def acme() -> Built:
    return build({"stage": "acme"})


@pytest.fixture(scope="session")
def full() -> Built:
    return build({"stage": "full", **FULL_CONTEXT}, FULL_TABLES, statemachines_dir=FIXTURES)
