"""One evaluation of one alerting rule, with Prometheus' semantics (rules/alerting.go).

The persisted `ActiveState`s are Orchestrix's `ALERTS_FOR_STATE`: a cold evaluator loads them
and continues exactly where the previous one stopped.
- a series the expression returns becomes a *pending* alert (`active_at` = this evaluation);
- it fires once `ts - active_at >= for` (at once when `for` is 0);
- a pending alert whose series disappears is dropped; a firing one resolves, unless
  `keep_firing_for` holds it firing that long after the series was last seen;
- labels: the sample's labels without `__name__`, plus the rule's labels (templated; an
  empty result deletes the label), plus `alertname`; two samples ending with the same label
  set are an error, as in Prometheus.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from orchestrix.domain.alerting.fingerprint import fingerprint
from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.domain.alerting.templates import render


@dataclass(frozen=True)
class ActiveState:
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    state: str  # "pending" | "firing"
    active_at: datetime
    value: float
    last_seen_at: datetime
    fired_at: datetime | None = None
    keep_firing_since: datetime | None = None


@dataclass(frozen=True)
class ResultSample:
    labels: dict[str, str]  # as the query returned them, __name__ included when present
    value: float


@dataclass
class StepResult:
    states: dict[str, ActiveState]
    fired: list[ActiveState] = field(default_factory=list)  # became firing at this step
    firing: list[ActiveState] = field(default_factory=list)  # firing before and still
    resolved: list[ActiveState] = field(default_factory=list)
    template_error: str | None = None  # the first failing template, e.g. "annotations.x: ..."


class DuplicateLabelSet(ValueError):
    pass


def alert_instances(
    rule: AlertRule, samples: list[ResultSample], template_errors: list[str] | None = None
) -> dict[str, tuple[dict[str, str], dict[str, str], float]]:
    """fingerprint -> (labels, annotations, value) for one query result.

    A template that fails renders Prometheus' error text in its place (the alert still
    fires); the failure, as `labels.<key>: <error>`, goes to `template_errors`.
    """
    out: dict[str, tuple[dict[str, str], dict[str, str], float]] = {}
    name = f"__alert_{rule.name}"

    def expand(field: str, text: str, s: ResultSample) -> str:
        rendered, error = render(name, text, s.labels, s.value)
        if error is not None and template_errors is not None:
            template_errors.append(f"{field}: {error}")
        return rendered

    for s in samples:
        labels = {k: v for k, v in s.labels.items() if k != "__name__"}
        for key, text in rule.alert_labels().items():
            rendered = expand(f"labels.{key}", text, s)
            if rendered:
                labels[key] = rendered
            else:
                labels.pop(key, None)
        labels["alertname"] = rule.name
        annotations = {k: expand(f"annotations.{k}", t, s) for k, t in rule.annotations.items()}
        fp = fingerprint(labels)
        if fp in out:
            raise DuplicateLabelSet(
                "vector contains metrics with the same labelset after applying alert labels"
            )
        out[fp] = (labels, annotations, s.value)
    return out


def step(
    rule: AlertRule,
    samples: list[ResultSample],
    previous: dict[str, ActiveState],
    ts: datetime,
) -> StepResult:
    errors: list[str] = []
    instances = alert_instances(rule, samples, errors)
    hold = timedelta(seconds=rule.for_s)
    keep = timedelta(seconds=rule.keep_firing_for_s)
    result = StepResult(states={}, template_error=errors[0] if errors else None)
    for fp, (labels, notes, value) in instances.items():
        old = previous.get(fp)
        if old is None:
            state = ActiveState(fp, labels, notes, "pending", ts, value, ts)
        else:
            state = replace(
                old, annotations=notes, value=value, last_seen_at=ts, keep_firing_since=None
            )
        if state.state == "pending" and ts - state.active_at >= hold:
            state = replace(state, state="firing", fired_at=ts)
            result.fired.append(state)
        elif state.state == "firing":
            result.firing.append(state)
        result.states[fp] = state
    for fp, old in previous.items():
        if fp in instances or old.state != "firing":
            continue  # a vanished pending alert is simply forgotten
        since = old.keep_firing_since or ts
        if keep and ts - since < keep:
            kept = replace(old, keep_firing_since=since)
            result.states[fp] = kept
            result.firing.append(kept)
        else:
            result.resolved.append(old)
    return result
