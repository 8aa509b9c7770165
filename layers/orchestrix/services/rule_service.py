"""Alert rules: CRUD, and Prometheus rule files in and out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from orchestrix.domain.alerting.evaluation import ActiveState
from orchestrix.domain.alerting.rules import SEVERITIES, AlertRule
from orchestrix.domain.errors import FieldError, NotFound, ValidationFailed
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.ids import new_id
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.ports.clock import Clock
from orchestrix.ports.unit_of_work import UnitOfWorkFactory
from orchestrix.services.alert_ports import AlertingRepos, ReposFactory
from orchestrix.services.rule_files import dump_rule_file, load_rule_file
from orchestrix.services.rule_schedule import RuleScheduleService
from orchestrix.services.rule_validation import (
    RuleDraft,
    reference_errors,
    rule_errors,
    validate,
)


def _severity(d: RuleDraft) -> str:
    if d.severity:
        return d.severity
    label = d.labels.get("severity", "").lower()
    return label if label in SEVERITIES else "warning"


def _build(d: RuleDraft, base: AlertRule) -> AlertRule:
    return replace(
        base,
        name=d.name,
        expr=d.promql(),
        group=d.group,
        interval_s=d.interval_s,
        for_s=d.for_s,
        keep_firing_for_s=d.keep_firing_for_s,
        # An explicit severity becomes the alert label routing and silences look at.
        labels={**d.labels, "severity": d.severity}
        if d.severity and "severity" not in d.labels
        else dict(d.labels),
        annotations=dict(d.annotations),
        severity=_severity(d),
        threshold=d.threshold,
        anomaly=d.anomaly,
        remediation_workflow_id=d.remediation_workflow_id,
        escalation_policy_id=d.escalation_policy_id,
        enabled=d.enabled,
        language=d.language,
    )


def _check_references(
    repos: AlertingRepos, drafts: list[RuleDraft], many: tuple[str, ...] | None = None
) -> None:
    """422 unless every policy/workflow named exists in the tenant (on the write's own
    transaction, so a foreign id looks missing). `many`: the location of a draft list."""
    errors: list[FieldError] = []
    for i, d in enumerate(drafts):
        errors += reference_errors(d, repos.references, ("body",) if many is None else (*many, i))
    if errors:
        raise ValidationFailed(errors)


# Each enabled rule with its active alerts.
Loaded = list[tuple[AlertRule, list[ActiveState]]]


class RuleService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        repos: ReposFactory,
        clock: Clock,
        schedule: Callable[[], RuleScheduleService] | None = None,
    ) -> None:
        """`schedule`: builds the evaluation schedule's switch, only when a write needs it
        (reads need no Scheduler client)."""
        self._uow = uow
        self._repos = repos
        self._clock = clock
        self._schedule = schedule

    def _rules_saved(self, rules: list[AlertRule]) -> None:
        """After the commit: an enabled rule needs the evaluation schedule on."""
        if self._schedule is not None and any(rule.enabled for rule in rules):
            self._schedule().rules_added()

    def _new(self, principal: Principal, d: RuleDraft) -> AlertRule:
        now = self._clock.now()
        base = AlertRule(
            id=new_id("rule", int(now.timestamp() * 1000)),
            tenant_id=principal.tenant_id,
            name=d.name,
            expr="",
            created_at=now,
            updated_at=now,
            created_by=principal.actor,
        )
        return _build(d, base)

    def create(
        self, principal: Principal, d: RuleDraft, request_id: str | None = None
    ) -> AlertRule:
        principal.require_role(Role.EDITOR)
        validate(d)
        rule = self._new(principal, d)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repos = self._repos(uow)
            _check_references(repos, [d])
            repos.rules.add(rule)
            uow.record("alert_rule.create", "alert_rule", rule.id, after=rule.snapshot())
            uow.commit()
        self._rules_saved([rule])
        return rule

    def update(
        self, principal: Principal, rule_id: str, d: RuleDraft, request_id: str | None = None
    ) -> AlertRule:
        principal.require_role(Role.EDITOR)
        validate(d)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repos = self._repos(uow)
            repo = repos.rules
            before = repo.get(rule_id)
            if before is None:
                raise NotFound("alert rule", rule_id)
            _check_references(repos, [d])
            after = replace(_build(d, before), updated_at=self._clock.now())
            repo.update(after)
            uow.record(
                "alert_rule.update", "alert_rule", rule_id, before.snapshot(), after.snapshot()
            )
            uow.commit()
        self._rules_saved([after])
        return after

    def delete(self, principal: Principal, rule_id: str, request_id: str | None = None) -> None:
        principal.require_role(Role.EDITOR)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._repos(uow).rules
            before = repo.get(rule_id)
            if before is None or not repo.delete(rule_id):
                raise NotFound("alert rule", rule_id)
            uow.record("alert_rule.delete", "alert_rule", rule_id, before=before.snapshot())
            uow.commit()

    def get(self, principal: Principal, rule_id: str) -> AlertRule:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            rule = self._repos(uow).rules.get(rule_id)
        if rule is None:
            raise NotFound("alert rule", rule_id)
        return rule

    def import_file(
        self, principal: Principal, text: str, request_id: str | None = None
    ) -> tuple[list[AlertRule], list[str]]:
        """Add every alerting rule of a Prometheus rule file; all or nothing."""
        principal.require_role(Role.EDITOR)
        drafts, warnings = load_rule_file(text)
        errors: list[FieldError] = []
        for i, d in enumerate(drafts):
            errors += rule_errors(d, ("body", "rules", i))
        if errors:
            raise ValidationFailed(errors)
        rules = [self._new(principal, d) for d in drafts]
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repos = self._repos(uow)
            _check_references(repos, drafts, ("body", "rules"))
            repos.rules.add_many(rules)
            for rule in rules:
                uow.record("alert_rule.create", "alert_rule", rule.id, after=rule.snapshot())
            uow.commit()
        self._rules_saved(rules)
        return rules, warnings

    def export_file(self, principal: Principal) -> str:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            rules = self._repos(uow).rules.all()
        return dump_rule_file(rules)

    def list(self, principal: Principal, page: PageRequest) -> Page[AlertRule]:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._repos(uow).rules.list(page)

    def loaded(self, principal: Principal) -> Loaded:
        """The enabled rules (the ones evaluated) with their pending and firing alerts, in
        group order: what Prometheus' `/api/v1/rules` and `/api/v1/alerts` show."""
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            repo = self._repos(uow).rules
            rules = repo.all(enabled_only=True)
            states = repo.states([rule.id for rule in rules])
        return [
            (rule, sorted(states.get(rule.id, {}).values(), key=lambda a: a.fingerprint))
            for rule in rules
        ]
