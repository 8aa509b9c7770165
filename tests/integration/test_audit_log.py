"""The audit log is append-only, for the application and for the table owner alike."""

from __future__ import annotations

import psycopg
import pytest

from orchestrix.domain.audit import AuditFilter
from orchestrix.domain.pagination import PageRequest


def _write_entry(uow, tenant: str) -> None:  # type: ignore[no-untyped-def]
    with uow(tenant, actor="alice", request_id="req-1") as work:
        work.record("thing.create", "thing", "t1", after={"name": "x"})
        work.commit()


def test_recorded_entry_carries_actor_and_request_id(uow, tenant):
    _write_entry(uow, tenant)
    with uow(tenant) as work:
        entries = work.audit_log.list(AuditFilter(actor="alice"), PageRequest()).items
    assert [(e.action, e.actor, e.request_id, e.after) for e in entries] == [
        ("thing.create", "alice", "req-1", {"name": "x"})
    ]


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"]
)
def test_owner_cannot_rewrite_history(database_url, uow, tenant, statement):
    _write_entry(uow, tenant)
    with psycopg.connect(database_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_app_role_cannot_update_audit_rows(uow, tenant):
    _write_entry(uow, tenant)
    with uow(tenant) as work, pytest.raises(psycopg.errors.InsufficientPrivilege):
        work.conn.execute("UPDATE audit_log SET actor = 'mallory'")


def test_rolled_back_work_leaves_no_audit_row(uow, tenant):
    with uow(tenant, actor="bob") as work:
        work.record("thing.delete", "thing", "t1")
        # no commit: the unit of work rolls back on exit
    with uow(tenant) as work:
        assert work.audit_log.list(AuditFilter(actor="bob"), PageRequest()).items == []
