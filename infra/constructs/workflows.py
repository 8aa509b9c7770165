"""Step Functions: the role compiled workflow state machines run under, and the state
machines declared in `wiring.STATE_MACHINES` (ASL files with `${Placeholder}`s that
CloudFormation fills with function ARNs)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.layer import REPO_ROOT
from infra.nag import acknowledge, acknowledge_wildcards
from orchestrix import wiring

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def placeholders(definition: str) -> set[str]:
    return set(_PLACEHOLDER.findall(definition))


class Workflows(Construct):
    def __init__(
        self, scope: Construct, id: str, *, config: StageConfig, retention: logs.RetentionDays
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        stack = cdk.Stack.of(self)
        self.name_prefix = f"{config.prefix}-"
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/{config.prefix}",
            retention=retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description="Role compiled Orchestrix workflows and remediation run under",
        )
        # Workflow steps are the stage's own functions; compiled workflows are created at run
        # time, so the set is scoped by the stage's name prefix rather than listed.
        steps = [
            f"arn:{stack.partition}:lambda:{stack.region}:{stack.account}:function:"
            f"{self.name_prefix}*"
        ]
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=steps)
        )
        acknowledge_wildcards(
            self.role,
            steps,
            "Workflows are compiled at run time and their steps may be any function of this "
            "stage; all of them, and only them, share the orchestrix-<stage>- name prefix.",
        )
        self.role.add_to_policy(_log_delivery_statement())
        acknowledge_wildcards(
            self.role,
            ["*"],
            "CloudWatch Logs delivery and X-Ray APIs used by Step Functions logging/tracing "
            "have no resource-level permissions.",
        )
        if config.tracing:
            self.role.add_to_policy(
                iam.PolicyStatement(
                    actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                    resources=["*"],
                )
            )
        self.state_machines: dict[str, sfn.StateMachine] = {}

    def deploy(
        self,
        functions: Mapping[str, lambda_.IFunction],
        machines: Iterable[wiring.StateMachine] = wiring.STATE_MACHINES,
        definitions_dir: Path = REPO_ROOT / "statemachines",
    ) -> None:
        for machine in machines:
            self.state_machines[machine.name] = self._build_state_machine(
                machine, functions, definitions_dir
            )

    def _build_state_machine(
        self,
        machine: wiring.StateMachine,
        functions: Mapping[str, lambda_.IFunction],
        definitions_dir: Path,
    ) -> sfn.StateMachine:
        path = definitions_dir / machine.definition
        text = path.read_text()
        json.loads(text)  # fail synth on a malformed file, not at deploy
        missing = placeholders(text) - set(machine.functions)
        if missing:
            raise ValueError(f"{path.name}: no function for placeholders {sorted(missing)}")
        substitutions = {}
        for placeholder, function_name in machine.functions.items():
            fn = functions[function_name]
            fn.grant_invoke(self.role)
            acknowledge_wildcards(
                self.role,
                [f"{fn.function_arn}:*"],
                "CDK's invoke grant also covers the function's versions and aliases.",
            )
            substitutions[placeholder] = fn.function_arn
        state_machine = sfn.StateMachine(
            self,
            f"StateMachine-{machine.name}",
            state_machine_name=f"{self.name_prefix}{machine.name}",
            definition_body=sfn.DefinitionBody.from_string(text),
            definition_substitutions=substitutions,
            role=self.role,
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ERROR,
                include_execution_data=True,
            ),
            tracing_enabled=self._config.tracing,
        )
        acknowledge(
            state_machine,
            "AwsSolutions-SF1",
            "Logs at ERROR with execution data: ALL would copy every step's payload (tenant "
            "data) into CloudWatch on every run; execution history keeps the full trace.",
        )
        if not self._config.tracing:
            acknowledge(
                state_machine,
                "AwsSolutions-SF2",
                "X-Ray is optional per stage (-c tracing=true); it costs per trace recorded.",
            )
        return state_machine


def _log_delivery_statement() -> iam.PolicyStatement:
    # Step Functions log delivery APIs have no resource-level permissions.
    return iam.PolicyStatement(
        actions=[
            "logs:CreateLogDelivery",
            "logs:GetLogDelivery",
            "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups",
        ],
        resources=["*"],
    )
