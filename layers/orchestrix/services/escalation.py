"""Running escalations: page a level now, schedule the next one, stop on acknowledgement.

Each step (round, level) is a row; the first runs when the incident triggers and every later
one from a one-time schedule that invokes `functions/escalate`. The runner claims the row in
the transaction that pages, and every page carries a per-step idempotency key, so a retried
or duplicated invocation never pages anyone twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from orchestrix.domain.escalation import (
    FIRST_STEP,
    EscalationPolicy,
    Step,
    TargetType,
    idempotency_key,
    next_step,
    schedule_name,
)
from orchestrix.domain.incidents import Incident, IncidentStatus, Severity, TimelineKind
from orchestrix.domain.notifications import Notice
from orchestrix.ports.clock import Clock
from orchestrix.ports.events import EventPublisher
from orchestrix.ports.scheduler import OneTimeScheduler
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from orchestrix.services.incident_stores import (
    IncidentStores,
    Notifier,
    TargetDirectory,
    timeline_entry,
)

ESCALATE_FUNCTION: Final = "escalate"
ACTOR: Final = "system:escalation"


@dataclass(frozen=True)
class StepResult:
    ran: bool
    notified: tuple[str, ...] = ()  # member ids
    next_step: Step | None = None


def resolve_targets(policy_level_targets: Any, directory: TargetDirectory, at: Any) -> list[str]:
    """Member ids a level reaches at `at`, in target order, without repeats."""
    members: list[str] = []
    for target in policy_level_targets:
        if target.type is TargetType.MEMBER:
            found: list[str] | None = [target.id]
        elif target.type is TargetType.SCHEDULE:
            found = directory.on_call(target.id, at)
        else:
            found = directory.team_members(target.id)
        members.extend(m for m in found or [] if m not in members)
    return members


class EscalationService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        stores: IncidentStores,
        notifier: Notifier,
        scheduler: OneTimeScheduler,
        events: EventPublisher,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._stores = stores
        self._notifier = notifier
        self._scheduler = scheduler
        self._events = events
        self._clock = clock

    def begin(self, uow: UnitOfWork, incident: Incident) -> None:
        """Inside the transaction that opens the incident: register its first step."""
        if incident.escalation_policy_id is None:
            return
        name = schedule_name(incident.id, FIRST_STEP)
        self._stores.steps(uow).add(incident.id, FIRST_STEP, name, incident.triggered_at)

    def run_step(self, tenant_id: str, incident_id: str, step: Step) -> StepResult:
        """Page the step's targets and schedule the next step; a no-op when already run,
        cancelled, or the incident is no longer waiting for someone."""
        events: list[tuple[str, dict[str, Any]]] = []
        with self._uow(tenant_id, ACTOR) as uow:
            incidents = self._stores.incidents(uow)
            incident = incidents.lock(incident_id)
            if incident is None or incident.status is not IncidentStatus.TRIGGERED:
                return StepResult(False)
            if not self._stores.steps(uow).claim(incident_id, step, self._clock.now()):
                return StepResult(False)
            policy = (
                self._stores.policies(uow).get(incident.escalation_policy_id)
                if incident.escalation_policy_id
                else None
            )
            if policy is None:
                self._note(uow, incident, TimelineKind.ESCALATION_EXHAUSTED, "no escalation policy")
                uow.commit()
                return StepResult(True)
            notified = self._page(uow, incident, policy, step, events)
            following = self._schedule_next(uow, incident, policy, step)
            uow.record(
                "incident.escalation_step",
                "incident",
                incident.id,
                after={"round": step.round, "level": step.level, "notified": notified},
            )
            uow.commit()
        for detail_type, detail in events:
            self._events.publish(tenant_id, detail_type, detail)
        return StepResult(True, tuple(notified), following)

    def stop(self, uow: UnitOfWork, incident_id: str) -> list[str]:
        """Inside the acknowledging/resolving transaction: cancel pending steps."""
        return self._stores.steps(uow).cancel_scheduled(incident_id, self._clock.now())

    def after_stop(self, tenant_id: str, incident_id: str, schedule_names: list[str]) -> None:
        """After that commit: delete the schedules and cancel delayed notifications.

        Best effort on both: a schedule that still fires finds its step cancelled."""
        for name in schedule_names:
            self._scheduler.cancel(name)
        self._notifier.cancel_pending(tenant_id, "incident_id", incident_id)

    # -- internals ---------------------------------------------------------------------------

    def _page(
        self,
        uow: UnitOfWork,
        incident: Incident,
        policy: EscalationPolicy,
        step: Step,
        events: list[tuple[str, dict[str, Any]]],
    ) -> list[str]:
        now = self._clock.now()
        if step.exhausted:
            members = [policy.owner_member_id] if policy.owner_member_id else []
            message = f"nobody acknowledged after {policy.repeat + 1} round(s) of {policy.name}"
            self._note(uow, incident, TimelineKind.ESCALATION_EXHAUSTED, message)
        else:
            level = policy.levels[step.level]
            members = resolve_targets(level.targets, self._stores.targets(uow), now)
            if not step.is_first:
                message = f"escalated to level {step.level + 1} (round {step.round + 1})"
                self._note(
                    uow,
                    incident,
                    TimelineKind.ESCALATED,
                    message,
                    {"level": step.level + 1, "round": step.round + 1, "members": members},
                )
                events.append(
                    (
                        "incident.escalated",
                        {
                            "incident": incident.snapshot(),
                            "level": step.level + 1,
                            "round": step.round + 1,
                            "members": members,
                        },
                    )
                )
        notice = _notice(incident, step)
        for member_id in members:
            ids = self._notifier.notify_member(uow.tenant_id, member_id, notice, ACTOR)
            self._note(
                uow,
                incident,
                TimelineKind.NOTIFIED,
                f"notified {member_id}",
                {"member_id": member_id, "notification_ids": ids, "level": step.level + 1},
            )
        return members

    def _schedule_next(
        self, uow: UnitOfWork, incident: Incident, policy: EscalationPolicy, step: Step
    ) -> Step | None:
        following = next_step(policy, step)
        if following is None:
            return None
        delay = policy.levels[step.level].delay_minutes
        # Scheduler times are whole seconds, so this may fire up to a second early: better
        # than late for a page, and `orchestrix tick --advance 5m` reaches it.
        due = self._clock.now() + timedelta(minutes=delay)
        name = schedule_name(incident.id, following)
        self._stores.steps(uow).add(incident.id, following, name, due)
        payload = {
            "tenant_id": uow.tenant_id,
            "incident_id": incident.id,
            "round": following.round,
            "level": following.level,
            "idempotency_key": idempotency_key(incident.id, following),
        }
        self._scheduler.schedule(name, due, ESCALATE_FUNCTION, payload)
        return following

    def _note(
        self,
        uow: UnitOfWork,
        incident: Incident,
        kind: TimelineKind,
        message: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        entry = timeline_entry(incident.id, kind, ACTOR, message, self._clock.now(), data)
        self._stores.incidents(uow).add_timeline(entry)


def _notice(incident: Incident, step: Step) -> Notice:
    urgent = incident.severity in (Severity.SEV1, Severity.SEV2)
    base = f"/api/v1/incidents/{incident.id}"
    return Notice(
        idempotency_key=idempotency_key(incident.id, step),
        urgency="high" if urgent else "low",
        title=f"[{incident.severity.value}] {incident.title}",
        text=_text(incident),
        links={
            "incident": base,
            "acknowledge": f"{base}/acknowledge",
            "resolve": f"{base}/resolve",
        },
        context={"incident_id": incident.id, "severity": incident.severity.value},
    )


def _text(incident: Incident) -> str:
    """The page's body: the description, then the analysis summary when there is one."""
    text = incident.description or incident.title
    return f"{text}\n\nAnalysis: {incident.summary}" if incident.summary else text
