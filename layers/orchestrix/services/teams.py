"""Use cases for teams: named, ordered groups of members (escalation targets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from orchestrix.domain.errors import NotFound
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.ids import new_id
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.people import Team, TeamSpec
from orchestrix.ports.clock import Clock
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from orchestrix.services.members import MemberRepository, require_members


class TeamRepository(Protocol):
    def save(self, team: Team) -> None: ...

    def get(self, team_id: str) -> Team | None: ...

    def list(self, page: PageRequest) -> Page[Team]: ...

    def delete(self, team_id: str) -> bool: ...


def _audit(team: Team) -> dict[str, Any]:
    return {"id": team.id, **team.spec.model_dump(mode="json")}


class TeamService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        teams: Callable[[UnitOfWork], TeamRepository],
        members: Callable[[UnitOfWork], MemberRepository],
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._teams = teams
        self._members = members
        self._clock = clock

    def create(self, principal: Principal, spec: TeamSpec, request_id: str | None = None) -> Team:
        principal.require_role(Role.EDITOR)
        now = self._clock.now()
        team = Team(
            new_id("team", int(now.timestamp() * 1000)), principal.tenant_id, spec, now, now
        )
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            require_members(self._members(uow), spec.member_ids, "member_ids")
            self._teams(uow).save(team)
            uow.record("team.create", "team", team.id, after=_audit(team))
            uow.commit()
        return team

    def replace(
        self, principal: Principal, team_id: str, spec: TeamSpec, request_id: str | None = None
    ) -> Team:
        principal.require_role(Role.EDITOR)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._teams(uow)
            before = repo.get(team_id)
            if before is None:
                raise NotFound("team", team_id)
            require_members(self._members(uow), spec.member_ids, "member_ids")
            after = Team(team_id, before.tenant_id, spec, before.created_at, self._clock.now())
            repo.save(after)
            uow.record("team.update", "team", team_id, _audit(before), _audit(after))
            uow.commit()
        return after

    def get(self, principal: Principal, team_id: str) -> Team:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            found = self._teams(uow).get(team_id)
        if found is None:
            raise NotFound("team", team_id)
        return found

    def get_for_tenant(self, tenant_id: str, team_id: str) -> Team | None:
        """For escalations, which run as the system rather than as a user."""
        with self._uow(tenant_id, "system:escalation") as uow:
            return self._teams(uow).get(team_id)

    def list(self, principal: Principal, page: PageRequest) -> Page[Team]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._teams(uow).list(page)

    def delete(self, principal: Principal, team_id: str, request_id: str | None = None) -> None:
        principal.require_role(Role.EDITOR)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._teams(uow)
            before = repo.get(team_id)
            if before is None:
                raise NotFound("team", team_id)
            repo.delete(team_id)
            uow.record("team.delete", "team", team_id, before=_audit(before))
            uow.commit()
