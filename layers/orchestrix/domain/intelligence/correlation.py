"""Correlation: which alerts are one problem, and which alerts another one makes moot.

- Correlation rules (Keep style): alerts matching `matchers`, grouped by `group_by` values,
  within `window`, make one incident once `min_count` of them fire.
- Inhibition rules (Alertmanager style): a firing alert matching `source` mutes alerts
  matching `target` that carry the same values of the `equal` labels.
- Without a rule, an alert joins an open incident of its group key, else one whose service is
  near in the service graph or whose labels are similar enough.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from orchestrix.domain.alerting.matchers import Matcher

# Labels that differ between alerts of one problem by nature: not evidence of (dis)similarity.
VOLATILE_LABELS = frozenset({"alertname", "severity", "instance", "pod", "job", "le"})


def _match_all(matchers: tuple[Matcher, ...], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


@dataclass(frozen=True)
class CorrelationRule:
    name: str
    matchers: tuple[Matcher, ...]
    group_by: tuple[str, ...] = ()
    window: timedelta = timedelta(minutes=10)
    min_count: int = 1

    def applies(self, labels: Mapping[str, str]) -> bool:
        return _match_all(self.matchers, labels)

    def group_values(self, labels: Mapping[str, str]) -> dict[str, str]:
        return {name: labels.get(name, "") for name in self.group_by}

    def group_key(self, labels: Mapping[str, str]) -> str:
        values = ",".join(f"{k}={v}" for k, v in self.group_values(labels).items())
        return f"rule:{self.name}:{values}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "matchers": [str(m) for m in self.matchers],
            "group_by": list(self.group_by),
            "window_seconds": int(self.window.total_seconds()),
            "min_count": self.min_count,
        }


@dataclass(frozen=True)
class InhibitionRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()

    def inhibits(self, source: Mapping[str, str], target: Mapping[str, str]) -> bool:
        """Alertmanager's rule: target and source match their matchers and agree on every
        `equal` label (absent counts as equal-to-empty)."""
        return (
            _match_all(self.target, target)
            and _match_all(self.source, source)
            and all(source.get(n, "") == target.get(n, "") for n in self.equal)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source_matchers": [str(m) for m in self.source],
            "target_matchers": [str(m) for m in self.target],
            "equal": list(self.equal),
        }


@dataclass(frozen=True)
class CorrelationSettings:
    rules: tuple[CorrelationRule, ...] = ()
    inhibit_rules: tuple[InhibitionRule, ...] = ()
    # Join an open incident whose labels are at least this similar (Jaccard, see below).
    similarity: float = 0.6
    # Join an open incident of a service at most this many dependency hops away (0: off).
    topology_hops: int = 1
    # How far back root cause looks for earlier alerts and changes.
    lookback: timedelta = timedelta(minutes=60)
    # PromQL giving each service's error rate (a `service` label): spikes become evidence.
    error_query: str | None = None

    def rule_for(self, labels: Mapping[str, str]) -> CorrelationRule | None:
        return next((r for r in self.rules if r.applies(labels)), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rules": [r.as_dict() for r in self.rules],
            "inhibit_rules": [r.as_dict() for r in self.inhibit_rules],
            "similarity": self.similarity,
            "topology_hops": self.topology_hops,
            "lookback_seconds": int(self.lookback.total_seconds()),
            "error_query": self.error_query,
        }


def label_similarity(a: Mapping[str, str], b: Mapping[str, str]) -> float:
    """Jaccard similarity of the (name, value) pairs, volatile labels left out."""
    left = {(k, v) for k, v in a.items() if k not in VOLATILE_LABELS and v}
    right = {(k, v) for k, v in b.items() if k not in VOLATILE_LABELS and v}
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


@dataclass(frozen=True)
class OpenIncident:
    """What correlation needs to know about an open incident."""

    id: str
    service: str | None
    labels: dict[str, str] = field(default_factory=dict)
    alert_services: tuple[str, ...] = ()  # services of the alerts it holds

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys((*((self.service,) if self.service else ()), *self.alert_services))
        )


@dataclass(frozen=True)
class Affinity:
    incident_id: str
    reason: str
    rank: tuple[int, float]  # smaller is closer: (hops or 99, -similarity)


def closest_incident(
    labels: Mapping[str, str],
    candidates: list[OpenIncident],
    settings: CorrelationSettings,
    distance: Any,
) -> Affinity | None:
    """The open incident this alert belongs with by topology or label similarity, if any.
    `distance(a, b, max_hops) -> int | None` measures the service graph."""
    service = labels.get("service")
    best: Affinity | None = None
    for incident in candidates:
        hops, near = None, None
        if service and settings.topology_hops > 0:
            for other in incident.services:
                found = distance(service, other, settings.topology_hops)
                if found is not None and (hops is None or found < hops):
                    hops, near = found, other
        similarity = label_similarity(labels, incident.labels)
        if hops is not None:
            reason = (
                f"same service {service}"
                if hops == 0
                else f"{service} is {hops} hop(s) from {near} in the service graph"
            )
        elif similarity >= settings.similarity:
            reason = f"labels {similarity:.0%} similar"
        else:
            continue
        affinity = Affinity(incident.id, reason, (99 if hops is None else hops, -similarity))
        if best is None or affinity.rank < best.rank:
            best = affinity
    return best
