"""Trace use cases: ingest spans (and the RED metrics they imply), read traces back, search
them, draw the service map, apply retention.

Who may do what: an ingestion key with `traces:write` writes; a user with at least the
viewer role reads. The tenant always comes from the principal.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrix.domain import span_metrics
from orchestrix.domain.errors import NotFound, ValidationFailed
from orchestrix.domain.identity import Principal, Role, Scope
from orchestrix.domain.pagination import Page
from orchestrix.domain.traces import ServiceEdge, Span, TraceSearch, TraceSummary
from orchestrix.ports.clock import Clock
from orchestrix.ports.trace_store import DerivedSeries, SearchCursor, TraceStore

NS_PER_MS = 1_000_000
DAY_NS = 86_400_000_000_000
# A span may start at most this far ahead of our clock (senders' clocks drift a little).
MAX_FUTURE_NS = 10 * 60 * 1_000_000_000
DEFAULT_RETENTION_DAYS = 7
# The widest range one search or service map may cover: bounded work per request.
MAX_RANGE_NS = 31 * DAY_NS


def parse_trace_id(text: str, loc: tuple[str | int, ...] = ("path", "trace_id")) -> bytes:
    """A trace id as 32 hex digits (shorter ones are left-padded with zeros, as Tempo does)."""
    cleaned = text.strip().lower()
    if not cleaned or len(cleaned) > 32 or any(c not in "0123456789abcdef" for c in cleaned):
        raise ValidationFailed.single(loc, "must be a trace id of up to 32 hex digits")
    return bytes.fromhex(cleaned.rjust(32, "0"))


def _encode_cursor(summary: TraceSummary) -> str:
    raw = json.dumps([summary.matched_start_ns, summary.trace_id.hex()]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(token: str) -> SearchCursor:
    try:
        start, trace = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return SearchCursor(int(start), bytes.fromhex(trace))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed.single(("query", "cursor"), "is not a valid cursor") from exc


@dataclass(frozen=True, slots=True)
class ServiceNode:
    service: str
    requests_in: int
    errors_in: int
    requests_out: int


@dataclass(frozen=True, slots=True)
class ServiceMap:
    nodes: list[ServiceNode]
    edges: list[ServiceEdge]


class TraceService:
    def __init__(
        self,
        store: TraceStore,
        derived: DerivedSeries,
        clock: Clock,
        *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> None:
        self._store = store
        self._derived = derived
        self._clock = clock
        self.retention_days = retention_days

    def _now_ns(self) -> int:
        return int(self._clock.now().timestamp() * 1_000_000) * 1000

    def accepted_starts(self) -> tuple[int, int]:
        """The range (ns, inclusive) a span's start may take: within retention, not ahead."""
        now = self._now_ns()
        return now - self.retention_days * DAY_NS, now + MAX_FUTURE_NS

    def ingest(self, principal: Principal, spans: Sequence[Span]) -> int:
        """Store a validated batch for the caller's tenant; how many spans were new."""
        principal.require_scope(Scope.TRACES_WRITE)
        now_ms = self._now_ns() // NS_PER_MS
        written = self._store.write(principal.tenant_id, spans, span_metrics.increments, now_ms)
        # The totals are committed with the spans; should this write fail, the next batch's
        # samples carry them (counters are cumulative), so nothing is lost, only late.
        if written.counters:
            self._derived.write(principal.tenant_id, written.counters)
        return written.stored

    def trace(self, principal: Principal, trace_id: bytes) -> list[Span]:
        principal.require_role(Role.VIEWER)
        spans = self._store.trace(principal.tenant_id, trace_id)
        if not spans:
            raise NotFound("trace", trace_id.hex())
        return spans

    def default_range(self, start_ns: int | None, end_ns: int | None) -> tuple[int, int]:
        """[start, end) with an hour before now as the default, checked for sense."""
        end = self._now_ns() + MAX_FUTURE_NS if end_ns is None else end_ns
        start = end - 3600 * 1_000_000_000 if start_ns is None else start_ns
        if start >= end:
            raise ValidationFailed.single(("query", "end"), "must be after start")
        if end - start > MAX_RANGE_NS:
            raise ValidationFailed.single(("query", "start"), "the range may span at most 31 days")
        return start, end

    def search(
        self, principal: Principal, search: TraceSearch, limit: int, cursor: str | None
    ) -> Page[TraceSummary]:
        principal.require_role(Role.VIEWER)
        after = None if cursor is None else _decode_cursor(cursor)
        found = self._store.search(principal.tenant_id, search, limit + 1, after)
        more = len(found) > limit
        items = found[:limit]
        return Page(items, _encode_cursor(items[-1]) if more and items else None)

    def service_map(self, principal: Principal, start_ns: int, end_ns: int) -> ServiceMap:
        principal.require_role(Role.VIEWER)
        edges = self._store.service_edges(principal.tenant_id, start_ns, end_ns)
        services = sorted({e.client for e in edges} | {e.server for e in edges})
        nodes = [
            ServiceNode(
                service=name,
                requests_in=sum(e.requests for e in edges if e.server == name),
                errors_in=sum(e.errors for e in edges if e.server == name),
                requests_out=sum(e.requests for e in edges if e.client == name),
            )
            for name in services
        ]
        return ServiceMap(nodes, edges)

    def tag_values(self, principal: Principal, tag: str, start_ns: int, end_ns: int) -> list[str]:
        principal.require_role(Role.VIEWER)
        return self._store.tag_values(principal.tenant_id, tag, start_ns, end_ns)

    def drop_expired(self) -> list[str]:
        """Retention (housekeeping): drop the span days older than the retention period."""
        return self._store.drop_days_before(self._now_ns() - self.retention_days * DAY_NS)
