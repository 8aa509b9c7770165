"""Keeps the every-minute rule evaluation schedule enabled exactly while some tenant has an
enabled alert rule, so an idle stage lets Aurora pause (docs/deploy.md, idle cost).

Who flips it: the rule service turns it on after a rule is committed; the evaluator (and the
daily housekeeping) call `settle`, which turns it off when no tenant has an enabled rule. The
order makes a concurrent create safe: `settle` disables, then looks again and re-enables if a
rule appeared; a create that committed after that second look enables it itself afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from orchestrix.domain.identity import system_principal
from orchestrix.ports.scheduler import EvaluationSchedule
from orchestrix.ports.unit_of_work import UnitOfWorkFactory
from orchestrix.services.alert_ports import ReposFactory

log = logging.getLogger(__name__)
JOB = "rule-schedule"


class RuleScheduleService:
    def __init__(
        self, uow: UnitOfWorkFactory, repos: ReposFactory, schedule: EvaluationSchedule
    ) -> None:
        self._uow = uow
        self._repos = repos
        self._schedule = schedule

    def rules_added(self) -> None:
        """After a commit that left the tenant with an enabled rule. A failure is logged, not
        raised: the rule is saved, and the next `settle` (daily at the latest) enables it."""
        try:
            self._schedule.set_enabled(True)
        except Exception:
            log.exception("could not enable the rule evaluation schedule")

    def settle(self, tenant_ids: Callable[[], Iterable[str]]) -> bool:
        """Enable the schedule if any tenant has an enabled rule, else disable it; returns
        whether it is left enabled. `tenant_ids` is asked again for the second look, so a
        tenant created meanwhile is seen too."""
        if self._any_rules(tenant_ids()):
            self._schedule.set_enabled(True)
            return True
        self._schedule.set_enabled(False)
        if self._any_rules(tenant_ids()):  # a rule committed between the first look and now
            self._schedule.set_enabled(True)
            return True
        return False

    def _any_rules(self, tenant_ids: Iterable[str]) -> bool:
        for tenant_id in tenant_ids:
            with self._uow(tenant_id, system_principal(tenant_id, JOB).actor) as uow:
                if self._repos(uow).rules.all(enabled_only=True):
                    return True
        return False
