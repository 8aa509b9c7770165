"""What a route needs from the proxy event: the caller and the request id."""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from orchestrix.domain.errors import Unauthorized
from orchestrix.domain.identity import Principal, Role, Scope

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _split(value: Any) -> list[str]:
    return [part for part in str(value or "").split(",") if part]


def principal_from_authorizer(ctx: dict[str, Any] | None) -> Principal:
    """Rebuild the Principal from `requestContext.authorizer` (strings only, as API Gateway
    allows), which the authorizer function produced."""
    if not ctx or not ctx.get("tenant_id"):
        raise Unauthorized("no authenticated principal on this request")
    known_roles = {r.value for r in Role}
    known_scopes = {s.value for s in Scope}
    return Principal(
        tenant_id=str(ctx["tenant_id"]),
        subject=str(ctx.get("subject") or ctx.get("principalId") or "unknown"),
        roles=frozenset(Role(r) for r in _split(ctx.get("roles")) if r in known_roles),
        scopes=frozenset(Scope(s) for s in _split(ctx.get("scopes")) if s in known_scopes),
        kind=str(ctx.get("principal_type") or "user"),
    )


def request_id_of(event: dict[str, Any]) -> str:
    """The caller's X-Request-Id when it is sane, else API Gateway's own request id."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    supplied = headers.get("x-request-id")
    if supplied and _REQUEST_ID.fullmatch(supplied):
        return str(supplied)
    return str((event.get("requestContext") or {}).get("requestId") or "")


def current_principal(router: BaseRouter) -> Principal:
    """The caller; an ingestion key is re-checked here, since the authorizer's cached answer
    may predate its revocation or expiry (see KeyRevocationCheck)."""
    event: dict[str, Any] = router.current_event.raw_event
    principal = principal_from_authorizer((event.get("requestContext") or {}).get("authorizer"))
    if principal.kind == "api_key":
        from orchestrix import bootstrap

        bootstrap.key_revocation_check().ensure_live(principal)
    return principal


def raw_body(router: BaseRouter) -> bytes:
    """The request body as sent: API Gateway base64-encodes binary media types."""
    import base64

    event: dict[str, Any] = router.current_event.raw_event
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(raw)
    return raw.encode() if isinstance(raw, str) else bytes(raw)


def header(router: BaseRouter, name: str) -> str | None:
    """A request header, whatever the case the client wrote its name in."""
    lowered = name.lower()
    for key, value in router.current_event.headers.items():
        if key.lower() == lowered:
            return str(value)
    return None


def current_request_id(router: BaseRouter) -> str:
    return request_id_of(router.current_event.raw_event)
