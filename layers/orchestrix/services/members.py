"""Use cases for members: the people Orchestrix pages."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from orchestrix.domain.egress import EgressDenied, EgressPolicy, EgressUnresolvable
from orchestrix.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.ids import new_id
from orchestrix.domain.notifications import SECRET_CHANNELS
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.people import Member, MemberSpec, shown
from orchestrix.ports.clock import Clock
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory


class MemberRepository(Protocol):
    def save(self, member: Member) -> None: ...

    def get(self, member_id: str) -> Member | None: ...

    def shown(self, member_id: str) -> Member | None: ...

    def subject_taken(self, subject: str, member_id: str) -> bool: ...

    def list(self, page: PageRequest) -> Page[Member]: ...

    def missing(self, member_ids: Iterable[str]) -> builtins.list[str]: ...

    def delete(self, member_id: str) -> bool: ...


class MemberReferences(Protocol):
    """Who still points at a member (schedules, overrides), so deletion can refuse."""

    def naming_member(self, member_id: str) -> list[str]: ...


def audit_view(member: Member) -> dict[str, Any]:
    # The masked view: audit rows must not become a second copy of channel secrets.
    return shown(member).spec.model_dump(mode="json") | {"id": member.id}


class MemberService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        members: Callable[[UnitOfWork], MemberRepository],
        references: Callable[[UnitOfWork], MemberReferences],
        clock: Clock,
        egress: EgressPolicy | None = None,
    ) -> None:
        self._uow = uow
        self._members = members
        self._references = references
        self._clock = clock
        self._egress = egress

    def create(
        self, principal: Principal, spec: MemberSpec, request_id: str | None = None
    ) -> Member:
        principal.require_role(Role.EDITOR)
        _check_addresses(spec, self._egress)
        now = self._clock.now()
        member = Member(
            new_id("mem", int(now.timestamp() * 1000)), principal.tenant_id, spec, now, now
        )
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._members(uow)
            _check_subject(repo, spec, member.id)
            repo.save(member)
            uow.record("member.create", "member", member.id, after=audit_view(member))
            uow.commit()
        return shown(member)

    def replace(
        self, principal: Principal, member_id: str, spec: MemberSpec, request_id: str | None = None
    ) -> Member:
        principal.require_role(Role.EDITOR)
        _check_addresses(spec, self._egress)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._members(uow)
            before = repo.shown(member_id)
            if before is None:
                raise NotFound("member", member_id)
            _check_subject(repo, spec, member_id)
            after = Member(member_id, before.tenant_id, spec, before.created_at, self._clock.now())
            repo.save(after)
            uow.record("member.update", "member", member_id, audit_view(before), audit_view(after))
            uow.commit()
        return shown(after)

    def get(self, principal: Principal, member_id: str) -> Member:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            found = self._members(uow).shown(member_id)
        if found is None:
            raise NotFound("member", member_id)
        return found

    def list(self, principal: Principal, page: PageRequest) -> Page[Member]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._members(uow).list(page)

    def delete(self, principal: Principal, member_id: str, request_id: str | None = None) -> None:
        principal.require_role(Role.EDITOR)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._members(uow)
            before = repo.shown(member_id)
            if before is None:
                raise NotFound("member", member_id)
            used_by = self._references(uow).naming_member(member_id)
            if used_by:
                raise Conflict(
                    f"member {member_id} is still on call in schedules {', '.join(used_by)}; "
                    "remove them from those schedules first"
                )
            repo.delete(member_id)
            uow.record("member.delete", "member", member_id, before=audit_view(before))
            uow.commit()


def _check_addresses(spec: MemberSpec, egress: EgressPolicy | None) -> None:
    """Slack/Teams/webhook URLs must pass the egress policy when saved, not only when a page
    is sent (a refused address would otherwise fail silently at the worst moment). A host
    that does not resolve now is tolerated: DNS may differ at send time, which checks again."""
    if egress is None:
        return
    errors: list[FieldError] = []
    for index, method in enumerate(spec.contact_methods):
        if method.type not in SECRET_CHANNELS:
            continue
        try:
            egress.check_url(method.address)
        except EgressUnresolvable:
            continue
        except EgressDenied as exc:
            loc = ("body", "contact_methods", index, "address")
            errors.append(FieldError(loc, f"address refused by the egress policy: {exc.reason}"))
    if errors:
        raise ValidationFailed(errors)


def _check_subject(repo: MemberRepository, spec: MemberSpec, member_id: str) -> None:
    if spec.subject and repo.subject_taken(spec.subject, member_id):
        raise Conflict(f"another member is already linked to subject {spec.subject!r}")


def require_members(repo: MemberRepository, member_ids: Iterable[str], loc: str) -> None:
    """ValidationFailed naming each id that is not a member of this tenant."""
    ids = list(member_ids)
    missing: set[str] = set(repo.missing(ids))
    if missing:
        raise ValidationFailed.single(
            ("body", loc), f"unknown member ids: {', '.join(sorted(missing))}"
        )
