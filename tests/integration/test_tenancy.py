"""Row-level security keeps tenants apart even when a query forgets to filter."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from orchestrix.domain.identity import Principal, Role, Scope
from orchestrix.services.api_keys import ApiKeyService


def _admin(tenant: str) -> Principal:
    return Principal(tenant, f"admin@{tenant}", roles=frozenset({Role.ADMIN}))


def test_unfiltered_query_as_app_role_sees_only_the_current_tenant(db, uow, clock, tenant):
    # given keys in two tenants
    service = ApiKeyService(uow, clock)
    other = tenant + "-other"
    service.create(_admin(tenant), "mine", [Scope.METRICS_WRITE], None)
    service.create(_admin(other), "theirs", [Scope.METRICS_WRITE], None)

    # when a query with no tenant filter at all runs inside tenant's unit of work
    with uow(tenant) as work:
        rows = work.conn.execute("SELECT tenant_id, name FROM api_keys").fetchall()
        role = work.conn.execute("SELECT current_user").fetchone()

    # then only tenant's rows come back, and the query ran as the non-owner role
    assert rows == [(tenant, "mine")]
    assert role == ("orchestrix_app",)


def test_without_a_tenant_setting_no_row_is_visible(db, uow, clock, tenant):
    ApiKeyService(uow, clock).create(_admin(tenant), "k", [Scope.ALERTS_WRITE], None)
    with db.connection() as conn:
        count = conn.execute("SELECT count(*) FROM api_keys").fetchone()
        conn.rollback()
    assert count == (0,)


def test_app_role_cannot_write_rows_for_another_tenant(db, uow, clock, tenant):
    with uow(tenant) as work, pytest.raises(psycopg.errors.InsufficientPrivilege):
        work.conn.execute("INSERT INTO tenants (id) VALUES (%s)", (tenant + "-intruder",))


def test_every_tenant_table_has_row_level_security(database_url):
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """
            SELECT c.relname, c.relrowsecurity
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname IN ('tenant_id')
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            """
        ).fetchall()
    assert rows, "expected tenant tables"
    assert [name for name, rls in rows if not rls] == []


def test_expired_key_is_purged_after_thirty_days_with_an_audit_row(db, uow, clock, tenant):
    service = ApiKeyService(uow, clock)
    admin = _admin(tenant)
    created = service.create(admin, "old", [Scope.LOGS_WRITE], clock.now() + timedelta(days=1))
    clock.advance(timedelta(days=32))

    purged = service.purge_dead(tenant, "system:housekeeping")

    assert purged == 1
    with uow(tenant) as work:
        assert work.api_keys.get(created.key.id) is None
        actions = [e.action for e in work.audit_log.list(_no_filter(), _page()).items]
    assert actions[0] == "api_key.purge"


def _no_filter():  # type: ignore[no-untyped-def]
    from orchestrix.domain.audit import AuditFilter

    return AuditFilter()


def _page():  # type: ignore[no-untyped-def]
    from orchestrix.domain.pagination import PageRequest

    return PageRequest()
