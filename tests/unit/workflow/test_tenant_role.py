"""`aws` steps act with credentials of the remediation role assumed for the step's tenant:
the session tag names stage and tenant, and sessions are reused until shortly before expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.stub import Stubber

from orchestrix.adapters.aws.tenant_role import TenantRoleClients

ROLE = "arn:aws:iam::123456789012:role/orchestrix-dev-remediation"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def credentials(key: str, expires: datetime) -> dict[str, Any]:
    return {"Credentials": {"AccessKeyId": key, "SecretAccessKey": "s" * 20,
                            "SessionToken": "t" * 20, "Expiration": expires}}  # fmt: skip


def expected(tenant: str) -> dict[str, Any]:
    return {
        "RoleArn": ROLE,
        "RoleSessionName": f"orchestrix-{tenant}",
        "Tags": [{"Key": "orchestrix:tenant", "Value": f"dev/{tenant}"}],
        "DurationSeconds": 3600,
    }


def test_each_tenant_gets_its_own_tagged_session_reused_until_it_nears_expiry() -> None:
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x")  # fmt: skip
    made: list[tuple[str, str]] = []
    clock = [NOW]

    def make_client(service: str, **creds: str) -> str:
        made.append((service, creds["aws_access_key_id"]))
        return service

    clients = TenantRoleClients(ROLE, "dev", sts, make_client, now=lambda: clock[0])
    with Stubber(sts) as stub:
        stub.add_response("assume_role", credentials("AKIAACME00000001", NOW + timedelta(hours=1)),
                          expected("acme"))  # fmt: skip
        stub.add_response("assume_role", credentials("AKIABETA00000001", NOW + timedelta(hours=1)),
                          expected("beta"))  # fmt: skip
        stub.add_response("assume_role", credentials("AKIAACME00000002", NOW + timedelta(hours=2)),
                          expected("acme"))  # fmt: skip

        clients("acme", "ecs")
        clients("acme", "ec2")  # same session
        clients("beta", "ecs")  # another tenant: another tagged session
        clock[0] = NOW + timedelta(minutes=56)  # within 5 minutes of expiry: renewed
        clients("acme", "ecs")
        stub.assert_no_pending_responses()

    assert made == [
        ("ecs", "AKIAACME00000001"),
        ("ec2", "AKIAACME00000001"),
        ("ecs", "AKIABETA00000001"),
        ("ecs", "AKIAACME00000002"),
    ]
