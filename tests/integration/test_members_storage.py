"""Members, schedules and notifications in PostgreSQL: secrets sealed, rows tenant-scoped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from orchestrix.adapters.postgres.members import PostgresMemberRepository
from orchestrix.adapters.postgres.notifications import PostgresNotificationRepository
from orchestrix.domain.notifications import Notification
from orchestrix.domain.people import Member, MemberSpec

from ..unit.notifications.fakes import PlainBox

SLACK = "https://hooks.slack.com/services/T0/B0/topsecret"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _member(tenant: str) -> Member:
    spec = MemberSpec(name="Alice", contact_methods=[{"type": "slack", "address": SLACK}])  # type: ignore[list-item]
    return Member(f"mem_{uuid.uuid4().hex}", tenant, spec, NOW, NOW)


def test_slack_url_is_stored_sealed_and_read_back_masked_or_whole(uow, tenant) -> None:  # type: ignore[no-untyped-def]
    member = _member(tenant)
    with uow(tenant) as u:
        PostgresMemberRepository(u.conn, PlainBox(), tenant).save(member)
        u.commit()
    with uow(tenant) as u:
        raw = u.conn.execute("SELECT sealed::text, shown::text FROM members").fetchone()
        repo = PostgresMemberRepository(u.conn, PlainBox(), tenant)
        whole, masked = repo.get(member.id), repo.shown(member.id)
    assert "topsecret" not in raw[0] and "topsecret" not in raw[1]
    assert whole is not None and whole.spec.contact_methods[0].address == SLACK
    assert masked is not None and masked.spec.contact_methods[0].address == "…cret"


def test_members_of_another_tenant_are_invisible(uow, tenant) -> None:  # type: ignore[no-untyped-def]
    member = _member(tenant)
    with uow(tenant) as u:
        PostgresMemberRepository(u.conn, PlainBox(), tenant).save(member)
        u.commit()
    other = f"t-{uuid.uuid4().hex[:12]}"
    with uow(other) as u:
        repo = PostgresMemberRepository(u.conn, PlainBox(), other)
        assert repo.shown(member.id) is None
        assert repo.missing([member.id]) == [member.id]


def _notification(tenant: str, key: str) -> Notification:
    return Notification(
        id=f"ntf_{uuid.uuid4().hex}",
        tenant_id=tenant,
        idempotency_key=key,
        member_id=None,
        channel="webhook",
        target="…abcd",
        urgency="high",
        title="t",
        text="x",
        links={},
        context={"incident_id": "inc-9"},
        status="pending",
        attempts=0,
        error=None,
        not_before=NOW,
        created_at=NOW,
        sent_at=None,
        actor="test",
    )


def test_second_notification_with_the_same_key_returns_the_first(uow, tenant) -> None:  # type: ignore[no-untyped-def]
    with uow(tenant) as u:
        repo = PostgresNotificationRepository(u.conn)
        first = repo.add(_notification(tenant, "k"), b"sealed")
        second = repo.add(_notification(tenant, "k"), b"sealed")
        u.commit()
    assert second.id == first.id


def test_cancel_pending_matches_on_context(uow, tenant) -> None:  # type: ignore[no-untyped-def]
    with uow(tenant) as u:
        repo = PostgresNotificationRepository(u.conn)
        repo.add(_notification(tenant, "a"), b"s")
        cancelled = repo.cancel_pending("incident_id", "inc-9")
        assert [n.idempotency_key for n in cancelled] == ["a"]
        assert repo.cancel_pending("incident_id", "inc-9") == []
