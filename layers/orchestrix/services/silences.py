"""Silences and maintenance windows (Alertmanager semantics).

A silence does not rewrite alerts when it is created or when it ends: like Alertmanager,
the next evaluation or intake of a matching alert decides `suppressed` or `firing`, so an
alert still firing when the window closes comes back (and pages) on its next report.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from orchestrix.domain.alerting.matchers import Matcher
from orchestrix.domain.alerting.silences import Silence, SilenceKind
from orchestrix.domain.errors import NotFound, ValidationFailed
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.ids import new_id
from orchestrix.ports.clock import Clock
from orchestrix.ports.unit_of_work import UnitOfWorkFactory
from orchestrix.services.alert_ports import ReposFactory

RETENTION = timedelta(days=5)  # Alertmanager's default --data.retention (120h)


class SilenceService:
    def __init__(self, uow: UnitOfWorkFactory, repos: ReposFactory, clock: Clock) -> None:
        self._uow = uow
        self._repos = repos
        self._clock = clock

    def create(
        self,
        principal: Principal,
        matchers: list[Matcher],
        starts_at: datetime | None,
        ends_at: datetime,
        comment: str,
        kind: SilenceKind = "silence",
        created_by: str | None = None,
        request_id: str | None = None,
    ) -> Silence:
        principal.require_role(Role.RESPONDER)
        now = self._clock.now()
        starts = starts_at if starts_at is not None and starts_at > now else now
        _check(matchers, starts, ends_at, now)
        silence = Silence(
            id=new_id("sil", int(now.timestamp() * 1000)),
            tenant_id=principal.tenant_id,
            matchers=tuple(matchers),
            starts_at=starts,
            ends_at=ends_at,
            comment=comment,
            created_by=created_by or principal.actor,
            created_at=now,
            updated_at=now,
            kind=kind,
        )
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            self._repos(uow).silences.add(silence)
            uow.record(f"{kind}.create", kind, silence.id, after=silence.snapshot())
            uow.commit()
        return silence

    def update(
        self,
        principal: Principal,
        silence_id: str,
        matchers: list[Matcher],
        starts_at: datetime | None,
        ends_at: datetime,
        comment: str,
        request_id: str | None = None,
    ) -> Silence:
        """Alertmanager's POST with an id: edit in place while not expired."""
        principal.require_role(Role.RESPONDER)
        now = self._clock.now()
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._repos(uow).silences
            before = repo.get(silence_id)
            if before is None:
                raise NotFound("silence", silence_id)
            if before.state(now) == "expired":
                raise ValidationFailed.single(("body", "id"), "silence is expired")
            starts = starts_at or before.starts_at
            _check(matchers, starts, ends_at, now)
            after = replace(
                before,
                matchers=tuple(matchers),
                starts_at=starts,
                ends_at=ends_at,
                comment=comment,
                updated_at=now,
            )
            repo.update(after)
            uow.record(
                f"{after.kind}.update", after.kind, silence_id, before.snapshot(), after.snapshot()
            )
            uow.commit()
        return after

    def expire(self, principal: Principal, silence_id: str, request_id: str | None = None) -> None:
        principal.require_role(Role.RESPONDER)
        now = self._clock.now()
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._repos(uow).silences
            before = repo.get(silence_id)
            if before is None:
                raise NotFound("silence", silence_id)
            if before.state(now) == "expired":
                return
            after = replace(
                before, ends_at=now, starts_at=min(before.starts_at, now), updated_at=now
            )
            repo.update(after)
            uow.record(
                f"{after.kind}.expire", after.kind, silence_id, before.snapshot(), after.snapshot()
            )
            uow.commit()

    def get(self, principal: Principal, silence_id: str) -> Silence:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            found = self._repos(uow).silences.get(silence_id)
        if found is None:
            raise NotFound("silence", silence_id)
        return found

    def list(self, principal: Principal) -> list[Silence]:
        principal.require_role(Role.VIEWER)
        now = self._clock.now()
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._repos(uow).silences.list(now - RETENTION)

    def now(self) -> datetime:
        return self._clock.now()


def _check(matchers: list[Matcher], starts: datetime, ends: datetime, now: datetime) -> None:
    if not matchers:
        raise ValidationFailed.single(("body", "matchers"), "at least one matcher is required")
    if all(m.matches({}) for m in matchers):
        # Alertmanager refuses silences that would match every alert, labels or not.
        raise ValidationFailed.single(
            ("body", "matchers"), "at least one matcher must not match the empty string"
        )
    if ends <= now:
        raise ValidationFailed.single(("body", "ends_at"), "must be in the future")
    if ends <= starts:
        raise ValidationFailed.single(("body", "ends_at"), "must be after starts_at")
