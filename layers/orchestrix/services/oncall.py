"""Use cases for on-call schedules: CRUD, overrides, who is on call, shifts and iCal."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from orchestrix.domain.errors import NotFound, ValidationFailed
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.ids import new_id
from orchestrix.domain.oncall import Override, Schedule, Shift, on_call_at, render_ical, shifts
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.people import StoredSchedule
from orchestrix.ports.clock import Clock
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from orchestrix.services.members import MemberRepository, require_members

MAX_RANGE: Final = timedelta(days=366)
ICAL_PRODID: Final = "-//Orchestrix//On-call//EN"


class ScheduleRepository(Protocol):
    def save(self, stored: StoredSchedule) -> None: ...

    def get(self, schedule_id: str) -> StoredSchedule | None: ...

    def list(self, page: PageRequest) -> Page[StoredSchedule]: ...

    def delete(self, schedule_id: str) -> bool: ...

    def add_override(
        self, tenant_id: str, schedule_id: str, override: Override, at: datetime, actor: str
    ) -> None: ...

    def overrides(
        self, schedule_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> builtins.list[Override]: ...

    def delete_override(self, schedule_id: str, override_id: str) -> bool: ...


def _audit(stored: StoredSchedule) -> dict[str, Any]:
    return {"id": stored.id, **stored.schedule.model_dump(mode="json")}


def _members_of(schedule: Schedule) -> list[str]:
    return [m for layer in schedule.layers for m in layer.members]


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValidationFailed.single(("query", "to"), "must be after from")
    if end - start > MAX_RANGE:
        raise ValidationFailed.single(("query", "to"), "the range may span at most 366 days")


class OncallService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        schedules: Callable[[UnitOfWork], ScheduleRepository],
        members: Callable[[UnitOfWork], MemberRepository],
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._schedules = schedules
        self._members = members
        self._clock = clock

    def now(self) -> datetime:
        return self._clock.now()

    # -- schedules ------------------------------------------------------------------------

    def create(
        self, principal: Principal, schedule: Schedule, request_id: str | None = None
    ) -> StoredSchedule:
        principal.require_role(Role.EDITOR)
        now = self._clock.now()
        stored = StoredSchedule(
            new_id("sch", int(now.timestamp() * 1000)), principal.tenant_id, schedule, now, now
        )
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            require_members(self._members(uow), _members_of(schedule), "layers")
            self._schedules(uow).save(stored)
            uow.record("schedule.create", "schedule", stored.id, after=_audit(stored))
            uow.commit()
        return stored

    def replace(
        self,
        principal: Principal,
        schedule_id: str,
        schedule: Schedule,
        request_id: str | None = None,
    ) -> StoredSchedule:
        principal.require_role(Role.EDITOR)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._schedules(uow)
            before = self._existing(repo, schedule_id)
            require_members(self._members(uow), _members_of(schedule), "layers")
            after = StoredSchedule(
                schedule_id, before.tenant_id, schedule, before.created_at, self._clock.now()
            )
            repo.save(after)
            uow.record("schedule.update", "schedule", schedule_id, _audit(before), _audit(after))
            uow.commit()
        return after

    def get(self, principal: Principal, schedule_id: str) -> StoredSchedule:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._existing(self._schedules(uow), schedule_id)

    def list(self, principal: Principal, page: PageRequest) -> Page[StoredSchedule]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._schedules(uow).list(page)

    def delete(self, principal: Principal, schedule_id: str, request_id: str | None = None) -> None:
        principal.require_role(Role.EDITOR)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._schedules(uow)
            before = self._existing(repo, schedule_id)
            repo.delete(schedule_id)
            uow.record("schedule.delete", "schedule", schedule_id, before=_audit(before))
            uow.commit()

    # -- overrides ------------------------------------------------------------------------

    def add_override(
        self,
        principal: Principal,
        schedule_id: str,
        member_id: str,
        start: datetime,
        end: datetime,
        request_id: str | None = None,
    ) -> Override:
        # Responders may swap shifts: that is what an override is for.
        principal.require_role(Role.RESPONDER)
        now = self._clock.now()
        override = Override(
            id=new_id("ovr", int(now.timestamp() * 1000)), member_id=member_id, start=start, end=end
        )
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            self._existing(self._schedules(uow), schedule_id)
            require_members(self._members(uow), [member_id], "member_id")
            self._schedules(uow).add_override(
                principal.tenant_id, schedule_id, override, now, principal.actor
            )
            after = override.model_dump(mode="json") | {"schedule_id": schedule_id}
            assert override.id is not None
            uow.record("schedule.override.create", "schedule_override", override.id, after=after)
            uow.commit()
        return override

    def overrides(
        self, principal: Principal, schedule_id: str, start: datetime | None, end: datetime | None
    ) -> builtins.list[Override]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            repo = self._schedules(uow)
            self._existing(repo, schedule_id)
            return repo.overrides(schedule_id, start, end)

    def delete_override(
        self,
        principal: Principal,
        schedule_id: str,
        override_id: str,
        request_id: str | None = None,
    ) -> None:
        principal.require_role(Role.RESPONDER)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._schedules(uow)
            self._existing(repo, schedule_id)
            if not repo.delete_override(schedule_id, override_id):
                raise NotFound("override", override_id)
            before = {"schedule_id": schedule_id}
            uow.record("schedule.override.delete", "schedule_override", override_id, before)
            uow.commit()

    # -- timelines ------------------------------------------------------------------------

    def current(
        self, principal: Principal, schedule_id: str, at: datetime | None
    ) -> tuple[datetime, builtins.list[str]]:
        principal.require_role(Role.VIEWER)
        when = at or self._clock.now()
        return when, self.on_call(principal.tenant_id, schedule_id, when)

    def on_call(self, tenant_id: str, schedule_id: str, at: datetime) -> builtins.list[str]:
        """Who is on call at `at` (escalations call this as the system, not as a user)."""
        with self._uow(tenant_id, "system:oncall") as uow:
            repo = self._schedules(uow)
            stored = self._existing(repo, schedule_id)
            return on_call_at(stored.schedule, repo.overrides(schedule_id), at)

    def shifts(
        self, principal: Principal, schedule_id: str, start: datetime, end: datetime
    ) -> builtins.list[Shift]:
        principal.require_role(Role.VIEWER)
        check_range(start, end)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            repo = self._schedules(uow)
            stored = self._existing(repo, schedule_id)
            return shifts(stored.schedule, repo.overrides(schedule_id, start, end), start, end)

    def ical(self, principal: Principal, schedule_id: str, start: datetime, end: datetime) -> str:
        principal.require_role(Role.VIEWER)
        check_range(start, end)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            repo = self._schedules(uow)
            stored = self._existing(repo, schedule_id)
            found = shifts(stored.schedule, repo.overrides(schedule_id, start, end), start, end)
            names = self._names(uow, {s.member_id for s in found})
        return render_ical(
            stored.schedule.name, found, names, ICAL_PRODID, dtstamp=self._clock.now()
        )

    def _names(self, uow: UnitOfWork, member_ids: set[str]) -> dict[str, str]:
        repo = self._members(uow)
        names: dict[str, str] = {}
        for member_id in member_ids:
            member = repo.shown(member_id)
            names[member_id] = member.spec.name if member else member_id
        return names

    @staticmethod
    def _existing(repo: ScheduleRepository, schedule_id: str) -> StoredSchedule:
        found = repo.get(schedule_id)
        if found is None:
            raise NotFound("schedule", schedule_id)
        return found
