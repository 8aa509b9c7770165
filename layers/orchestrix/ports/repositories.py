"""Repository interfaces. Every method runs inside a tenant-scoped unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from orchestrix.domain.api_keys import ApiKey
from orchestrix.domain.audit import AuditEntry, AuditFilter
from orchestrix.domain.pagination import Page, PageRequest


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey, secret_hash: str) -> None: ...

    def get(self, key_id: str) -> ApiKey | None: ...

    def list(self, page: PageRequest) -> Page[ApiKey]: ...

    def revoke(self, key_id: str, at: datetime) -> ApiKey | None: ...

    def purge_dead(self, older_than: datetime) -> Sequence[ApiKey]: ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...

    def get(self, entry_id: str) -> AuditEntry | None: ...

    def list(self, filters: AuditFilter, page: PageRequest) -> Page[AuditEntry]: ...
