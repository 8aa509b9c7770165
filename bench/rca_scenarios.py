"""Injected-fault scenarios for root cause analysis, generated from a seed.

Each scenario is a small service graph (layers of front ends, APIs, back ends and data
stores, each calling one to three services below it), one fault injected into one service,
and what an operator's tooling would then see:

- the fault spreads to the services that depend on the faulty one (each edge carries it with
  probability 0.85, after 10-120 s);
- each troubled service is detected with probability 0.9 (the faulty one only 0.75: silent
  root causes happen), 0-120 s after its trouble began, as a threshold alert, an anomaly or
  an error-rate alert;
- half the faults follow a deployment or config change to the faulty service (30 s to 10 min
  before); the rest (resource exhaustion, a dependency outage) follow no change;
- noise: one to four unrelated changes anywhere in the previous hour (or just after), and up
  to two alerts on healthy services, some of them already resolved.

The generator knows the answer (`cause_service`, and `cause_change_id` when a change did it);
the ranking under test never sees it. Parameters are fixed here, not fitted per seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orchestrix.domain.intelligence.evidence import Change, Signal, SignalKind
from orchestrix.domain.intelligence.topology import Service, ServiceGraph

LAYERS = (
    ("web", "mobile-gw"),
    ("api", "orders", "search", "auth"),
    ("payments", "inventory", "catalog", "users"),
    ("postgres", "redis", "kafka"),
)
KINDS: tuple[SignalKind, ...] = ("alert", "anomaly", "error")
BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Scenario:
    seed: int
    services: tuple[Service, ...]
    signals: tuple[Signal, ...]
    changes: tuple[Change, ...]
    incident_service: str
    affected: tuple[str, ...]  # services of the incident's own (linked) alerts
    opened_at: datetime
    cause_service: str
    cause_change_id: str | None
    fault: str

    @property
    def graph(self) -> ServiceGraph:
        return ServiceGraph.of(self.services)


def _graph(rng: random.Random) -> list[Service]:
    layers = [
        rng.sample(layer, rng.randint(1 if i == 0 else 2, len(layer)))
        for i, layer in enumerate(LAYERS)
    ]
    services = []
    for i, layer in enumerate(layers):
        below = [s for deeper in layers[i + 1 :] for s in deeper]
        for name in layer:
            deps = rng.sample(below, min(len(below), rng.randint(1, 3))) if below else []
            services.append(Service(name, tuple(sorted(deps))))
    return services


def generate(seed: int) -> Scenario:
    rng = random.Random(seed)
    services = _graph(rng)
    graph = ServiceGraph.of(services)
    names = [s.name for s in services]
    root = rng.choice([n for n in names if graph.dependents(n)] or names)
    fault = rng.choice(("deployment", "config", "resource", "dependency_outage"))
    t_fault = BASE + timedelta(seconds=rng.randint(0, 3600))
    counter = iter(range(1, 1000))

    changes: list[Change] = []
    cause_change_id = None
    if fault in ("deployment", "config"):
        cause_change_id = f"chg_{seed}_{next(counter)}"
        changes.append(
            Change(
                cause_change_id,
                root,
                fault,
                f"{root} {fault}",  # type: ignore[arg-type]
                t_fault - timedelta(seconds=rng.randint(30, 600)),
                "scenario",
            )
        )

    trouble = {root: t_fault}
    frontier = [root]
    while frontier:
        current = frontier.pop(0)
        for dependent in sorted(graph.dependents(current)):
            if dependent in trouble or rng.random() > 0.85:
                continue
            trouble[dependent] = trouble[current] + timedelta(seconds=rng.randint(10, 120))
            frontier.append(dependent)

    signals: list[Signal] = []
    for name, began in sorted(trouble.items()):
        if rng.random() > (0.75 if name == root else 0.9):
            continue
        kind = rng.choice(KINDS)
        at = began + timedelta(seconds=rng.randint(0, 120))
        signals.append(
            Signal(
                f"alr_{seed}_{next(counter)}",
                name,
                f"{name}-{kind}",
                kind,
                at,
                "critical",
                {"service": name},
                linked=True,
            )
        )
    if not signals:  # nothing detected is no incident: detect the most downstream trouble
        last = max(trouble, key=lambda n: (trouble[n], n))
        signals.append(
            Signal(
                f"alr_{seed}_{next(counter)}",
                last,
                f"{last}-alert",
                "alert",
                trouble[last] + timedelta(seconds=60),
                "critical",
                {"service": last},
                linked=True,
            )
        )

    healthy = [n for n in names if n not in trouble]
    for _ in range(rng.randint(0, 2)):
        if not healthy:
            break
        name = rng.choice(healthy)
        at = t_fault + timedelta(seconds=rng.randint(-3600, 300))
        ended = at + timedelta(seconds=rng.randint(60, 900)) if rng.random() < 0.5 else None
        signals.append(
            Signal(
                f"alr_{seed}_{next(counter)}",
                name,
                f"{name}-noise",
                rng.choice(KINDS),
                at,
                "warning",
                {"service": name},
                ended_at=ended,
            )
        )
    for _ in range(rng.randint(1, 4)):
        name = rng.choice(names)
        at = t_fault + timedelta(seconds=rng.randint(-3600, 600))
        changes.append(
            Change(
                f"chg_{seed}_{next(counter)}",
                name,
                "deployment",
                f"{name} routine deploy",
                at,
                "scenario",
            )
        )

    linked = [s for s in signals if s.linked]
    opened = min(s.started_at for s in linked)
    top_layer = {n: i for i, layer in enumerate(LAYERS) for n in layer}
    incident_service = min(linked, key=lambda s: (top_layer[s.service or ""], s.started_at)).service
    return Scenario(
        seed=seed,
        services=tuple(services),
        signals=tuple(signals),
        changes=tuple(changes),
        incident_service=incident_service or root,
        affected=tuple(sorted({s.service for s in linked if s.service})),
        opened_at=opened,
        cause_service=root,
        cause_change_id=cause_change_id,
        fault=fault,
    )


def is_hit(scenario: Scenario, service: str, cause_id: str) -> bool:
    """Right service, and when a change did it, that change named as the cause."""
    if service != scenario.cause_service:
        return False
    return scenario.cause_change_id is None or cause_id == scenario.cause_change_id
