"""Stack-wide cdk-nag acknowledgments, each with the reason it is accepted. Findings tied to
one IAM statement are acknowledged where the statement is written (see infra/nag.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.nag import acknowledge

if TYPE_CHECKING:
    from infra.stacks.orchestrix_stack import OrchestrixStack

MANAGED_POLICY = "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/{}]"


def apply_suppressions(stack: OrchestrixStack) -> None:
    _stage_choices(stack)
    _functions(stack)
    _api(stack)
    _network(stack)
    acknowledge(
        stack.notifications.integrations_secret,
        "AwsSolutions-SMG4",
        "Holds third-party Slack/webhook credentials that AWS cannot rotate; tenants rotate "
        "them at the provider and update the secret.",
    )


def _stage_choices(stack: OrchestrixStack) -> None:
    """Findings that follow from an explicit per-stage context choice."""
    if not stack.config.deletion_protection:
        acknowledge(
            stack.database.cluster,
            "AwsSolutions-RDS10",
            "This stage was synthesized with -c deletionProtection=false (a throwaway stage).",
        )


def _functions(stack: OrchestrixStack) -> None:
    scope = stack.functions
    acknowledge(
        scope,
        "AwsSolutions-L1",
        "Pinned to Python 3.12: the layer's compiled wheels (psycopg-binary, pydantic-core, "
        "cramjam, rpds-py) are built for cp312; moving runtime is a deliberate, tested change.",
    )
    acknowledge(
        scope,
        MANAGED_POLICY.format("AWSLambdaBasicExecutionRole"),
        "Grants only CreateLogStream/PutLogEvents, which every function needs.",
    )
    acknowledge(
        scope,
        MANAGED_POLICY.format("AWSLambdaVPCAccessExecutionRole"),
        "Grants only the ENI management Lambda needs to run inside the VPC.",
    )


def _api(stack: OrchestrixStack) -> None:
    api = stack.api
    acknowledge(
        api.rest_api,
        "AwsSolutions-APIG2",
        "Requests are validated by the handlers (pydantic models) and answered with RFC 9457 "
        "problem+json naming the field; API Gateway validation would answer in another shape.",
    )
    acknowledge(
        api.rest_api,
        "AwsSolutions-APIG6",
        "Execution logging needs the account-wide API Gateway CloudWatch role, which a "
        "per-stage stack must not own; handlers log every request with its request id.",
    )
    if stack.config.api_cloudwatch_role:
        acknowledge(
            api.rest_api,
            MANAGED_POLICY.format("AmazonAPIGatewayPushToCloudWatchLogs"),
            "API Gateway's own account-wide logging role (asked for with "
            "-c apiGatewayCloudWatchRole=true) is defined by AWS with this managed policy.",
        )
    if not stack.config.access_logs:
        acknowledge(
            api.rest_api,
            "AwsSolutions-APIG1",
            "Access logs are opt-in (-c accessLogs=true): they need API Gateway's account-wide "
            "CloudWatch role; handlers log every request with its request id meanwhile.",
        )
    acknowledge(
        api.rest_api,
        "AwsSolutions-COG4",
        "Identity comes from any OIDC issuer (Keycloak, Cognito, ...) and orx_ ingestion keys, "
        "verified by the Lambda TOKEN authorizer, not only from a Cognito user pool.",
    )
    if not stack.config.waf:
        acknowledge(
            api.rest_api,
            "AwsSolutions-APIG3",
            "WAF is optional per stage (-c waf=true); stage throttling limits abuse meanwhile.",
        )
    for route_key, method in api.public_methods.items():
        acknowledge(
            method,
            "AwsSolutions-APIG4",
            f"{route_key} is public by design (health checks, the OpenAPI document); it "
            "returns no tenant data.",
        )


def _network(stack: OrchestrixStack) -> None:
    for instance in stack.network.nat_instances:
        acknowledge(
            instance,
            "AwsSolutions-EC28",
            "The NAT instance of the default (low-cost) profile: detailed monitoring would "
            "cost more than the instance; basic 5-minute metrics are enough to see it is up.",
        )
        acknowledge(
            instance,
            "AwsSolutions-EC29",
            "The NAT instance is stateless and replaced by CloudFormation; termination "
            "protection would only block stack updates and teardown.",
        )
    acknowledge(
        stack.database.cluster,
        "AwsSolutions-RDS6",
        "Functions authenticate with the rotated Secrets Manager password (re-read on "
        "authentication failure); IAM tokens are not used, so IAM auth stays off.",
    )
    acknowledge(
        stack.network.vpc,
        "AwsSolutions-EC23",
        "Interface endpoint security groups admit HTTPS, and the NAT instance's security group "
        "forwarded traffic, from the VPC CIDR only; cdk-nag cannot evaluate the CIDR because "
        "it is a CloudFormation reference.",
    )
