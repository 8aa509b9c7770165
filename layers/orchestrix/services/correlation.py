"""Where a firing alert goes: which incident (group key) it belongs to, or none yet.

Consulted by alert intake inside its transaction. In order: an inhibited alert joins the
incident of the alert inhibiting it (or waits, muted, if that one opened none); an alert
matching a correlation rule groups by the rule and waits until `min_count` alerts of its
group fire within the window; any other alert joins the open incident of its group key, else
the open incident nearest to it in the service graph or by labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrix.domain.incidents import AlertSnapshot, IncidentSettings
from orchestrix.domain.intelligence.correlation import CorrelationRule, closest_incident
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.intelligence_stores import FiringAlert, IntelligenceStores


@dataclass(frozen=True)
class Placement:
    group_key: str
    window: timedelta
    join_id: str | None = None  # join this open incident (topology, similarity, inhibition)
    reason: str = "same group"
    hold: bool = False  # no incident (yet): inhibited, or the rule's count not reached
    related: tuple[AlertSnapshot, ...] = ()  # alerts of the rule's group that open it with it
    inhibited: bool = False


def place(
    stores: IntelligenceStores | None,
    uow: UnitOfWork,
    alert: AlertSnapshot,
    settings: IncidentSettings,
    now: datetime,
) -> Placement:
    """Where the alert goes. Reads without locking: intake then takes the group's lock and
    the incident's row in the same order as ever, so correlation adds no lock to wait on."""
    default = Placement(settings.group_key(alert.labels), settings.window)
    if stores is None:
        return default
    config = stores.correlation(uow).get()
    reader = stores.signals(uow)
    grouping = config.rule_for(alert.labels)
    # Reading every open alert costs a query: only inhibition and count rules need them.
    needs_firing = config.inhibit_rules or (grouping is not None and grouping.min_count > 1)
    firing = [f for f in reader.firing() if f.alert.id != alert.id] if needs_firing else []
    for rule in config.inhibit_rules:
        source = next((f for f in firing if rule.inhibits(f.alert.labels, alert.labels)), None)
        if source is not None:
            reason = f"inhibited by alert {source.alert.id}"
            return Placement(
                default.group_key,
                default.window,
                join_id=source.incident_id,
                reason=reason,
                hold=source.incident_id is None,
                inhibited=True,
            )
    if grouping is not None:
        return _by_rule(grouping, alert, firing, reader.has_open_group, now)
    if reader.has_open_group(default.group_key, now - settings.window):
        return default
    graph = stores.graph(uow)
    near = closest_incident(
        alert.labels, reader.open_incidents(now - settings.window), config, graph.distance
    )
    if near is None:
        return default
    return Placement(
        default.group_key, default.window, join_id=near.incident_id, reason=near.reason
    )


def _by_rule(
    rule: CorrelationRule,
    alert: AlertSnapshot,
    firing: list[FiringAlert],
    has_open_group: Callable[[str, datetime], bool],
    now: datetime,
) -> Placement:
    key = rule.group_key(alert.labels)
    reason = f"correlation rule {rule.name}"
    if rule.min_count <= 1 or has_open_group(key, now - rule.window):
        return Placement(key, rule.window, reason=reason)
    values = rule.group_values(alert.labels)
    peers = tuple(
        f.alert
        for f in firing
        if rule.applies(f.alert.labels)
        and rule.group_values(f.alert.labels) == values
        and f.starts_at >= now - rule.window
    )
    if len(peers) + 1 < rule.min_count:
        reason = f"{reason}: {len(peers) + 1} of {rule.min_count} alerts"
        return Placement(key, rule.window, reason=reason, hold=True)
    return Placement(key, rule.window, reason=reason, related=peers)
