"""Auto-remediation of firing alerts.

`alert_fired` (the evaluator's `RemediationTrigger`) records an attempt and starts the
`remediation` state machine; the machine then calls the other methods, one Lambda action each:
start the rule's workflow with the alert as its input, read its status, re-check the alert once
`wait_seconds` have passed on the clock since the workflow succeeded (resolving it when the
rule's expression no longer returns it), or hand it to escalation (`alert.remediation_failed`,
the alert left firing). Every action is idempotent: Step Functions may retry any of them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from orchestrix.domain.alerting.alerts import Alert, AlertStatus
from orchestrix.domain.alerting.evaluation import ResultSample, alert_instances
from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.domain.errors import DomainError, NotFound
from orchestrix.domain.identity import Principal, Role, system_principal
from orchestrix.domain.ids import new_id
from orchestrix.domain.workflow.error_text import error_message
from orchestrix.ports.clock import Clock
from orchestrix.ports.events import EventPublisher
from orchestrix.ports.unit_of_work import UnitOfWorkFactory
from orchestrix.promql import Engine, Queryable
from orchestrix.promql.parse import parse
from orchestrix.services.alert_intake import REMEDIATION_FAILED, RESOLVED
from orchestrix.services.remediation_ports import (
    Remediation,
    RemediationMachine,
    RemediationReposFactory,
    RemediationStatus,
    WorkflowRunner,
)
from orchestrix.services.rule_evaluation import EvaluationBudget
from orchestrix.services.rule_results import SharedResults

log = logging.getLogger(__name__)
JOB = "remediation"
DEFAULT_WAIT_SECONDS = 300
# The workflow still runs in these; anything else but `succeeded` is a failed remediation.
_RUNNING = ("running", "waiting_approval")


def alert_input(alert: Alert) -> dict[str, Any]:
    """What a remediation workflow sees as `alert` in its templates."""
    return {
        "id": alert.id,
        "fingerprint": alert.fingerprint,
        "name": alert.name,
        "severity": alert.severity,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "value": alert.value if alert.value is None or math.isfinite(alert.value) else None,
        "starts_at": alert.starts_at.isoformat(),
    }


class RemediationService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        repos: RemediationReposFactory,
        machine: RemediationMachine,
        workflows: WorkflowRunner,
        metrics: Callable[[str], Queryable],
        events: EventPublisher,
        clock: Clock,
        *,
        wait_seconds: int = DEFAULT_WAIT_SECONDS,
        poll_seconds: int = 10,
        budget: EvaluationBudget | None = None,
    ) -> None:
        self._uow = uow
        self._repos = repos
        self._machine = machine
        self._workflows = workflows
        self._metrics = metrics
        self._events = events
        self._clock = clock
        self._wait = wait_seconds
        # The re-check is a rule query like any other: same per-query time and sample bounds.
        self._budget = budget or EvaluationBudget()
        self._poll = poll_seconds

    # -- the trigger ---------------------------------------------------------------------

    def alert_fired(self, tenant_id: str, alert: Alert, workflow_id: str) -> bool:
        """Start a remediation unless one is already running for this alert. True when one
        is trying to fix it (it hands the alert on if it fails); False when none could be
        started, so that the alert pages at once."""
        try:
            started = self._record_start(tenant_id, alert, workflow_id)
        except Exception:  # the evaluator's tick must go on for the other alerts
            log.exception("could not record a remediation of %s", alert.id)
            return False
        if started is None:
            return True  # the one already running decides
        try:
            self._machine.start(started.execution_name, self._execution_input(started, alert))
        except Exception as exc:
            log.exception("could not start the remediation of %s", alert.id)
            self.fail(tenant_id, started.id, "StartFailed", str(exc)[:1000])
            return False
        return True

    def _execution_input(self, remediation: Remediation, alert: Alert) -> dict[str, Any]:
        return {
            "tenant_id": remediation.tenant_id,
            "remediation_id": remediation.id,
            "alert_id": alert.id,
            "workflow_id": remediation.workflow_id,
            "alert": alert_input(alert),
            "wait_seconds": self._wait,
            "poll_seconds": self._poll,
        }

    def _record_start(self, tenant_id: str, alert: Alert, workflow_id: str) -> Remediation | None:
        now = self._clock.now()
        with self._uow(tenant_id, _actor(tenant_id)) as uow:
            _, remediations = self._repos(uow)
            running = remediations.running(alert.id)
            if running is not None:
                if not self._machine.has_ended(running.sfn_execution_arn):
                    log.info("alert %s already has remediation %s", alert.id, running.id)
                    return None
                # Its execution ended without reporting (timed out, stopped): not running.
                stale = _finished(running, RemediationStatus.FAILED, now, "execution ended")
                remediations.update(stale)
                uow.record("remediation.fail", "remediation", stale.id, after=stale.snapshot())
            attempt = remediations.next_attempt(alert.id)
            remediation = Remediation(
                id=new_id("rem", int(now.timestamp() * 1000)),
                tenant_id=tenant_id,
                alert_id=alert.id,
                rule_id=alert.rule_id,
                workflow_id=workflow_id,
                attempt=attempt,
                status=RemediationStatus.RUNNING,
                sfn_execution_arn=self._machine.execution_arn(f"{alert.id}-{attempt}"),
                started_at=now,
            )
            if not remediations.add(remediation):
                return None  # another trigger won the race
            uow.record(
                "remediation.start", "remediation", remediation.id, None, remediation.snapshot()
            )
            uow.commit()
        return remediation

    # -- the state machine's actions ---------------------------------------------------

    def start_workflow(self, tenant_id: str, remediation_id: str) -> dict[str, Any]:
        remediation, alert = self._load(tenant_id, remediation_id)
        if remediation.execution_id or remediation.status is not RemediationStatus.RUNNING:
            return _workflow_answer(remediation)  # a retried invocation
        try:
            execution_id, status = self._workflows.start(
                tenant_id, remediation.workflow_id, alert, idempotency_key=remediation.id
            )
        except DomainError as exc:  # the workflow was deleted, or refuses the alert's labels
            log.info("remediation %s could not start its workflow: %s", remediation_id, exc)
            execution_id, status = None, "not_started"
        started = replace(remediation, execution_id=execution_id, execution_status=status)
        return _workflow_answer(self._save(started, "remediation.execute"))

    def workflow_status(
        self, tenant_id: str, remediation_id: str, wait_seconds: int
    ) -> dict[str, Any]:
        remediation, _ = self._load(tenant_id, remediation_id)
        if remediation.execution_id is None or remediation.status is not RemediationStatus.RUNNING:
            return _workflow_answer(remediation)
        status = self._workflows.status(tenant_id, remediation.execution_id)
        if status == remediation.execution_status:
            return _workflow_answer(remediation)
        recheck_at = remediation.recheck_at
        if status == "succeeded" and recheck_at is None:
            recheck_at = self._clock.now() + timedelta(seconds=wait_seconds)
        updated = replace(remediation, execution_status=status, recheck_at=recheck_at)
        return _workflow_answer(self._save(updated, None))

    def recheck(self, tenant_id: str, remediation_id: str, poll_seconds: int) -> dict[str, Any]:
        """`wait` (with seconds), `resolved` or `firing`."""
        now = self._clock.now()
        with self._uow(tenant_id, _actor(tenant_id)) as uow:
            alerting, remediations = self._repos(uow)
            remediation = _found(remediations.get(remediation_id), remediation_id)
            if remediation.status is not RemediationStatus.RUNNING:
                return _outcome(remediation.status.value)
            due = remediation.recheck_at or now
            if now < due:
                left = math.ceil((due - now).total_seconds())
                return _outcome("wait", max(1, min(left, poll_seconds)))
            if not alerting.rules.try_lock_evaluation(tenant_id):
                return _outcome("wait", 1)  # a rule evaluation is writing this tenant's alerts
            alert = alerting.alerts.get(remediation.alert_id)
            if alert is not None and alert.is_open:
                rule = alerting.rules.get(alert.rule_id) if alert.rule_id else None
                if rule is None or self._breaching(tenant_id, rule, alert, now):
                    return _outcome("firing")
                resolved = replace(
                    alert,
                    status=AlertStatus.RESOLVED,
                    ends_at=now,
                    resolved_by=_actor(tenant_id),
                    updated_at=now,
                )
                alerting.alerts.update_many([resolved])
                # Forget the rule's active state too: if the series comes back it is a new
                # alert (pending, then firing after `for`), as when the series had vanished.
                alerting.rules.save_states(tenant_id, [], [(rule.id, alert.fingerprint)])
                uow.record(
                    "alert.resolve", "alert", alert.id, alert.snapshot(), resolved.snapshot()
                )
            else:
                resolved = None  # resolved meanwhile (by an evaluation or a person)
            done = _finished(remediation, RemediationStatus.RESOLVED, now, "condition cleared")
            remediations.update(done)
            uow.record("remediation.resolve", "remediation", done.id, after=done.snapshot())
            uow.commit()
        if resolved is not None:
            detail = {**resolved.snapshot(), "remediation_id": remediation_id}
            self._events.publish(tenant_id, RESOLVED, detail)
        return _outcome("resolved")

    def escalate(self, tenant_id: str, remediation_id: str) -> dict[str, Any]:
        """The workflow failed, or the alert still fires after it: people take over."""
        remediation, _ = self._load(tenant_id, remediation_id)
        if remediation.execution_status == "succeeded":
            reason = "still firing after the re-check"
        else:
            reason = f"workflow {remediation.execution_status or 'not started'}"
        return self._hand_over(remediation, RemediationStatus.ESCALATED, reason)

    def fail(
        self, tenant_id: str, remediation_id: str, error: str | None, cause: str | None = None
    ) -> dict[str, Any]:
        """The remediation itself broke (a Lambda error, a failed start): people take over."""
        remediation, _ = self._load(tenant_id, remediation_id)
        cause = error_message(cause)  # a Lambda error's JSON: its message, not our stack
        reason = f"{error or 'Error'}: {cause}" if cause else error or "Error"
        return self._hand_over(remediation, RemediationStatus.FAILED, reason[:1000])

    # -- reads -----------------------------------------------------------------------------

    def for_alert(self, principal: Principal, alert_id: str) -> list[Remediation]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            _, remediations = self._repos(uow)
            return remediations.for_alert(alert_id)

    # -- internals ---------------------------------------------------------------------

    def _breaching(self, tenant_id: str, rule: AlertRule, alert: Alert, at: datetime) -> bool:
        """Does the rule's expression still return this alert's label set right now?"""
        try:
            at_ms = int(at.timestamp() * 1000)
            engine = Engine(
                self._metrics(tenant_id),
                timeout_s=self._budget.query_timeout_s,
                max_samples=self._budget.max_samples,
            )
            results = SharedResults(engine, at_ms)
            found = results.evaluate(parse(rule.expr), rule.expr)
            samples = [ResultSample(dict(labels), value) for labels, value in found]
            return alert.fingerprint in alert_instances(rule, samples)
        except Exception:  # cannot tell: leaving it firing is the safe answer
            log.exception("re-check of rule %s failed", rule.id)
            return True

    def _hand_over(
        self, remediation: Remediation, status: RemediationStatus, reason: str
    ) -> dict[str, Any]:
        tenant_id = remediation.tenant_id
        if remediation.status is not RemediationStatus.RUNNING:
            return {"status": remediation.status.value}  # already handed over (a retry)
        now = self._clock.now()
        with self._uow(tenant_id, _actor(tenant_id)) as uow:
            alerting, remediations = self._repos(uow)
            ended = _finished(remediation, status, now, reason)
            remediations.update(ended)
            uow.record(
                f"remediation.{status.value}", "remediation", ended.id, None, ended.snapshot()
            )
            alert = alerting.alerts.get(remediation.alert_id)
            rule = alerting.rules.get(remediation.rule_id) if remediation.rule_id else None
            uow.commit()
        detail: dict[str, Any] = alert.snapshot() if alert else {"id": remediation.alert_id}
        detail |= {
            "remediation": ended.snapshot(),
            "reason": reason,
            "rule_name": rule.name if rule else None,
            "escalation_policy_id": rule.escalation_policy_id if rule else None,
        }
        self._events.publish(tenant_id, REMEDIATION_FAILED, detail)
        return {"status": status.value}

    def _load(self, tenant_id: str, remediation_id: str) -> tuple[Remediation, Alert]:
        with self._uow(tenant_id, _actor(tenant_id)) as uow:
            alerting, remediations = self._repos(uow)
            remediation = _found(remediations.get(remediation_id), remediation_id)
            alert = alerting.alerts.get(remediation.alert_id)
        if alert is None:
            raise NotFound("alert", remediation.alert_id)
        return remediation, alert

    def _save(self, remediation: Remediation, action: str | None) -> Remediation:
        tenant_id = remediation.tenant_id
        with self._uow(tenant_id, _actor(tenant_id)) as uow:
            _, remediations = self._repos(uow)
            remediations.update(remediation)
            if action:
                uow.record(action, "remediation", remediation.id, after=remediation.snapshot())
            uow.commit()
        return remediation


def _actor(tenant_id: str) -> str:
    return system_principal(tenant_id, JOB).actor


def _found(remediation: Remediation | None, remediation_id: str) -> Remediation:
    if remediation is None:
        raise NotFound("remediation", remediation_id)
    return remediation


def _finished(
    remediation: Remediation, status: RemediationStatus, at: datetime, reason: str
) -> Remediation:
    return replace(remediation, status=status, finished_at=at, reason=reason)


def _workflow_answer(remediation: Remediation) -> dict[str, Any]:
    status = remediation.execution_status or "not_started"
    if remediation.status is not RemediationStatus.RUNNING and status in _RUNNING:
        status = "abandoned"  # ended elsewhere: the machine must not keep polling
    return {"execution_id": remediation.execution_id, "status": status}


def _outcome(outcome: str, wait_seconds: int = 0) -> dict[str, Any]:
    return {"outcome": outcome, "wait_seconds": wait_seconds}
