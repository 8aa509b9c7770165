"""Escalation policies and per-tenant incident settings: definitions editors maintain."""

from __future__ import annotations

from dataclasses import dataclass, replace

from orchestrix.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from orchestrix.domain.escalation import MAX_REPEAT, EscalationPolicy, Level, TargetType
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.ids import new_id
from orchestrix.domain.incidents import IncidentSettings
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.ports.clock import Clock
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from orchestrix.services.incident_stores import IncidentStores


@dataclass(frozen=True)
class PolicySpec:
    name: str
    levels: tuple[Level, ...]
    repeat: int = 0
    description: str = ""
    owner_member_id: str | None = None


def describe(policy: EscalationPolicy) -> dict[str, object]:
    return {
        "id": policy.id,
        "name": policy.name,
        "repeat": policy.repeat,
        "owner_member_id": policy.owner_member_id,
        "levels": [level.model_dump(mode="json") for level in policy.levels],
    }


class EscalationPolicyService:
    def __init__(self, uow: UnitOfWorkFactory, stores: IncidentStores, clock: Clock) -> None:
        self._uow = uow
        self._stores = stores
        self._clock = clock

    def create(
        self, principal: Principal, spec: PolicySpec, request_id: str | None = None
    ) -> EscalationPolicy:
        principal.require_role(Role.EDITOR)
        now = self._clock.now()
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            self._check_references(uow, spec)
            policy = EscalationPolicy(
                id=new_id("esc", int(now.timestamp() * 1000)),
                tenant_id=principal.tenant_id,
                name=spec.name,
                description=spec.description,
                repeat=spec.repeat,
                owner_member_id=spec.owner_member_id,
                levels=spec.levels,
                created_at=now,
                updated_at=now,
                created_by=principal.actor,
            )
            self._stores.policies(uow).add(policy)
            uow.record(
                "escalation_policy.create", "escalation_policy", policy.id, None, describe(policy)
            )
            uow.commit()
        return policy

    def replace(
        self, principal: Principal, policy_id: str, spec: PolicySpec, request_id: str | None = None
    ) -> EscalationPolicy:
        principal.require_role(Role.EDITOR)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            before = self._stores.policies(uow).get(policy_id)
            if before is None:
                raise NotFound("escalation policy", policy_id)
            self._check_references(uow, spec)
            after = replace(
                before,
                name=spec.name,
                description=spec.description,
                repeat=spec.repeat,
                owner_member_id=spec.owner_member_id,
                levels=spec.levels,
                updated_at=self._clock.now(),
            )
            self._stores.policies(uow).save(after)
            uow.record(
                "escalation_policy.update",
                "escalation_policy",
                policy_id,
                describe(before),
                describe(after),
            )
            uow.commit()
        return after

    def delete(self, principal: Principal, policy_id: str, request_id: str | None = None) -> None:
        principal.require_role(Role.EDITOR)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            before = self._stores.policies(uow).get(policy_id)
            if before is None:
                raise NotFound("escalation policy", policy_id)
            settings = self._stores.settings(uow).get()
            if (
                policy_id == settings.default_escalation_policy_id
                or policy_id in settings.service_policies.values()
            ):
                raise Conflict("the incident settings still use this policy; change them first")
            self._stores.policies(uow).delete(policy_id)
            uow.record(
                "escalation_policy.delete", "escalation_policy", policy_id, describe(before), None
            )
            uow.commit()

    def get(self, principal: Principal, policy_id: str) -> EscalationPolicy:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            policy = self._stores.policies(uow).get(policy_id)
        if policy is None:
            raise NotFound("escalation policy", policy_id)
        return policy

    def list(self, principal: Principal, page: PageRequest) -> Page[EscalationPolicy]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._stores.policies(uow).list(page)

    # -- incident settings ----------------------------------------------------------------------

    def settings(self, principal: Principal) -> IncidentSettings:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._stores.settings(uow).get()

    def save_settings(
        self, principal: Principal, settings: IncidentSettings, request_id: str | None = None
    ) -> IncidentSettings:
        principal.require_role(Role.ADMIN)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            policies = self._stores.policies(uow)
            errors = []
            if settings.default_escalation_policy_id and not policies.get(
                settings.default_escalation_policy_id
            ):
                errors.append(
                    FieldError(
                        ("body", "default_escalation_policy_id"), "no such escalation policy"
                    )
                )
            for service, policy_id in settings.service_policies.items():
                if not policies.get(policy_id):
                    errors.append(
                        FieldError(
                            ("body", "service_policies", service), "no such escalation policy"
                        )
                    )
            if errors:
                raise ValidationFailed(errors)
            store = self._stores.settings(uow)
            before = store.get()
            store.save(settings, self._clock.now())
            uow.record(
                "incident_settings.update",
                "incident_settings",
                principal.tenant_id,
                _settings_view(before),
                _settings_view(settings),
            )
            uow.commit()
        return settings

    # -- internals ------------------------------------------------------------------------------

    def _check_references(self, uow: UnitOfWork, spec: PolicySpec) -> None:
        """Every target must exist in this tenant (another tenant's id is simply unknown)."""
        if spec.repeat > MAX_REPEAT:
            raise ValidationFailed.single(("body", "repeat"), f"must be at most {MAX_REPEAT}")
        directory = self._stores.targets(uow)
        now = self._clock.now()
        errors = []
        for i, level in enumerate(spec.levels):
            for j, target in enumerate(level.targets):
                if target.type is TargetType.MEMBER:
                    ok = directory.member_exists(target.id)
                elif target.type is TargetType.SCHEDULE:
                    ok = directory.on_call(target.id, now) is not None
                else:
                    ok = directory.team_members(target.id) is not None
                if not ok:
                    loc = ("body", "levels", i, "targets", j, "id")
                    errors.append(FieldError(loc, f"no such {target.type.value}"))
        if spec.owner_member_id and not directory.member_exists(spec.owner_member_id):
            errors.append(FieldError(("body", "owner_member_id"), "no such member"))
        if errors:
            raise ValidationFailed(errors)


def _settings_view(s: IncidentSettings) -> dict[str, object]:
    return {
        "severities": list(s.severities),
        "group_by": list(s.group_by),
        "window_seconds": int(s.window.total_seconds()),
        "default_escalation_policy_id": s.default_escalation_policy_id,
        "service_policies": dict(s.service_policies),
        "sla": {k.value: [v.ack_minutes, v.resolve_minutes] for k, v in s.sla.items()},
    }
