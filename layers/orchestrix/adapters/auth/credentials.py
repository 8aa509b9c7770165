"""Turns an Authorization header into a Principal: a JWT, or an `orx_` key (Bearer or Basic)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from orchestrix.adapters.postgres.key_resolver import KeyLifetime, ResolvedKey
from orchestrix.domain.api_keys import KEY_PREFIX, hash_secret
from orchestrix.domain.errors import Unauthorized
from orchestrix.domain.identity import Principal


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal: ...


def _secret_from_basic(encoded: str) -> str:
    try:
        user_pass = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized("malformed Basic credentials") from exc
    # Prometheus and Alertmanager send basic_auth; the key is the password (any username).
    _, _, password = user_pass.partition(":")
    return password


class CredentialVerifier:
    def __init__(
        self,
        jwt_verifier: Callable[[], TokenVerifier],
        resolve_key: Callable[[str], ResolvedKey | None],
        now: Callable[[], datetime],
    ) -> None:
        self._jwt_verifier = jwt_verifier
        self._resolve_key = resolve_key
        self._now = now

    def verify(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthorized("missing Authorization header")
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "basic":
            return self._verify_key(_secret_from_basic(value))
        if scheme.lower() != "bearer" or not value:
            raise Unauthorized("use 'Authorization: Bearer <token>' or Basic with an API key")
        if value.startswith(KEY_PREFIX):
            return self._verify_key(value)
        return self._jwt_verifier().verify(value)

    def _verify_key(self, secret: str) -> Principal:
        if not secret.startswith(KEY_PREFIX):
            raise Unauthorized("not an Orchestrix API key")
        key = self._resolve_key(hash_secret(secret))
        now = self._now()
        if key is None or key.revoked_at is not None:
            raise Unauthorized("unknown or revoked API key")
        if key.expires_at is not None and key.expires_at <= now:
            raise Unauthorized("API key expired")
        return Principal(
            tenant_id=key.tenant_id,
            subject=f"api-key:{key.key_id}",
            roles=frozenset(s.role for s in key.scopes if s.role is not None),
            scopes=key.scopes,
            kind="api_key",
        )


class KeyRevocationCheck:
    """Re-checks an ingestion key in the handler, on every request.

    API Gateway caches the authorizer's answer per Authorization header (up to
    `wiring.AUTHORIZER_CACHE_SECONDS`), so on its own a key revoked or expired a second
    ago would keep working for minutes. The handler therefore looks the key up again (one
    primary-key read) and refuses it with 401 at once. Keys found dead are remembered for
    the life of the container (a key is never revived), so a sender that keeps using one
    costs no further reads.
    """

    def __init__(
        self,
        lifetime: Callable[[str, str], KeyLifetime | None],
        now: Callable[[], datetime],
        *,
        remember: int = 10_000,
    ) -> None:
        self._lifetime = lifetime
        self._now = now
        self._dead: set[tuple[str, str]] = set()
        self._remember = remember

    def ensure_live(self, principal: Principal) -> None:
        if principal.kind != "api_key":
            return
        key_id = principal.subject.removeprefix("api-key:")
        found = (principal.tenant_id, key_id)
        if found not in self._dead:
            life = self._lifetime(principal.tenant_id, key_id)
            if (
                life is not None
                and life.revoked_at is None
                and (life.expires_at is None or life.expires_at > self._now())
            ):
                return
            if len(self._dead) >= self._remember:
                self._dead.clear()
            self._dead.add(found)
        raise Unauthorized("API key revoked or expired")
