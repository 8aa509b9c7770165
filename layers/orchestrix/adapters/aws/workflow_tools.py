"""The I/O a workflow step Lambda is given: HTTP under the egress policy, allow-listed AWS
calls, SES email and SNS SMS, all through boto3 clients built by the caller."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore import xform_name

from orchestrix.adapters.http_client import send
from orchestrix.domain.egress import EgressPolicy
from orchestrix.domain.workflow.aws_actions import AWS_STEP_ACTIONS
from orchestrix.domain.workflow.errors import AwsActionNotAllowed, NotifyFailed
from orchestrix.services.workflow_steps import StepTools

ClientFactory = Callable[[str], Any]
TenantClientFactory = Callable[[str, str], Any]  # (tenant id, service) -> boto3 client


def step_tools(
    clients: ClientFactory,
    *,
    egress: EgressPolicy,
    ses_from: str | None,
    tenant_clients: TenantClientFactory | None = None,
) -> StepTools:
    """`tenant_clients` act as the tenant (the remediation role in AWS); without it (the
    local emulator, which checks no IAM) steps use the function's own clients."""

    def aws(
        tenant_id: str, service: str, operation: str, params: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        if f"{service}:{operation}" not in AWS_STEP_ACTIONS:  # the last gate before boto3
            raise AwsActionNotAllowed(f"aws action {service}:{operation} is not allowed")
        client = tenant_clients(tenant_id, service) if tenant_clients else clients(service)
        result: Mapping[str, Any] = getattr(client, xform_name(operation))(**params)
        return result

    def send_email(to: list[str], subject: str, message: str) -> None:
        if not ses_from:
            raise NotifyFailed("SES_FROM_ADDRESS is not set: email cannot be sent")
        clients("ses").send_email(
            Source=ses_from,
            Destination={"ToAddresses": to},
            Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": message}}},
        )

    def send_sms(phone: str, message: str) -> None:
        clients("sns").publish(PhoneNumber=phone, Message=message)

    return StepTools(
        egress=egress,
        http_client=send,
        aws=aws,
        send_email=send_email,
        send_sms=send_sms,
    )
