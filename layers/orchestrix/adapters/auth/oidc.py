"""OIDC access tokens: signature from the issuer's JWKS (cached), then iss/aud/exp/nbf.

Works with Keycloak (roles in `realm_access.roles`), Cognito (`cognito:groups`, tenant in a
custom attribute) and anything else that signs RS256/ES256 JWTs: the tenant claim and the
role claim paths are settings.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Sequence
from typing import Any

import jwt

from orchestrix.domain.errors import Unauthorized
from orchestrix.domain.identity import TENANT_ID_PATTERN, Principal, Role

ALGORITHMS = ["RS256", "ES256"]


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """`realm_access.roles` walks nested objects; a literal key with dots/colons wins first."""
    if path in claims:
        return claims[path]
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


class SignInDisabled:
    """A stage deployed without `oidcIssuer`: JWTs are refused (401), `orx_` keys still work —
    the first admin key comes from `orchestrix api-key create --stage <stage>`."""

    def verify(self, token: str) -> Principal:
        raise Unauthorized("JWT sign-in is not configured on this stage: use an orx_ API key")


class JwtVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str | None,
        jwks_url: str | None = None,
        tenant_claim: str = "tenant_id",
        role_claims: Sequence[str] = ("realm_access.roles", "cognito:groups", "roles"),
        jwks_cache_seconds: int = 600,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._jwks_url = jwks_url
        self._tenant_claim = tenant_claim
        self._role_claims = tuple(role_claims)
        self._cache_seconds = jwks_cache_seconds
        self._client: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def _jwks_client(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._client is None:
                url = self._jwks_url or self._discover_jwks_url()
                self._client = jwt.PyJWKClient(
                    url, cache_keys=True, lifespan=self._cache_seconds, timeout=5
                )
            return self._client

    def _discover_jwks_url(self) -> str:
        config_url = self._issuer.rstrip("/") + "/.well-known/openid-configuration"
        with urllib.request.urlopen(config_url, timeout=5) as response:  # noqa: S310
            return str(json.load(response)["jwks_uri"])

    def _signing_key(self, token: str) -> Any:
        if self._jwks_url and self._jwks_url.startswith("file://"):
            # The local runtime's dev issuer: a JWKS file next to the signing key.
            kid = jwt.get_unverified_header(token).get("kid")
            path = urllib.request.url2pathname(self._jwks_url.removeprefix("file://"))
            with open(path) as f:
                keys = jwt.PyJWKSet.from_json(f.read()).keys
            for key in keys:
                if key.key_id == kid:
                    return key.key
            raise jwt.InvalidTokenError(f"no key {kid!r} in the local JWKS")
        return self._jwks_client().get_signing_key_from_jwt(token).key

    def verify(self, token: str) -> Principal:
        try:
            signing_key = self._signing_key(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                signing_key,
                algorithms=ALGORITHMS,
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "iss", "sub"], "verify_aud": bool(self._audience)},
                leeway=30,
            )
        except (jwt.PyJWTError, OSError, KeyError, ValueError, TypeError) as exc:
            # TypeError: a token whose alg does not fit the key type (ES256 vs an RSA key)
            raise Unauthorized(f"invalid token: {exc}") from exc
        tenant = claim_at(claims, self._tenant_claim)
        if not isinstance(tenant, str) or not TENANT_ID_PATTERN.fullmatch(tenant):
            raise Unauthorized(f"token has no valid {self._tenant_claim!r} claim")
        return Principal(
            tenant_id=tenant,
            subject=str(claims["sub"]),
            roles=frozenset(self._roles(claims)),
        )

    def _roles(self, claims: dict[str, Any]) -> set[Role]:
        known = {r.value: r for r in Role}
        found: set[Role] = set()
        for path in self._role_claims:
            value = claim_at(claims, path)
            names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            found.update(known[n] for n in names if isinstance(n, str) and n in known)
        return found
