"""Use cases for ingestion API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orchestrix.domain.api_keys import ApiKey, display_prefix, hash_secret, new_secret
from orchestrix.domain.errors import NotFound, ValidationFailed
from orchestrix.domain.identity import Principal, Role, Scope
from orchestrix.domain.ids import new_id
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.ports.clock import Clock
from orchestrix.ports.unit_of_work import UnitOfWorkFactory

# Keys revoked or expired this long ago disappear entirely (their audit rows stay).
PURGE_AFTER = timedelta(days=30)


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str  # shown once; only its hash is stored


def describe(key: ApiKey) -> dict[str, Any]:
    """The audit snapshot of a key: everything but the secret, which we never had stored."""
    return {
        "id": key.id,
        "name": key.name,
        "scopes": [s.value for s in key.scopes],
        "prefix": key.prefix,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


class ApiKeyService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def create(
        self,
        principal: Principal,
        name: str,
        scopes: list[Scope],
        expires_at: datetime | None,
        request_id: str | None = None,
    ) -> CreatedKey:
        principal.require_role(Role.ADMIN)
        now = self._clock.now()
        if expires_at is not None and expires_at <= now:
            raise ValidationFailed.single(("body", "expires_at"), "must be in the future")
        secret = new_secret()
        key = ApiKey(
            id=new_id("key", int(now.timestamp() * 1000)),
            tenant_id=principal.tenant_id,
            name=name,
            scopes=tuple(dict.fromkeys(scopes)),
            prefix=display_prefix(secret),
            created_at=now,
            created_by=principal.subject,
            expires_at=expires_at,
        )
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            uow.api_keys.add(key, hash_secret(secret))
            uow.record("api_key.create", "api_key", key.id, after=describe(key))
            uow.commit()
        return CreatedKey(key, secret)

    def list(self, principal: Principal, page: PageRequest) -> Page[ApiKey]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return uow.api_keys.list(page)

    def get(self, principal: Principal, key_id: str) -> ApiKey:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            key = uow.api_keys.get(key_id)
        if key is None or key.revoked_at is not None:
            raise NotFound("api key", key_id)
        return key

    def revoke(self, principal: Principal, key_id: str, request_id: str | None = None) -> None:
        principal.require_role(Role.ADMIN)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            before = uow.api_keys.get(key_id)
            revoked = uow.api_keys.revoke(key_id, self._clock.now())
            if before is None or revoked is None:
                raise NotFound("api key", key_id)
            uow.record("api_key.revoke", "api_key", key_id, describe(before), describe(revoked))
            uow.commit()

    def purge_dead(self, tenant_id: str, actor: str) -> int:
        """Housekeeping: forget keys that have been unusable for PURGE_AFTER."""
        with self._uow(tenant_id, actor) as uow:
            purged = uow.api_keys.purge_dead(self._clock.now() - PURGE_AFTER)
            for key in purged:
                uow.record("api_key.purge", "api_key", key.id, before=describe(key))
            uow.commit()
        return len(purged)
