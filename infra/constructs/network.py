"""VPC: isolated subnets for the database and the core functions, AWS services through
interface endpoints (no NAT on the core path), and a NAT-backed subnet only when some function
has to reach the internet (tenant webhooks, http workflow steps)."""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig
from orchestrix import wiring

_Svc = ec2.InterfaceVpcEndpointAwsService
# Which AWS API a capability calls from inside the VPC; one interface endpoint each.
CAPABILITY_ENDPOINTS: dict[str, tuple[str, _Svc]] = {
    "database": ("SecretsManager", _Svc.SECRETS_MANAGER),
    "events:put": ("EventBridge", _Svc.EVENTBRIDGE),
    "scheduler:manage": ("Scheduler", _Svc("scheduler")),
    "states:start": ("StepFunctions", _Svc.STEP_FUNCTIONS),
    "states:callback": ("StepFunctions", _Svc.STEP_FUNCTIONS),
    "sns:publish": ("Sns", _Svc.SNS),
    "ses:send": ("Ses", _Svc.EMAIL),
    "bedrock:invoke": ("BedrockRuntime", _Svc.BEDROCK_RUNTIME),
    "kms:secrets": ("Kms", _Svc.KMS),
}
# Capabilities whose APIs have no plain interface endpoint (Timestream uses cell-specific
# endpoints found by discovery; remediation calls arbitrary services): they need egress.
EGRESS_CAPABILITIES = frozenset({"timestream:write", "timestream:query", "remediation:act"})

ISOLATED = "isolated"
EGRESS = "egress"


def needs_egress(fn: wiring.Function) -> bool:
    return fn.internet or bool(EGRESS_CAPABILITIES.intersection(fn.capabilities))


class Network(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        functions: Iterable[wiring.Function],
        retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        functions = tuple(functions)
        nat = config.nat_gateways
        if nat is None:
            nat = 1 if any(needs_egress(fn) for fn in functions) else 0
        self.has_egress = nat > 0
        self.vpc = self._build_vpc(config, nat)
        self.endpoint_names = self._build_endpoints(functions)
        self._build_flow_log(retention)

    def _build_vpc(self, config: StageConfig, nat: int) -> ec2.Vpc:
        subnets = [
            ec2.SubnetConfiguration(
                name=ISOLATED, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
            )
        ]
        if nat:
            subnets += [
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
                ec2.SubnetConfiguration(
                    name=EGRESS, subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
            ]
        return ec2.Vpc(
            self,
            "Vpc",
            vpc_name=config.prefix,
            max_azs=2,  # Aurora needs subnets in two AZs
            nat_gateways=nat,
            subnet_configuration=subnets,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )

    def _build_endpoints(self, functions: tuple[wiring.Function, ...]) -> list[str]:
        wanted: dict[str, _Svc] = {}
        for fn in functions:
            for capability in fn.capabilities:
                if capability in CAPABILITY_ENDPOINTS:
                    name, service = CAPABILITY_ENDPOINTS[capability]
                    wanted[name] = service
        for name, service in sorted(wanted.items()):
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=ec2.SubnetSelection(subnet_group_name=ISOLATED),
                private_dns_enabled=True,
            )
        return sorted(wanted)

    def _build_flow_log(self, retention: logs.RetentionDays) -> None:
        group = logs.LogGroup(
            self,
            "FlowLogs",
            retention=retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(group),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )

    def function_subnets(self, fn: wiring.Function) -> ec2.SubnetSelection:
        if needs_egress(fn) and self.has_egress:
            return ec2.SubnetSelection(subnet_group_name=EGRESS)
        return ec2.SubnetSelection(subnet_group_name=ISOLATED)
