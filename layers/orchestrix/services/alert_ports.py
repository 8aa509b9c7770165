"""What the alerting services need from storage, and the remediation hook."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from orchestrix.domain.alerting.alerts import Alert, AlertFilter
from orchestrix.domain.alerting.evaluation import ActiveState
from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.domain.alerting.silences import Silence
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.ports.unit_of_work import UnitOfWork


class AlertRepository(Protocol):
    def get(self, alert_id: str) -> Alert | None: ...
    def latest_by_fingerprint(self, fingerprints: Sequence[str]) -> dict[str, Alert]: ...
    def insert_many(self, alerts: Sequence[Alert]) -> None: ...
    def update_many(self, alerts: Sequence[Alert]) -> None: ...
    def add_occurrences(self, rows: Sequence[dict[str, Any]]) -> None: ...
    def occurrences(self, alert_id: str, limit: int = 20) -> list[dict[str, Any]]: ...

    def list(self, filters: AlertFilter, page: PageRequest) -> Page[Alert]: ...


class AlertRuleRepository(Protocol):
    def add(self, rule: AlertRule) -> None: ...
    def add_many(self, rules: Sequence[AlertRule]) -> None: ...
    def update(self, rule: AlertRule) -> None: ...
    def get(self, rule_id: str) -> AlertRule | None: ...
    def delete(self, rule_id: str) -> bool: ...
    def all(self, enabled_only: bool = False) -> list[AlertRule]: ...
    def try_lock_evaluation(self, tenant_id: str) -> bool: ...
    def mark_evaluated(
        self, results: Iterable[tuple[str, datetime, str | None, float]]
    ) -> None: ...
    def states(self, rule_ids: Sequence[str]) -> dict[str, dict[str, ActiveState]]: ...
    def save_states(
        self,
        tenant_id: str,
        upserts: Sequence[tuple[str, ActiveState]],
        deletes: Sequence[tuple[str, str]],
    ) -> None: ...
    def list(self, page: PageRequest) -> Page[AlertRule]: ...


class SilenceRepository(Protocol):
    def add(self, silence: Silence) -> None: ...
    def update(self, silence: Silence) -> None: ...
    def get(self, silence_id: str) -> Silence | None: ...
    def active(self, at: datetime) -> list[Silence]: ...
    def list(self, visible_after: datetime, limit: int = 1000) -> list[Silence]: ...


class RuleReferences(Protocol):
    """Whether an id a rule names exists in the caller's tenant; another tenant's id is
    indistinguishable from one that never existed."""

    def escalation_policy_exists(self, policy_id: str) -> bool: ...
    def workflow_exists(self, workflow_id: str) -> bool: ...


@dataclass(frozen=True)
class AlertingRepos:
    alerts: AlertRepository
    rules: AlertRuleRepository
    silences: SilenceRepository
    references: RuleReferences


# Builds the repositories on a unit of work's transaction (bootstrap supplies the Postgres one).
ReposFactory = Callable[[UnitOfWork], AlertingRepos]


class RemediationTrigger(Protocol):
    """The `AlertFired` hook: called after commit for each alert that started firing
    (never for a suppressed one) whose rule names a remediation workflow. True when a
    remediation is trying to fix it: its incident waits for the outcome."""

    def alert_fired(self, tenant_id: str, alert: Alert, workflow_id: str) -> bool: ...


class NoRemediation:
    """Until the remediation state machine is wired: remember nothing, start nothing (so
    every alert pages at once)."""

    def alert_fired(self, tenant_id: str, alert: Alert, workflow_id: str) -> bool:
        return False
