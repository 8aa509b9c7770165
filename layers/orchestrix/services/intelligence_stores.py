"""The ports correlation, root cause and analysis need, reached from a unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from orchestrix.domain.incidents import AlertSnapshot
from orchestrix.domain.intelligence.correlation import CorrelationSettings, OpenIncident
from orchestrix.domain.intelligence.evidence import Change, Signal
from orchestrix.domain.intelligence.topology import Service, ServiceGraph
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class FiringAlert:
    alert: AlertSnapshot
    starts_at: datetime
    incident_id: str | None  # the open incident it is linked to, if any


@dataclass(frozen=True)
class StoredAnalysis:
    incident_id: str
    analyser: str  # "offline" | "bedrock"
    model_id: str | None
    summary: str
    claims: list[dict[str, Any]]
    dropped: list[dict[str, Any]]
    candidates: list[dict[str, Any]]
    note: str | None
    input_tokens: int
    output_tokens: int
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Usage:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class ServiceRepository(Protocol):
    def all(self) -> list[Service]: ...

    def get(self, name: str) -> Service | None: ...

    def put(self, service: Service, at: datetime) -> None: ...

    def delete(self, name: str) -> bool: ...


class CorrelationSettingsRepository(Protocol):
    def get(self) -> CorrelationSettings: ...

    def save(self, settings: CorrelationSettings, at: datetime) -> None: ...


class ChangeRepository(Protocol):
    def add(self, change: Change, created_by: str, at: datetime) -> Change:
        """Store it; the change already stored under the same (source, external_id) if any."""
        ...

    def get(self, change_id: str) -> Change | None: ...

    def search(self, page: PageRequest, service: str | None) -> Page[Change]: ...

    def between(self, start: datetime, end: datetime) -> list[Change]: ...


class SignalReader(Protocol):
    """Alerts as correlation and root cause see them."""

    def firing(self) -> list[FiringAlert]: ...

    def open_incidents(self, since: datetime) -> list[OpenIncident]: ...

    def has_open_group(self, group_key: str, since: datetime) -> bool:
        """An open incident of that group key had an alert since then (no row locked)."""
        ...

    def signals(self, start: datetime, end: datetime, incident_id: str) -> list[Signal]:
        """Alerts active any time in [start, end]; `linked` marks the incident's own."""
        ...


class AnalysisRepository(Protocol):
    def get(self, incident_id: str) -> StoredAnalysis | None: ...

    def save(self, analysis: StoredAnalysis) -> None: ...


class UsageRepository(Protocol):
    """A tenant's model usage per UTC day (services/model_allowance.py)."""

    def on(self, day: date) -> Usage: ...

    def reserve(self, day: date, held: Usage, max_tokens: int, max_cost_usd: float) -> bool:
        """Hold `held` against the day if spent + held so far + it stays within both
        limits (atomically: concurrent callers queue on the day's row); a refusal is
        counted. True if held."""
        ...

    def settle(self, day: date, held: Usage, used: Usage) -> None:
        """Release a reservation and count what the call really used."""
        ...


UsageRepositoryFactory = Callable[[UnitOfWork], UsageRepository]


@dataclass(frozen=True)
class IntelligenceStores:
    services: Callable[[UnitOfWork], ServiceRepository]
    correlation: Callable[[UnitOfWork], CorrelationSettingsRepository]
    changes: Callable[[UnitOfWork], ChangeRepository]
    signals: Callable[[UnitOfWork], SignalReader]
    analyses: Callable[[UnitOfWork], AnalysisRepository]
    usage: UsageRepositoryFactory
    # Service edges observed in traces, merged with the declared ones.
    observed_graph: Callable[[UnitOfWork], ServiceGraph] | None = field(default=None)

    def graph(self, uow: UnitOfWork) -> ServiceGraph:
        declared = ServiceGraph.of(self.services(uow).all())
        return declared.merged(self.observed_graph(uow)) if self.observed_graph else declared
