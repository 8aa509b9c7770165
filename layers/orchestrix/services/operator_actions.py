"""Actions an operator runs with AWS credentials instead of an Orchestrix login.

A stage deployed without an OIDC issuer has no way in until someone holds a key: the
`admin` function (invoked with IAM, never routed through API Gateway) creates it. Whoever may
invoke the function already administers the stage's AWS account; CloudTrail records who did.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrix.domain.errors import DomainError
from orchestrix.domain.identity import TENANT_ID_PATTERN, Principal, Role, Scope
from orchestrix.services.api_keys import ApiKeyService


class CreateApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["api-key.create"]
    tenant: str = Field(pattern=f"^(?:{TENANT_ID_PATTERN.pattern})$")  # pydantic: `$` = the end
    scopes: list[Scope] = Field(min_length=1)
    name: str = Field(default="bootstrap", min_length=1, max_length=200)
    expires_at: datetime | None = None
    requested_by: str = Field(default="unknown", max_length=512)  # the caller's AWS identity


def run(event: Mapping[str, Any], keys: ApiKeyService) -> dict[str, Any]:
    """One action; failures come back as `{"error", "errors"}`, never as a stack trace."""
    try:
        request = CreateApiKey.model_validate(event)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return {"error": "invalid request", "errors": errors}
    operator = Principal(
        tenant_id=request.tenant,
        subject=f"operator:{request.requested_by}",
        roles=frozenset({Role.ADMIN}),
        kind="system",
    )
    try:
        created = keys.create(operator, request.name, request.scopes, request.expires_at)
    except DomainError as exc:
        return {"error": str(exc)}
    return {
        "id": created.key.id,
        "tenant_id": created.key.tenant_id,
        "scopes": [s.value for s in created.key.scopes],
        "secret": created.secret,
    }
