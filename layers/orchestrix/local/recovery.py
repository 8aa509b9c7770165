"""At `orchestrix dev` start: rebuild the workflows the AWS emulator forgot when it stopped.

moto keeps Step Functions in memory; the database keeps every workflow version and execution.
`services.workflow_recovery` decides what happens to each execution; here we run it for every
tenant and wait (bounded) until the executions started again ask for their approval again, so
that an approval sent once the server says it runs finds something to answer. Then
`services.remediation_recovery` resumes (or fails) the auto-remediations that were running:
after the workflow runs, whose outcome decides which.
"""

from __future__ import annotations

import logging
import time

from orchestrix import bootstrap
from orchestrix.services.remediation_recovery import RemediationsRecovered
from orchestrix.services.workflow_recovery import Recovered

log = logging.getLogger(__name__)
WAIT_FOR_APPROVALS_S = 30.0


def recreate_machines() -> int:
    """Every tenant's workflow state machines, before the gateway serves a request."""
    recovery = bootstrap.execution_recovery()
    machines = 0
    for tenant_id in bootstrap.tenant_ids():
        try:
            machines += recovery.recreate_machines(tenant_id)
        except Exception:  # one tenant's trouble must not keep the server down
            log.exception("could not recreate the workflows of tenant %s", tenant_id)
    return machines


def recover_executions() -> tuple[Recovered, list[tuple[str, str]]]:
    """Every tenant's interrupted executions: settled, or started again; the second item
    lists (tenant, execution id) of those started again."""
    from orchestrix.adapters.postgres.remediation_components import remediation_recovery

    recovery = bootstrap.execution_recovery()
    alert_of = remediation_recovery().alert_of  # a remediation's run needs its alert again
    total = Recovered()
    restarted: list[tuple[str, str]] = []
    for tenant_id in bootstrap.tenant_ids():
        try:
            found = recovery.recover_executions(tenant_id, alert_of)
        except Exception:  # one tenant's trouble must not keep the server down
            log.exception("could not recover the executions of tenant %s", tenant_id)
            continue
        total.restarted += found.restarted
        total.failed += found.failed
        total.timed_out += found.timed_out
        restarted += [(tenant_id, execution_id) for execution_id in found.restarted]
    return total, restarted


def recover_remediations() -> RemediationsRecovered:
    """Every tenant's remediations whose state machine execution the emulator forgot:
    resumed, or failed as interrupted (after `recover_executions`)."""
    from orchestrix.adapters.postgres.remediation_components import remediation_recovery

    recovery = remediation_recovery()
    total = RemediationsRecovered()
    for tenant_id in bootstrap.tenant_ids():
        try:
            found = recovery.recover(tenant_id)
        except Exception:  # one tenant's trouble must not keep the server down
            log.exception("could not recover the remediations of tenant %s", tenant_id)
            continue
        total.resumed += found.resumed
        total.failed += found.failed
    return total


def wait_until_waiting_again(
    restarted: list[tuple[str, str]], wait_s: float = WAIT_FOR_APPROVALS_S
) -> None:
    """Until every execution started again asks for its approval again (or ended), at most
    `wait_s`: their steps may call this very server, so the gateway must serve by now."""
    recovery = bootstrap.execution_recovery()
    deadline = time.monotonic() + wait_s
    while restarted and time.monotonic() < deadline:
        restarted = [(t, e) for t, e in restarted if not recovery.waiting_again(t, e)]
        if restarted:
            time.sleep(0.1)
    if restarted:
        log.warning("still starting again: %s", ", ".join(e for _, e in restarted))


def summary(recovered: Recovered, remediations: RemediationsRecovered | None = None) -> str | None:
    """One line for the console, or None when there was nothing to recover."""
    remediations = remediations or RemediationsRecovered()
    if not (
        recovered.machines
        or recovered.failed
        or recovered.timed_out
        or remediations.resumed
        or remediations.failed
    ):
        return None
    parts = [f"{recovered.machines} workflow state machine(s) recreated"]
    if recovered.restarted:
        parts.append(f"{len(recovered.restarted)} execution(s) waiting for approval again")
    if recovered.failed:
        parts.append(f"{len(recovered.failed)} interrupted execution(s) failed (RuntimeRestarted)")
    if recovered.timed_out:
        parts.append(f"{len(recovered.timed_out)} approval(s) expired while stopped")
    if remediations.resumed:
        parts.append(f"{len(remediations.resumed)} remediation(s) resumed")
    if remediations.failed:
        parts.append(f"{len(remediations.failed)} interrupted remediation(s) failed")
    return "; ".join(parts)
