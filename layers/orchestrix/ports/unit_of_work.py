from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol

from orchestrix.ports.repositories import ApiKeyRepository, AuditRepository


class UnitOfWork(Protocol):
    """One transaction, scoped to one tenant, that writes its audit rows with it.

    Used as a context manager; rolls back unless `commit()` was called.
    """

    tenant_id: str
    api_keys: ApiKeyRepository
    audit_log: AuditRepository

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def record(
        self,
        action: str,
        resource_type: str,
        resource_id: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Append the audit entry for a mutation made in this unit of work."""
        ...

    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, tenant_id: str, actor: str, request_id: str | None = None) -> UnitOfWork: ...
