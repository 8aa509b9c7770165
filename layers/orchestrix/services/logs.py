"""Logs use cases: store a decoded batch, search lines, answer LogQL, retention.

The service checks who may do what (an ingestion key with `logs:write` writes, a user with
at least the viewer role reads) and hands the store the caller's tenant; it never takes a
tenant id from input. It sees the store only through the `LogStore` port.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from orchestrix.domain.errors import FieldError, ValidationFailed
from orchestrix.domain.identity import Principal, Role, Scope
from orchestrix.domain.logs import DAY_NS, FUTURE_GRACE_NS, Labels, LogBatch
from orchestrix.logql.evaluate import LogQLEvaluationError, SeriesResult, evaluate, steps
from orchestrix.logql.model import (
    Direction,
    IndexStats,
    LogHits,
    LogPosition,
    LogQueryTimeout,
    LogSearch,
    LogSelector,
    StreamTimes,
)
from orchestrix.logql.parse import LogQLError, MetricExpr, Query, parse
from orchestrix.ports.clock import Clock
from orchestrix.ports.log_store import LogStore

MAX_LIMIT = 5000  # lines per page or per Loki query (Loki's max_entries_limit_per_query)
# A live tail holds the request open at most this long: under API Gateway's 29 s and the
# function's timeout, with room to answer. The client polls again with `next_cursor`.
MAX_WAIT_S = 20.0
POLL_S = 1.0


class LogQueryError(ValidationFailed):
    """A query or parameter that cannot be answered; names the parameter."""

    status = 400
    title = "Bad Request"

    @classmethod
    def at(cls, parameter: str, msg: str) -> LogQueryError:
        return cls([FieldError(("query", parameter), msg)])


@dataclass(frozen=True)
class StreamsResult:
    hits: LogHits


@dataclass(frozen=True)
class MatrixResult:
    series: list[SeriesResult]
    instant: bool = False


def _tail_page(hits: LogHits, after: LogPosition | None, start_ns: int) -> LogHits:
    """A tail always continues: past its last line, or where it stood (nothing new yet)."""
    if hits.next_position is not None:
        return hits
    if hits.records:
        last = hits.records[-1]
        return LogHits(hits.records, LogPosition(last.ts, last.id))
    return LogHits([], after or LogPosition(start_ns - 1, 2**63 - 1))


def parse_query(text: str, parameter: str = "query") -> Query:
    try:
        return parse(text)
    except LogQLError as exc:
        raise LogQueryError.at(parameter, str(exc)) from None


def _relabelled(hits: LogHits, selector: LogSelector) -> LogHits:
    """The lines under their labels after `| drop`."""
    if not selector.drops:
        return hits
    records = [replace(r, labels=selector.relabel(r.labels)) for r in hits.records]
    return replace(hits, records=records)


def _selector(text: str, parameter: str) -> LogSelector:
    """The streams a label or series call asks about: a log query's stream matchers (its line
    filters do not narrow streams, as in Loki); a metric query is refused."""
    parsed = parse_query(text, parameter)
    if not isinstance(parsed, LogSelector):
        raise LogQueryError.at(parameter, 'must be a stream selector such as {app="api"}')
    return LogSelector(parsed.matchers)


class LogService:
    def __init__(
        self,
        store: LogStore,
        clock: Clock,
        *,
        retention_days: int = 7,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._clock = clock
        self._retention_days = retention_days
        self._sleep = sleep
        self._monotonic = monotonic

    def now_ns(self) -> int:
        return int(self._clock.now().timestamp() * 1_000_000) * 1000

    def ingest_bounds(self) -> tuple[int, int]:
        """Timestamps a line may carry: within retention, at most 10 minutes ahead."""
        now = self.now_ns()
        return now - self._retention_days * DAY_NS, now + FUTURE_GRACE_NS

    # -- writing ------------------------------------------------------------------------------
    def write(self, principal: Principal, batch: LogBatch) -> int:
        principal.require_scope(Scope.LOGS_WRITE)
        return self._store.write(principal.tenant_id, batch)

    def drop_expired(self) -> list[str]:
        """Housekeeping: drop the days older than the retention period, for every tenant."""
        return self._store.drop_older_than(self.now_ns() - self._retention_days * DAY_NS)

    # -- reading ------------------------------------------------------------------------------
    def _tenant(self, principal: Principal) -> str:
        principal.require_role(Role.VIEWER)
        return principal.tenant_id

    def search(
        self,
        principal: Principal,
        selector: LogSelector,
        start_ns: int,
        end_ns: int | None,
        *,
        limit: int,
        direction: Direction = "backward",
        after: LogPosition | None = None,
        wait_s: float = 0.0,
    ) -> LogHits:
        """A page of lines. With `wait_s` (a live tail, forward only), an empty page waits
        up to that long for new lines; `end` then follows the clock."""
        tenant = self._tenant(principal)
        if not 1 <= limit <= MAX_LIMIT:
            raise LogQueryError.at("limit", f"must be between 1 and {MAX_LIMIT}")
        wait_s = min(max(wait_s, 0.0), MAX_WAIT_S)
        deadline = self._monotonic() + wait_s
        while True:
            end = end_ns if end_ns is not None else self.now_ns() + FUTURE_GRACE_NS
            if end <= start_ns:
                raise LogQueryError.at("end", "must be after start")
            search = LogSearch(selector, start_ns, end, limit, direction, after)
            hits = _relabelled(self._store.search(tenant, search), selector)
            if wait_s <= 0:
                return hits
            if hits.records or self._monotonic() >= deadline:
                return _tail_page(hits, after, start_ns)
            self._sleep(POLL_S)

    def query(
        self,
        principal: Principal,
        text: str,
        start_ns: int,
        end_ns: int,
        *,
        step_ns: int,
        limit: int,
        direction: Direction,
        instant: bool = False,
    ) -> StreamsResult | MatrixResult:
        """A LogQL query over [start, end] (Loki's query_range), or at `end` if `instant`."""
        query = parse_query(text)
        if isinstance(query, LogSelector):
            if instant:
                raise LogQueryError.at(
                    "query", "log queries are not supported as an instant query type"
                )
            hits = self.search(principal, query, start_ns, end_ns, limit=limit, direction=direction)
            return StreamsResult(hits)
        tenant = self._tenant(principal)
        try:
            at = [end_ns] if instant else steps(start_ns, end_ns, step_ns)
        except ValueError as exc:
            raise LogQueryError.at("step", str(exc)) from None
        try:
            return MatrixResult(self._evaluate(tenant, query, at), instant)
        except LogQLEvaluationError as exc:
            raise LogQueryError.at("query", str(exc)) from None

    def _evaluate(
        self, tenant: str, query: MetricExpr, at: list[int], timeout_s: float | None = None
    ) -> list[SeriesResult]:
        deadline = None if timeout_s is None else self._monotonic() + timeout_s

        def fetch(selector: LogSelector, start: int, end: int) -> list[StreamTimes]:
            if deadline is None:
                return self._store.timestamps(tenant, selector, start, end)
            left = deadline - self._monotonic()
            if left <= 0:
                assert timeout_s is not None
                raise LogQueryTimeout(timeout_s)
            return self._store.timestamps(tenant, selector, start, end, timeout_s=left)

        try:
            return evaluate(query, at, fetch)
        except LogQueryTimeout:
            assert timeout_s is not None
            raise LogQueryTimeout(timeout_s) from None  # the whole query's limit, not the rest

    def evaluate_for_rule(
        self, tenant_id: str, query: MetricExpr, at_ns: int, timeout_s: float | None = None
    ) -> list[SeriesResult]:
        """A log rule's expression at one instant (the rule engine already scoped the
        tenant), within `timeout_s` if given (`LogQueryTimeout` otherwise)."""
        return self._evaluate(tenant_id, query, [at_ns], timeout_s)

    def label_names(
        self, principal: Principal, start_ns: int, end_ns: int, query: str | None = None
    ) -> list[str]:
        tenant = self._tenant(principal)
        selector = _selector(query, "query") if query else None
        return self._store.label_names(tenant, start_ns, end_ns, selector)

    def label_values(
        self, principal: Principal, name: str, start_ns: int, end_ns: int, query: str | None
    ) -> list[str]:
        tenant = self._tenant(principal)
        selector = _selector(query, "query") if query else None
        return self._store.label_values(tenant, name, start_ns, end_ns, selector)

    def series(
        self, principal: Principal, matches: list[str], start_ns: int, end_ns: int
    ) -> list[Labels]:
        """The streams (label sets) with a line in the range that any `match[]` selects."""
        tenant = self._tenant(principal)
        if not matches:
            raise LogQueryError.at("match[]", "at least one stream selector is required")
        selectors = [_selector(m, "match[]") for m in matches]
        return self._store.series(tenant, selectors, start_ns, end_ns)

    def index_stats(
        self, principal: Principal, query: str, start_ns: int, end_ns: int
    ) -> IndexStats:
        """Streams, (stream, day) chunks, lines and bytes a query's selector resolves to; a
        log query's line filters are not applied (Loki's index statistics ignore them)."""
        tenant = self._tenant(principal)
        return self._store.index_stats(tenant, _selector(query, "query"), start_ns, end_ns)
