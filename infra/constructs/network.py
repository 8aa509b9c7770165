"""VPC: the database in isolated subnets, the functions in private subnets with egress.

Every function reaches AWS APIs (Secrets Manager, EventBridge, Scheduler, Step Functions,
SES/SNS, KMS) and the internet (the IdP's JWKS, tenant webhooks) through the same NAT.

- profile `default` (the cheapest stage that works): one NAT *instance* (t4g.nano) in a public
  subnet, no interface endpoints; every function sits in the egress subnets.
- profile `production`: one NAT gateway per AZ, plus an interface endpoint for each AWS API
  the functions' capabilities use, so the core path does not depend on the NAT; only
  functions that call the internet (or APIs without an endpoint) sit in the egress subnets.

The S3 gateway endpoint is free and kept in both.
"""

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
    "scheduler:toggle": ("Scheduler", _Svc("scheduler")),
    "states:start": ("StepFunctions", _Svc.STEP_FUNCTIONS),
    "states:callback": ("StepFunctions", _Svc.STEP_FUNCTIONS),
    "sns:publish": ("Sns", _Svc.SNS),
    "ses:send": ("Ses", _Svc.EMAIL),
    "bedrock:invoke": ("BedrockRuntime", _Svc.BEDROCK_RUNTIME),
    "kms:secrets": ("Kms", _Svc.KMS),
    "metrics:write": ("AmpWorkspaces", _Svc("aps-workspaces")),
    "metrics:read": ("AmpWorkspaces", _Svc("aps-workspaces")),
}
# Capabilities that call AWS only with metricsBackend=amp: no endpoint for a postgres stage.
AMP_CAPABILITIES = frozenset({"metrics:write", "metrics:read"})
# Capabilities whose APIs have no plain interface endpoint (remediation calls arbitrary
# services): they need egress.
EGRESS_CAPABILITIES = frozenset({"remediation:act"})

ISOLATED = "isolated"
EGRESS = "egress"


NAT_INSTANCE_TYPE = "t4g.nano"
NAT_VOLUME_GIB = 8


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
        # With interface endpoints the core path needs no NAT; without, every function does.
        self.endpoints = config.profile == "production"
        self.nat_instance: ec2.NatInstanceProviderV2 | None = None
        self.vpc = self._build_vpc(config)
        self.endpoint_names = self._build_endpoints(functions, config) if self.endpoints else []
        self.nat_instances = self._encrypt_nat_instance_volumes()
        if self.nat_instance is not None:
            # OUTBOUND_ONLY opens nothing inbound: forwarding needs the private subnets' traffic
            # in (from inside the VPC only; nothing from the internet).
            self.nat_instance.security_group.add_ingress_rule(
                ec2.Peer.ipv4(self.vpc.vpc_cidr_block),
                ec2.Port.all_traffic(),
                "private subnets through the NAT instance",
            )
        self._build_flow_log(retention)

    def _nat_provider(self, config: StageConfig) -> tuple[ec2.NatProvider, int]:
        if config.nat_gateways is not None or config.profile == "production":
            count = config.nat_gateways or 2  # production: one per AZ, no cross-AZ dependency
            return ec2.NatProvider.gateway(), count
        # ~$3/month plus a public IPv4 address instead of a NAT gateway's ~$33 + IPv4: enough
        # for API calls and webhooks at a small stage (up to 5 Gbit/s burst, one AZ).
        self.nat_instance = ec2.NatProvider.instance_v2(
            instance_type=ec2.InstanceType(NAT_INSTANCE_TYPE),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(
                cpu_type=ec2.AmazonLinuxCpuType.ARM_64
            ),
            default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
        )
        return self.nat_instance, 1

    def _build_vpc(self, config: StageConfig) -> ec2.Vpc:
        provider, count = self._nat_provider(config)
        subnets = [
            ec2.SubnetConfiguration(
                name=ISOLATED, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
            ),
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
            nat_gateway_provider=provider,
            nat_gateways=count,
            subnet_configuration=subnets,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )

    def _encrypt_nat_instance_volumes(self) -> list[ec2.CfnInstance]:
        """The NAT provider takes no block devices: encrypt the root volume (gp3, the AMI's
        8 GiB) through the L1 resource."""
        instances = [n for n in self.vpc.node.find_all() if isinstance(n, ec2.CfnInstance)]
        for instance in instances:
            instance.block_device_mappings = [
                ec2.CfnInstance.BlockDeviceMappingProperty(
                    device_name="/dev/xvda",
                    ebs=ec2.CfnInstance.EbsProperty(
                        encrypted=True,
                        volume_size=NAT_VOLUME_GIB,
                        volume_type="gp3",
                        delete_on_termination=True,
                    ),
                )
            ]
        return instances

    def _build_endpoints(
        self, functions: tuple[wiring.Function, ...], config: StageConfig
    ) -> list[str]:
        wanted: dict[str, _Svc] = {}
        for fn in functions:
            for capability in fn.capabilities:
                if capability in AMP_CAPABILITIES and config.metrics_backend != "amp":
                    continue
                if capability == "bedrock:invoke" and not config.bedrock_model_id:
                    continue  # the offline analyser calls no model: no endpoint to pay for
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
        if needs_egress(fn) or not self.endpoints:
            return ec2.SubnetSelection(subnet_group_name=EGRESS)
        return ec2.SubnetSelection(subnet_group_name=ISOLATED)
