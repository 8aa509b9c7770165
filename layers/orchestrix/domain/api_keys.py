"""Ingestion API keys: `orx_` secrets shown once, stored as SHA-256, limited by scopes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from orchestrix.domain.identity import Scope

KEY_PREFIX = "orx_"


@dataclass(frozen=True)
class ApiKey:
    id: str
    tenant_id: str
    name: str
    scopes: tuple[Scope, ...]
    prefix: str  # the first characters of the secret, to recognise a key in lists
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def usable_at(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at


def new_secret() -> str:
    # 32 bytes of entropy; url-safe so it survives Basic auth and shell quoting.
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def display_prefix(secret: str) -> str:
    return secret[: len(KEY_PREFIX) + 6]
