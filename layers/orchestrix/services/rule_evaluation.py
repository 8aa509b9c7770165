"""The `evaluate_rules` use case: one tick evaluates every due rule group of a tenant.

One transaction per tenant per tick (guarded by an advisory lock, so overlapping ticks never
double-fire): load the due rules and their states, evaluate them all at the scheduled time
against shared metric reads, then write states, alerts, occurrences and audit rows together.
Events and the remediation hook run after commit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from orchestrix.domain.alerting.alerts import AlertSignal
from orchestrix.domain.alerting.evaluation import ActiveState, ResultSample, StepResult, step
from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.domain.identity import system_principal
from orchestrix.ports.events import EventPublisher
from orchestrix.ports.unit_of_work import UnitOfWorkFactory
from orchestrix.promql import Engine, PromQLError, Queryable
from orchestrix.promql.engine import DEFAULT_LOOKBACK_MS
from orchestrix.promql.parse import parse
from orchestrix.services.alert_intake import FIRED, AlertChange, apply_signals, publish
from orchestrix.services.alert_ports import NoRemediation, RemediationTrigger, ReposFactory
from orchestrix.services.anomaly_evaluation import AnomalyEvaluator, Detection
from orchestrix.services.log_rules import LogRuleEvaluator
from orchestrix.services.rule_query_cache import SharedSelects, widest_windows
from orchestrix.services.rule_results import SharedResults

log = logging.getLogger(__name__)
JOB = "evaluate_rules"
SLACK = timedelta(seconds=1)
RULE_FAILED = "rule.evaluation_failed"
RULE_RECOVERED = (
    "rule.evaluation_recovered"  # a schedule firing a little early still counts as on time
)


@dataclass(frozen=True)
class EvaluationBudget:
    """What one tenant's rules may cost per tick, so that a slow tenant cannot delay the
    alerting of the tenants evaluated after it (the tick walks tenants one by one).

    - ``query_timeout_s``: each rule's query (Prometheus' query timeout, per rule);
    - ``tick_s``: all of a tenant's due rules together; rules left when it is used up are
      not evaluated this tick and report the reason as their health;
    - ``max_samples``: samples one rule's query may load.
    """

    query_timeout_s: float = 5.0
    tick_s: float = 15.0
    max_samples: int = 5_000_000


# The health text of a rule the tick budget left out; it goes first next time.
DEFERRED = "not evaluated:"


@dataclass
class TickReport:
    tenant_id: str
    at: datetime
    skipped: bool = False
    has_rules: bool = False  # the tenant has an enabled rule, due or not
    rules_evaluated: int = 0
    rule_errors: dict[str, str] = field(default_factory=dict)
    fired: int = 0
    resolved: int = 0
    storage_selects: int = 0
    queries_run: int = 0
    durations_ms: dict[str, float] = field(default_factory=dict)


def due_rules(rules: list[AlertRule], at: datetime) -> list[AlertRule]:
    """Whole groups whose interval has passed since the group last ran."""
    groups: dict[str, list[AlertRule]] = {}
    for rule in rules:
        groups.setdefault(rule.group, []).append(rule)
    due: list[AlertRule] = []
    for members in groups.values():
        interval = timedelta(seconds=min(r.interval_s for r in members))
        last = max((r.last_evaluated_at for r in members if r.last_evaluated_at), default=None)
        if last is None or at - last >= interval - SLACK:
            due += members
    return due


class EvaluationService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        repos: ReposFactory,
        metrics: Callable[[str], Queryable],
        events: EventPublisher,
        remediation: RemediationTrigger | None = None,
        lookback_ms: int = DEFAULT_LOOKBACK_MS,
        budget: EvaluationBudget | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        anomaly: AnomalyEvaluator | None = None,
        logs: LogRuleEvaluator | None = None,
    ) -> None:
        self._uow = uow
        self._repos = repos
        self._metrics = metrics
        self._events = events
        self._remediation = remediation or NoRemediation()
        self._lookback = lookback_ms
        self._budget = budget or EvaluationBudget()
        self._monotonic = monotonic
        self._anomaly = anomaly
        self._logs = logs  # log rules (language logql); None: they report an error

    def tick(self, tenant_id: str, at: datetime) -> TickReport:
        report = TickReport(tenant_id, at)
        actor = system_principal(tenant_id, JOB).actor
        with self._uow(tenant_id, actor) as uow:
            repos = self._repos(uow)
            if not repos.rules.try_lock_evaluation(tenant_id):
                report.skipped = True
                return report
            enabled = repos.rules.all(enabled_only=True)
            report.has_rules = bool(enabled)
            due = due_rules(enabled, at)
            if not due:
                return report
            states = repos.rules.states([r.id for r in due])
            detection = self._anomaly.begin(uow, due, at) if self._anomaly else None
            steps = self._evaluate(tenant_id, due, states, at, report, detection)
            if detection is not None:
                AnomalyEvaluator.save(detection)
            signals, upserts, deletes = _collect(due, states, steps, at)
            repos.rules.save_states(tenant_id, upserts, deletes)
            repos.rules.mark_evaluated(
                (r.id, at, report.rule_errors.get(r.id), report.durations_ms.get(r.id, 0.0))
                for r in due
            )
            changes = apply_signals(uow, repos, signals, at)
            _annotate(changes, {r.id: r for r in due})
            uow.commit()
        # Remediations first: an alert one is fixing says so in its `alert.fired`, and opens
        # its incident only if the fix fails; one whose fix could not start pages at once.
        fixing = self._start_remediations(tenant_id, changes, {r.id: r for r in due})
        publish(self._events, tenant_id, _marked_fixing(changes, fixing))
        if self._anomaly is not None and detection is not None:
            self._anomaly.publish(detection)
        self._publish_health(tenant_id, due, report)
        report.fired = sum(1 for c in changes if c.event == FIRED)
        report.resolved = sum(1 for c in changes if c.action == "alert.resolve")
        return report

    def _evaluate(
        self,
        tenant_id: str,
        rules: list[AlertRule],
        states: dict[str, dict[str, ActiveState]],
        at: datetime,
        report: TickReport,
        detection: Detection | None = None,
    ) -> dict[str, StepResult]:
        at_ms = int(at.timestamp() * 1000)
        trees = {}
        for rule in rules:
            if rule.language == "logql":
                continue  # evaluated against the log store, below
            try:
                trees[rule.id] = parse(rule.expr)
            except Exception as exc:  # stored rules were validated; a parser upgrade may differ
                report.rule_errors[rule.id] = str(exc)
        storage = SharedSelects(
            self._metrics(tenant_id), at_ms, widest_windows(trees.values(), self._lookback)
        )
        budget = self._budget
        engine = Engine(
            storage,
            lookback_ms=self._lookback,
            timeout_s=budget.query_timeout_s,
            max_samples=budget.max_samples,
        )
        results = SharedResults(engine, at_ms)
        steps: dict[str, StepResult] = {}
        tick_started = self._monotonic()
        # Rules the budget left out last time go first, so slow rules early in the list
        # cannot starve the same later rules tick after tick (the sort is stable).
        for rule in sorted(rules, key=lambda r: not (r.last_error or "").startswith(DEFERRED)):
            tree = trees.get(rule.id)
            if tree is None and rule.language != "logql":
                continue
            started = self._monotonic()
            if started - tick_started > budget.tick_s:
                report.rule_errors[rule.id] = (
                    f"{DEFERRED} this tenant's rules used up their evaluation budget "
                    f"of {budget.tick_s:g}s per tick"
                )
                continue
            try:
                if tree is None:
                    samples = self._log_samples(tenant_id, rule, at)
                else:
                    samples = [
                        ResultSample(dict(labels), value)
                        for labels, value in results.evaluate(tree, rule.expr)
                    ]
                if rule.anomaly is not None:
                    if detection is None:
                        raise RuntimeError("anomaly detection is not configured")
                    samples = detection.judge(rule, samples)
                result = step(rule, samples, states.get(rule.id, {}), at)
                steps[rule.id] = result
                if result.template_error:
                    report.rule_errors[rule.id] = f"error expanding {result.template_error}"
            except Exception as exc:  # one broken rule must not stop the others
                log.info("rule %s failed: %s", rule.id, exc)
                report.rule_errors[rule.id] = _error_text(exc)
            report.rules_evaluated += 1
            report.durations_ms[rule.id] = (self._monotonic() - started) * 1000
        report.storage_selects = storage.storage_selects
        report.queries_run = results.queries_run
        return steps

    def _log_samples(self, tenant_id: str, rule: AlertRule, at: datetime) -> list[ResultSample]:
        if self._logs is None:
            raise RuntimeError("log rules are not evaluated by this deployment")
        found = self._logs(tenant_id, rule.expr, at, self._budget.query_timeout_s)
        return [ResultSample(dict(labels), v) for labels, v in found]

    def _publish_health(self, tenant_id: str, rules: list[AlertRule], report: TickReport) -> None:
        """`rule.evaluation_failed` when a rule's error appears or changes, and
        `rule.evaluation_recovered` when a failing rule evaluates cleanly again."""
        for rule in rules:
            error = report.rule_errors.get(rule.id)
            if error == rule.last_error:
                continue
            detail = {
                "rule_id": rule.id,
                "rule_name": rule.name,
                "group": rule.group,
                "evaluated_at": report.at.isoformat(),
            }
            if error is not None:
                self._events.publish(
                    tenant_id, RULE_FAILED, {**detail, "health": "err", "last_error": error}
                )
            elif rule.last_evaluated_at is not None:
                self._events.publish(tenant_id, RULE_RECOVERED, {**detail, "health": "ok"})

    def _start_remediations(
        self, tenant_id: str, changes: list[AlertChange], rules: dict[str, AlertRule]
    ) -> set[str]:
        """The ids of the firing alerts a remediation is now trying to fix."""
        fixing = set()
        for change in changes:
            rule = rules.get(change.rule_id or "")
            if change.event == FIRED and rule is not None and rule.remediation_workflow_id:
                workflow = rule.remediation_workflow_id
                if self._remediation.alert_fired(tenant_id, change.alert, workflow):
                    fixing.add(change.alert.id)
        return fixing


def _error_text(exc: Exception) -> str:
    """The rule's `lastError`: the engine's own message (Prometheus'), else the exception."""
    if isinstance(exc, PromQLError):
        return exc.message[:1000]
    return f"{type(exc).__name__}: {exc}"[:1000]


def _collect(
    rules: list[AlertRule],
    states: dict[str, dict[str, ActiveState]],
    steps: dict[str, StepResult],
    at: datetime,
) -> tuple[list[AlertSignal], list[tuple[str, ActiveState]], list[tuple[str, str]]]:
    signals: list[AlertSignal] = []
    upserts: list[tuple[str, ActiveState]] = []
    deletes: list[tuple[str, str]] = []
    for rule in rules:
        result = steps.get(rule.id)
        if result is None:
            continue  # an erroring rule keeps its alerts as they were, as in Prometheus
        before = states.get(rule.id, {})
        for fp, state in result.states.items():
            old = before.get(fp)
            if old is None or (old.state, old.keep_firing_since, old.annotations) != (
                state.state,
                state.keep_firing_since,
                state.annotations,
            ):
                upserts.append((rule.id, state))
        deletes += [(rule.id, fp) for fp in before if fp not in result.states]

        signals += [_signal(rule, s, at, True) for s in result.fired]
        signals += [_signal(rule, s, at, True, refresh=True) for s in result.firing]
        signals += [_signal(rule, s, at, False) for s in result.resolved]
    return signals, upserts, deletes


def _signal(
    rule: AlertRule, s: ActiveState, at: datetime, firing: bool, refresh: bool = False
) -> AlertSignal:
    return AlertSignal(
        labels=s.labels,
        firing=firing,
        source="rule",
        at=at,
        annotations=s.annotations,
        starts_at=s.fired_at or s.active_at,
        value=s.value,
        rule_id=rule.id,
        refresh=refresh,
        severity_hint=rule.severity,
    )


def _annotate(changes: list[AlertChange], rules: dict[str, AlertRule]) -> None:
    for i, change in enumerate(changes):
        rule = rules.get(change.rule_id or "")
        if rule is not None:
            extra = {"rule_name": rule.name, "escalation_policy_id": rule.escalation_policy_id}
            extra["remediation_workflow_id"] = rule.remediation_workflow_id
            changes[i] = AlertChange(
                change.alert, change.action, change.event, change.rule_id, change.before, extra
            )


def _marked_fixing(changes: list[AlertChange], fixing: set[str]) -> list[AlertChange]:
    """`alert.fired` names the rule's remediation workflow only where a remediation is
    trying the fix: the incident side holds those alerts back until it has failed."""
    marked = []
    for change in changes:
        if change.event == FIRED and change.alert.id not in fixing and change.extra:
            change = replace(change, extra={**change.extra, "remediation_workflow_id": None})
        marked.append(change)
    return marked
