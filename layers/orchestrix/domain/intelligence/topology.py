"""The service graph: which service calls (depends on) which.

Edges come from declared dependencies (`/api/v1/services`). Traces will add observed edges:
`ServiceGraph.merged` is the hook, so correlation and root cause read one graph whatever its
sources.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class Service:
    name: str
    depends_on: tuple[str, ...] = ()
    description: str = ""
    team_id: str | None = None


@dataclass(frozen=True)
class ServiceGraph:
    """service -> the services it depends on (its upstreams: a fault travels from them)."""

    edges: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, services: Iterable[Service]) -> ServiceGraph:
        return cls({s.name: tuple(s.depends_on) for s in services})

    def merged(self, other: ServiceGraph) -> ServiceGraph:
        """Both graphs' edges (declared + observed from traces)."""
        names = set(self.edges) | set(other.edges)
        return ServiceGraph(
            {
                n: tuple(dict.fromkeys((*self.edges.get(n, ()), *other.edges.get(n, ()))))
                for n in names
            }
        )

    def dependencies(self, service: str) -> tuple[str, ...]:
        return self.edges.get(service, ())

    def dependents(self, service: str) -> tuple[str, ...]:
        return self._callers.get(service, ())

    @cached_property
    def _callers(self) -> dict[str, tuple[str, ...]]:
        callers: dict[str, list[str]] = {}
        for name, deps in sorted(self.edges.items()):
            for dep in deps:
                callers.setdefault(dep, []).append(name)
        return {dep: tuple(names) for dep, names in callers.items()}

    def downstream(self, service: str, max_hops: int = 6) -> dict[str, int]:
        """Every service that depends on `service`, directly or not (itself at 0)."""
        return self._walk(service, max_hops, self.dependents)

    def upstream(self, service: str, max_hops: int = 6) -> dict[str, int]:
        """Every service `service` depends on, directly or not, with its hop count
        (the service itself at 0)."""
        return self._walk(service, max_hops, self.dependencies)

    def distance(self, a: str, b: str, max_hops: int) -> int | None:
        """Hops between two services along edges in either direction; None beyond max_hops."""
        if a == b:
            return 0
        reach = self._walk(a, max_hops, lambda s: (*self.dependencies(s), *self.dependents(s)))
        return reach.get(b)

    @staticmethod
    def _walk(start: str, max_hops: int, step: object) -> dict[str, int]:
        assert callable(step)
        seen = {start: 0}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            if seen[current] >= max_hops:
                continue
            for nxt in step(current):
                if nxt not in seen:
                    seen[nxt] = seen[current] + 1
                    queue.append(nxt)
        return seen
