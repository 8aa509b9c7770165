"""Remediations a restart of the local runtime interrupted: resumed, or failed saying why.

The local Step Functions (moto) forgets every execution when `orchestrix dev` stops, so a
remediation stored as running would wait forever on a machine that is gone. In AWS the service
keeps executing through any restart of ours: only the local runtime calls this, at start, once
`workflow_recovery` has settled or restarted the workflow runs.

Resuming is safe: every action of the `remediation` machine is idempotent (Step Functions may
retry any of them) and reads its progress from the remediation's row — the workflow run it
started, that run's last status, when the re-check is due. Started again under the same name
(so the same execution ARN), the machine repeats no completed step: starting the workflow
answers the run already started, the polls read that run, the re-check waits for the time
recorded. So a remediation is resumed, audited `remediation.resume` (its wait and poll
intervals are the runtime's settings, as when it started: the lost input held nothing else).

Unless the workflow run it started was interrupted as well (workflow recovery failed it with
`RuntimeRestarted` rather than repeat a step that may have half run): the fix did not complete
and people take over, as after any failed remediation. The remediation ends `failed` with the
reason `interrupted: the local runtime restarted …`, audited, and `alert.remediation_failed`
goes out on the bus. The same when it cannot be started again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from orchestrix.domain.identity import system_principal
from orchestrix.services.remediation import JOB, RemediationService, alert_input
from orchestrix.services.remediation_ports import Remediation
from orchestrix.services.workflow_recovery import RESTARTED_ERROR

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"
_RUN_INTERRUPTED = (
    "the local runtime restarted while workflow run {run} was in progress; "
    "the run was not resumed, so the fix may be incomplete"
)
_NOT_RESUMED = "the local runtime restarted and the remediation could not be resumed: {why}"
_RESUMED = "the local runtime restarted; resumed from its last recorded step"


@dataclass
class RemediationsRecovered:
    resumed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class RemediationRecovery(RemediationService):
    def recover(self, tenant_id: str) -> RemediationsRecovered:
        """Resume or fail every running remediation of the tenant whose execution the engine
        no longer knows."""
        with self._uow(tenant_id, self._system(tenant_id)) as uow:
            _, remediations = self._repos(uow)
            running = remediations.all_running()
        result = RemediationsRecovered()
        for remediation in running:
            if self._machine.knows(remediation.sfn_execution_arn):
                continue  # the engine kept it (it did not restart): it goes on by itself
            try:
                resumed = self._resume(remediation)
            except Exception:  # the tenant's other remediations must still be recovered
                log.exception("could not recover remediation %s", remediation.id)
                continue
            (result.resumed if resumed else result.failed).append(remediation.id)
        return result

    def alert_of(self, tenant_id: str, execution_id: str) -> dict[str, Any] | None:
        """The alert a remediation started this workflow run for, as the run's templates read
        it (`alert.*`); None for a run no remediation started. Workflow recovery starts such
        a run again with it."""
        with self._uow(tenant_id, self._system(tenant_id)) as uow:
            alerting, remediations = self._repos(uow)
            remediation = remediations.by_execution(execution_id)
            alert = alerting.alerts.get(remediation.alert_id) if remediation else None
        return alert_input(alert) if alert else None

    def _resume(self, remediation: Remediation) -> bool:
        """True when started again; False when it ended as failed instead."""
        tenant_id, run = remediation.tenant_id, remediation.execution_id
        if run is not None and self._workflows.error(tenant_id, run) == RESTARTED_ERROR:
            self._interrupted(remediation, _RUN_INTERRUPTED.format(run=run))
            return False
        name = remediation.execution_name
        if self._machine.execution_arn(name) != remediation.sfn_execution_arn:
            # The stage's machine was renamed: under another ARN nobody would find it.
            self._interrupted(remediation, _NOT_RESUMED.format(why="its state machine changed"))
            return False
        _, alert = self._load(tenant_id, remediation.id)
        with self._uow(tenant_id, self._system(tenant_id)) as uow:
            uow.record(
                "remediation.resume",
                "remediation",
                remediation.id,
                after={**remediation.snapshot(), "reason": _RESUMED},
            )
            uow.commit()
        try:
            self._machine.start(name, self._execution_input(remediation, alert))
        except Exception as exc:
            log.exception("could not resume remediation %s", remediation.id)
            self._interrupted(remediation, _NOT_RESUMED.format(why=str(exc)[:500]))
            return False
        return True

    @staticmethod
    def _system(tenant_id: str) -> str:
        return system_principal(tenant_id, JOB).actor

    def _interrupted(self, remediation: Remediation, cause: str) -> None:
        self.fail(remediation.tenant_id, remediation.id, INTERRUPTED, cause)
