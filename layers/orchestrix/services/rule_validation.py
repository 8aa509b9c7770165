"""Checks a rule before it is stored: PromQL that parses, templates that compile, sane names.

Every problem is reported with the field it is in, so a 422 names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from orchestrix.domain.alerting.rules import NAME_PATTERN, QueryLanguage, ThresholdSpec
from orchestrix.domain.alerting.templates import TemplateError, compile_template, render
from orchestrix.domain.anomaly.spec import (
    ALGORITHMS,
    MAX_BOUNDS,
    MIN_BOUNDS,
    SEASONALITIES,
    AnomalySpec,
)
from orchestrix.domain.errors import FieldError, ValidationFailed
from orchestrix.promql import PromQLError
from orchestrix.promql.parse import parse
from orchestrix.services.alert_ports import RuleReferences

MIN_INTERVAL_S = 60  # the evaluation schedule runs once a minute
ID_PATTERN = re.compile(r"^[a-z]{2,8}_[0-9a-z]{26}$")
LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


SAMPLE_VALUE = 1.0


_LABEL_REF = re.compile(r"(?:\$labels|\.Labels)\.([A-Za-z_][A-Za-z0-9_]*)")


def sample_labels(text: str) -> dict[str, str]:
    """Labels to try a template on at save time: "1" for each label it reads, so that
    `{{ humanize $labels.x }}` passes while `{{ toUpper 5 }}` (which fails whatever the data)
    is refused before the rule is stored instead of failing at every evaluation."""
    return {name: "1" for name in _LABEL_REF.findall(text)}


@dataclass(frozen=True)
class RuleDraft:
    """A rule as a client or a rule file gives it, before ids and bookkeeping."""

    name: str
    expr: str | None = None
    threshold: ThresholdSpec | None = None
    anomaly: AnomalySpec | None = None
    group: str = "default"
    interval_s: int = 60
    for_s: int = 0
    keep_firing_for_s: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    severity: str | None = None
    remediation_workflow_id: str | None = None
    escalation_policy_id: str | None = None
    enabled: bool = True
    language: QueryLanguage = "promql"

    def promql(self) -> str:
        if self.threshold is not None:
            return self.threshold.to_promql()
        return self.expr or ""


def rule_errors(d: RuleDraft, loc: tuple[str | int, ...] = ("body",)) -> list[FieldError]:
    errors: list[FieldError] = []

    def err(where: str | tuple[str | int, ...], msg: str) -> None:
        path = (where,) if isinstance(where, str) else where
        errors.append(FieldError((*loc, *path), msg))

    if not NAME_PATTERN.fullmatch(d.name):
        err("name", "must be a valid metric name ([A-Za-z_][A-Za-z0-9_]*)")
    if (d.expr is None) == (d.threshold is None):
        err("expr", "give either expr (PromQL) or the threshold form (metric, operator, ...)")
    elif d.threshold is not None and not NAME_PATTERN.fullmatch(d.threshold.metric):
        err("metric", "must be a valid metric name")
    elif d.language == "logql":
        problem = logql_problem(d.expr, d.threshold)
        if problem:
            err("expr", problem)
    else:
        try:
            tree = parse(d.promql())
            if tree.vtype not in ("vector", "scalar"):
                err("expr", f"must be an instant vector or scalar, not a {tree.vtype}")
        except PromQLError as exc:
            err("expr", f"invalid PromQL: {exc.message}")
    if d.anomaly is not None and d.language == "logql":
        err("language", "anomaly rules watch PromQL series; a log rule takes a threshold")
    elif d.anomaly is not None:
        errors += anomaly_errors(d, loc)
    if d.interval_s < MIN_INTERVAL_S:
        err("interval", f"must be at least {MIN_INTERVAL_S}s (rules are evaluated every minute)")
    if d.for_s < 0:
        err("for", "must not be negative")
    if d.keep_firing_for_s < 0:
        err("keep_firing_for", "must not be negative")
    for kind, items in (("labels", d.labels), ("annotations", d.annotations)):
        for key, text in items.items():
            if not LABEL_NAME.fullmatch(key):
                err((kind, key), "invalid label name")
                continue
            try:
                compile_template(f"__alert_{d.name}", text)
            except TemplateError as exc:
                err((kind, key), f"invalid template: {exc}")
                continue
            _, error = render(f"__alert_{d.name}", text, sample_labels(text), SAMPLE_VALUE)
            if error is not None:
                err((kind, key), f"template fails on sample data: {error}")
    for key in ("remediation_workflow_id", "escalation_policy_id"):
        value = getattr(d, key)
        if value is not None and not ID_PATTERN.fullmatch(value):
            err(key, "must be an Orchestrix id such as wf_01hx... / esc_01hx...")
    return errors


def anomaly_errors(d: RuleDraft, loc: tuple[str | int, ...]) -> list[FieldError]:
    """An anomaly rule watches the series of a PromQL expression (not a comparison: the
    model's band is the threshold), with an algorithm, bounds and seasonality it knows."""
    spec = d.anomaly
    assert spec is not None
    errors: list[FieldError] = []
    if d.threshold is not None:
        errors.append(FieldError((*loc, "metric"), "an anomaly rule takes expr, not a threshold"))
    if spec.algorithm not in ALGORITHMS:
        errors.append(FieldError((*loc, "algorithm"), f"must be one of {', '.join(ALGORITHMS)}"))
    if not MIN_BOUNDS <= spec.bounds <= MAX_BOUNDS:
        errors.append(
            FieldError((*loc, "bounds"), f"must be between {MIN_BOUNDS:g} and {MAX_BOUNDS:g}")
        )
    if spec.seasonality not in SEASONALITIES:
        errors.append(
            FieldError((*loc, "seasonality"), f"must be one of {', '.join(SEASONALITIES)}")
        )
    return errors


def logql_problem(expr: str | None, threshold: ThresholdSpec | None) -> str | None:
    """Why a log rule's expression cannot be evaluated: it must be a LogQL metric query."""
    from orchestrix.logql.model import LogSelector
    from orchestrix.logql.parse import LogQLError, parse

    if threshold is not None or expr is None:
        return "a log rule takes expr (LogQL), not the threshold form"
    try:
        query = parse(expr)
    except LogQLError as exc:
        return f"invalid LogQL: {exc}"
    if isinstance(query, LogSelector):
        return (
            'must be a metric query such as sum(count_over_time({app="api"} |= "error" [5m])) > 10'
        )
    return None


def reference_errors(
    d: RuleDraft, refs: RuleReferences, loc: tuple[str | int, ...] = ("body",)
) -> list[FieldError]:
    """The policy and workflow a rule names must exist in the caller's tenant; otherwise the
    rule would silently page through the default policy or never remediate."""
    errors: list[FieldError] = []
    if d.escalation_policy_id and not refs.escalation_policy_exists(d.escalation_policy_id):
        errors.append(FieldError((*loc, "escalation_policy_id"), "no such escalation policy"))
    if d.remediation_workflow_id and not refs.workflow_exists(d.remediation_workflow_id):
        errors.append(FieldError((*loc, "remediation_workflow_id"), "no such workflow"))
    return errors


def validate(d: RuleDraft) -> None:
    errors = rule_errors(d)
    if errors:
        raise ValidationFailed(errors)
