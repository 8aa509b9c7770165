from __future__ import annotations

from orchestrix.domain.audit import AuditEntry, AuditFilter
from orchestrix.domain.errors import NotFound
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.ports.unit_of_work import UnitOfWorkFactory


class AuditService:
    """Reading the audit trail; writing happens inside every other service's unit of work."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def list(
        self, principal: Principal, filters: AuditFilter, page: PageRequest
    ) -> Page[AuditEntry]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return uow.audit_log.list(filters, page)

    def get(self, principal: Principal, entry_id: str) -> AuditEntry:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            entry = uow.audit_log.get(entry_id)
        if entry is None:
            raise NotFound("audit entry", entry_id)
        return entry
