"""`orchestrix api-key create --stage acme …`: the first key of a deployed stage, made by its
`admin` function with the caller's AWS credentials (no IdP, no API Gateway involved)."""

from __future__ import annotations

import json
from typing import Any

from orchestrix import wiring


class StageAdminError(Exception):
    """The stage refused or could not be reached; the message is one line for the user."""


def admin_function_name(stage: str) -> str:
    return f"orchestrix-{stage}-{wiring.ADMIN_FUNCTION}"


def create_api_key(
    stage: str,
    tenant: str,
    scopes: list[str],
    name: str,
    *,
    region: str | None = None,
    lambda_client: Any = None,
    sts_client: Any = None,
) -> dict[str, Any]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    function = admin_function_name(stage)
    try:
        client = lambda_client or boto3.client("lambda", region_name=region)
        sts = sts_client or boto3.client("sts", region_name=region)
        caller = str(sts.get_caller_identity()["Arn"])
        payload = {"action": "api-key.create", "tenant": tenant, "scopes": scopes, "name": name,
                   "requested_by": caller}  # fmt: skip
        reply = client.invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    except (BotoCoreError, ClientError) as exc:
        raise StageAdminError(f"cannot invoke {function}: {exc}") from None
    body = json.loads(reply["Payload"].read() or b"null")
    if reply.get("FunctionError"):
        message = body.get("errorMessage") if isinstance(body, dict) else body
        raise StageAdminError(f"{function} failed: {message}")
    if not isinstance(body, dict) or "error" in body:
        errors = body.get("errors", []) if isinstance(body, dict) else []
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        raise StageAdminError(f"{body.get('error') if isinstance(body, dict) else body}"
                              + (f" ({detail})" if detail else ""))  # fmt: skip
    return body
