"""Root cause ranking: which service (and which change to it) most likely started it.

A fault travels from a service to the services that depend on it, so the cause is the
service whose trouble began first and explains the most of what the incident's services
show. For every service in the incident's upstream closure (the services its own depend on,
directly or not) with a signal or a recent change:

- first sign: its earliest alert, or the change to it that came shortly before trouble;
- coverage: the share of troubled services it explains (it is upstream of them, or them,
  and its first sign came no later than theirs, give or take the detection tolerance);
- a change shortly before its first trouble adds weight, decaying with the gap;
- an upstream of its own already in trouble before it makes it a likely symptom.

The ranking is deterministic (ties broken by time, then name), so the same evidence always
gives the same answer — the offline analyser and the tests rely on it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orchestrix.domain.intelligence.evidence import Change, Signal
from orchestrix.domain.intelligence.topology import ServiceGraph

# Detection is not instant: an upstream alert may fire this much after a downstream one.
DETECTION_TOLERANCE = timedelta(seconds=90)
# A change counts for trouble starting within this long after it...
CHANGE_WINDOW = timedelta(minutes=30)
# ... weighing exp(-gap / CHANGE_DECAY), and at half weight if it landed just after.
CHANGE_DECAY = timedelta(minutes=10)
CHANGE_AFTER = timedelta(minutes=2)
MAX_HOPS = 6
# A fault reaches the services that depend on it within minutes: trouble that began much
# later than a service's own is not explained by it.
PROPAGATION = timedelta(minutes=10)
COVERAGE_WEIGHT = 2.0
SILENT_CHANGE_FACTOR = 0.75
HIDDEN_PENALTY = 0.15
SIGN_BONUS = 0.2  # the service raised something itself
ERROR_BONUS = 0.3  # ... and it was errors
SYMPTOM_PENALTY = 0.6  # an upstream of its own was in trouble first


@dataclass(frozen=True)
class Candidate:
    service: str
    cause_id: str  # the change or the earliest signal that names the cause
    kind: str  # "change" | "anomaly" | "error" | "alert"
    score: float
    first_sign_at: datetime
    evidence_ids: tuple[str, ...]
    reason: str

    def as_dict(self, rank: int) -> dict[str, Any]:
        return {
            "rank": rank,
            "service": self.service,
            "cause_id": self.cause_id,
            "kind": self.kind,
            "score": round(self.score, 3),
            "first_sign_at": self.first_sign_at.isoformat(),
            "evidence_ids": list(self.evidence_ids),
            "reason": self.reason,
        }


def scope(graph: ServiceGraph, affected: Iterable[str]) -> dict[str, int]:
    """The affected services and everything upstream of them, with hop counts."""
    hops: dict[str, int] = {}
    for service in affected:
        for name, hop in graph.upstream(service, MAX_HOPS).items():
            hops[name] = min(hop, hops.get(name, hop))
    return hops


def rank_causes(
    graph: ServiceGraph,
    affected: Iterable[str],
    signals: list[Signal],
    changes: list[Change],
    limit: int = 5,
) -> list[Candidate]:
    """Candidates, most likely first. `affected`: the incident's services."""
    within = scope(graph, affected)
    onset: dict[str, Signal] = {}
    errors: dict[str, list[Signal]] = {}
    linked_starts = [s.started_at for s in signals if s.linked]
    start = (
        min(linked_starts) if linked_starts else min((s.started_at for s in signals), default=None)
    )
    for s in sorted(signals, key=lambda s: (s.started_at, s.id)):
        if s.service is None or s.service not in within or start is None:
            continue
        # Trouble that was over before the incident's began, or long before it, is another
        # story (a flapping alert, yesterday's outage).
        if (s.ended_at and s.ended_at < start) or s.started_at < start - CHANGE_WINDOW:
            continue
        onset.setdefault(s.service, s)
        if s.kind == "error":
            errors.setdefault(s.service, []).append(s)
    if not onset:
        return []
    upstream = {name: graph.upstream(name, MAX_HOPS) for name in within}
    troubled = sorted(onset)
    by_service: dict[str, list[Change]] = {}
    for c in sorted(changes, key=lambda c: (c.at, c.id)):
        if c.service in within:
            by_service.setdefault(c.service, []).append(c)

    trouble = _Trouble(graph, onset, errors, upstream, troubled)
    found: list[Candidate] = []
    for service in sorted(within):
        candidate = trouble.candidate(service, by_service.get(service, []))
        if candidate is not None:
            found.append(candidate)
    found.sort(key=lambda c: (-c.score, c.first_sign_at, c.service))
    return found[:limit]


@dataclass(frozen=True)
class _Trouble:
    """What the incident's services show: each troubled service's first signal, the error
    signals, and who is upstream of whom."""

    graph: ServiceGraph
    onset: dict[str, Signal]
    errors: dict[str, list[Signal]]
    upstream: dict[str, dict[str, int]]
    troubled: list[str]

    def candidate(self, service: str, changes: list[Change]) -> Candidate | None:
        onset, upstream = self.onset, self.upstream
        sign = onset.get(service)
        # Trouble this service could have caused: its own, else its earliest dependent's.
        dependents = [a for a in self.troubled if service in upstream[a] and a != service]
        ref = (
            sign.started_at
            if sign
            else min((onset[a].started_at for a in dependents), default=None)
        )
        if ref is None:
            return None
        change, weight = _closest_change(changes, ref)
        if sign is None and change is None:
            return _hidden_cause(self.graph, service, dependents, len(self.troubled), ref, onset)
        first: datetime = min(
            x.at if isinstance(x, Change) else x.started_at for x in (sign, change) if x
        )
        explained = [
            a
            for a in self.troubled
            if service in upstream[a]
            and first <= onset[a].started_at + DETECTION_TOLERANCE
            and onset[a].started_at - ref <= PROPAGATION
        ]
        # Symptom test on the service's own trouble: a change to a service whose upstream was
        # already failing did not start this.
        own = sign.started_at if sign else first
        earlier_upstream = [
            d
            for d in upstream[service]
            if d != service and d in onset and onset[d].started_at + DETECTION_TOLERANCE < own
        ]
        # Explaining everything weighs most; a change to a service that shows no trouble of
        # its own is weaker evidence than one to a service that does.
        score = COVERAGE_WEIGHT * len(explained) / len(self.troubled)
        score += weight * (1.0 if sign else SILENT_CHANGE_FACTOR)
        score += SIGN_BONUS if sign else 0.0
        score += ERROR_BONUS if service in self.errors else 0.0
        score -= SYMPTOM_PENALTY if earlier_upstream else 0.0
        evidence = [change.id] if change else []
        evidence += [sign.id] if sign else []
        own_errors = self.errors.get(service, [])[:2]
        evidence += [e.id for e in own_errors if not sign or e.id != sign.id]
        evidence += [onset[a].id for a in explained if a != service][:3]
        cause = change or sign
        assert cause is not None
        return Candidate(
            service=service,
            cause_id=cause.id,
            kind="change" if change else cause.kind,
            score=score,
            first_sign_at=first,
            evidence_ids=tuple(dict.fromkeys(evidence)),
            reason=_reason(service, sign, change, explained, earlier_upstream, self.errors),
        )


def _hidden_cause(
    graph: ServiceGraph,
    service: str,
    dependents: list[str],
    troubled: int,
    ref: datetime,
    onset: dict[str, Signal],
) -> Candidate | None:
    """A service that raised nothing and changed nothing, but that several troubled services
    share as an upstream: a silent root cause. Weighed by how much of the trouble it spans
    and how few of its dependents stayed healthy, below any cause with evidence of its own."""
    if len(dependents) < 2:
        return None
    everyone = [n for n in graph.downstream(service, MAX_HOPS) if n != service]
    specificity = len(dependents) / max(len(everyone), 1)
    score = COVERAGE_WEIGHT * len(dependents) / troubled * specificity - HIDDEN_PENALTY
    earliest = min(dependents, key=lambda a: (onset[a].started_at, a))
    return Candidate(
        service=service,
        cause_id=onset[earliest].id,
        kind="inferred",
        score=score,
        first_sign_at=ref,
        evidence_ids=tuple(onset[a].id for a in sorted(dependents))[:4],
        reason=f"{service} raised no alert and had no change, but is upstream of troubled "
        + ", ".join(sorted(dependents))
        + f" ({specificity:.0%} of its dependents)",
    )


def _closest_change(changes: list[Change], ref: datetime) -> tuple[Change | None, float]:
    """The change most likely behind trouble that began at `ref`, and its weight."""
    best: tuple[Change | None, float] = (None, 0.0)
    for c in changes:
        gap = ref - c.at
        if gap > CHANGE_WINDOW or gap < -CHANGE_AFTER:
            continue
        weight = math.exp(-max(gap, timedelta(0)) / CHANGE_DECAY) * (
            0.5 if gap < timedelta(0) else 1.0
        )
        if weight > best[1]:
            best = (c, weight)
    return best


def _reason(
    service: str,
    sign: Signal | None,
    change: Change | None,
    explained: list[str],
    earlier_upstream: list[str],
    errors: dict[str, list[Signal]],
) -> str:
    parts: list[str] = []
    if change:
        parts.append(f"{change.kind} {change.title!r} to {service} at {change.at:%H:%M:%S}")
    if sign:
        parts.append(f"first {sign.kind} on {service} ({sign.name}) at {sign.started_at:%H:%M:%S}")
    else:
        parts.append(f"{service} raised no alert itself")
    others = [a for a in explained if a != service]
    if others:
        parts.append("upstream of troubled " + ", ".join(others))
    if service in errors:
        parts.append("error spike")
    if earlier_upstream:
        parts.append("but " + ", ".join(earlier_upstream) + " (upstream) was in trouble earlier")
    return "; ".join(parts)
