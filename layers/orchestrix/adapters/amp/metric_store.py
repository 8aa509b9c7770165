"""The scale-out metric store: series in an Amazon Managed Service for Prometheus workspace.

One workspace serves every tenant of a stage. Each series is written with the tenant label
`orchestrix_tenant="<tenant>"` (the writer sets it; a sender may not), and every read is
confined to it: PromQL is re-printed from the parsed tree with the tenant matcher in every
selector (`promql_text.confine`), `match[]` selectors of the listing calls likewise, and the
label is removed from everything that comes back. A label rather than a workspace per
tenant: workspaces are per-stage infrastructure with their own quotas and IAM resources,
while tenants come and go at run time through the API.

Metric metadata (TYPE/HELP/UNIT) stays in the stage's PostgreSQL store: AMP keeps it per
metric family for the whole workspace, with no labels, so it could not be kept apart per
tenant there.

Queries from the HTTP API are evaluated by the workspace (`instant`/`range`, the service's
`PromQLEvaluator`); rule evaluation runs our engine over `select`, which fetches raw samples
with one range-selector query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as url_quote

from orchestrix.adapters.amp.client import AmpClient, AmpRefusal
from orchestrix.adapters.amp.promql_text import confine, selector_text
from orchestrix.adapters.metrics.batch import DecodedBatch, MetricMetadata
from orchestrix.adapters.metrics.errors import InvalidSeriesError, MetricsIngestError
from orchestrix.adapters.metrics.remote_write import encode_write_request
from orchestrix.adapters.postgres.metric_store import PostgresMetricStore
from orchestrix.domain.errors import ServiceUnavailable
from orchestrix.domain.metrics_status import TsdbStats
from orchestrix.promql import (
    LabelMatcher,
    MatchOp,
    PromQLError,
    QueryResult,
    RangeSeries,
    Sample,
    Scalar,
    Series,
    String,
    ast,
)
from orchestrix.promql.values import Labels

TENANT_LABEL = "orchestrix_tenant"
# Samples per forwarded remote write request: Prometheus sends 500-2,000; a large import is
# split so no request nears the workspace's size limit.
FORWARD_SAMPLES = 10_000


class StoreRefusedError(MetricsIngestError):
    """The workspace refused a batch for good (out-of-order samples, its own limits)."""

    title = "Refused by the metric store"
    code = "refused-by-metric-store"


class RemoteQueryError(PromQLError):
    """An error the workspace answered a query with, under its own `errorType`."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclass(frozen=True, slots=True)
class AmpWriteResult:
    series: int
    samples: int


def seconds(ms: int) -> str:
    """Milliseconds as the API's decimal seconds, exactly (no float rounding)."""
    sign = "-" if ms < 0 else ""
    return f"{sign}{abs(ms) // 1000}.{abs(ms) % 1000:03d}"


def _labels(metric: Mapping[str, str], hidden: str) -> Labels:
    return tuple(sorted((k, v) for k, v in metric.items() if k != hidden))


def _ms(t: Any) -> int:
    return round(float(t) * 1000)


class AmpMetricStore:
    """Keep one per process: its readers share the client's connection pool."""

    def __init__(
        self,
        client: AmpClient,
        metadata: PostgresMetricStore,
        now_ms: Callable[[], int],
        *,
        tenant_label: str = TENANT_LABEL,
        select_timeout_s: float = 5.0,
    ) -> None:
        self.client = client
        self.metadata = metadata
        self.now_ms = now_ms
        self.tenant_label = tenant_label
        self.select_timeout_s = select_timeout_s

    # -- writing ----------------------------------------------------------------------------
    def write(self, tenant_id: str, batch: DecodedBatch) -> AmpWriteResult:
        if batch.values:
            # Every series is checked before anything is sent: a batch is refused whole.
            bodies = list(self._encode(tenant_id, batch))
            for body in bodies:
                self._client_write(body)
        if batch.metadata:
            self.metadata.write(tenant_id, DecodedBatch(metadata=list(batch.metadata)))
        return AmpWriteResult(len(batch.series), len(batch.values))

    def _encode(self, tenant_id: str, batch: DecodedBatch) -> Iterator[bytes]:
        """Remote write bodies of at most ~FORWARD_SAMPLES samples each (a large import
        must not exceed the workspace's request size); a batch sent again after a partial
        failure is harmless, as Prometheus ignores a sample it already holds."""
        tenant = (self.tenant_label, tenant_id)
        pending: list[tuple[Labels, list[tuple[int, float]]]] = []
        for index, key in enumerate(batch.series):
            if any(name == self.tenant_label for name, _ in key.labels):
                raise InvalidSeriesError(
                    f'series {index} ({key.metric_name}): label "{self.tenant_label}" is reserved '
                    "for the tenant the series is stored under; rename or drop it"
                ).at("series", index, "labels", self.tenant_label)
        count = 0
        for index, key in enumerate(batch.series):
            samples = batch.samples(index)
            pending.append(((*key.labels, tenant), samples))
            count += len(samples)
            if count >= FORWARD_SAMPLES:
                yield encode_write_request(pending)
                pending, count = [], 0
        if pending:
            yield encode_write_request(pending)

    def _client_write(self, body: bytes) -> None:
        try:
            self.client.remote_write(body)
        except AmpRefusal as exc:
            error = StoreRefusedError(f"the metric store refused the batch: {exc.message}")
            error.status = exc.status if 400 <= exc.status < 500 else 400
            raise error.at("body") from None

    # -- reading ----------------------------------------------------------------------------
    def reader(self, tenant_id: str) -> AmpMetricReader:
        return AmpMetricReader(self, tenant_id)

    def instant(
        self, tenant_id: str, tree: ast.Node, time_ms: int, timeout_s: float
    ) -> QueryResult:
        return self.reader(tenant_id).instant(tree, time_ms, timeout_s)

    def range(
        self,
        tenant_id: str,
        tree: ast.Node,
        start_ms: int,
        end_ms: int,
        step_ms: int,
        timeout_s: float,
    ) -> QueryResult:
        return self.reader(tenant_id).range(tree, start_ms, end_ms, step_ms, timeout_s)


class AmpMetricReader:
    """One tenant's view of the workspace: the engine's `Queryable`, the listing calls and
    whole-query evaluation, every one confined to the tenant's label."""

    def __init__(self, store: AmpMetricStore, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id
        self._tenant = LabelMatcher.of(store.tenant_label, MatchOp.EQUAL, tenant_id)

    def _selector(self, matchers: Sequence[LabelMatcher]) -> str:
        name = next(
            (m.value for m in matchers if m.name == "__name__" and m.op is MatchOp.EQUAL), None
        )
        return selector_text([*matchers, self._tenant], name)

    def _call(self, path: str, params: Iterable[tuple[str, str]], *, method: str = "POST") -> Any:
        return self._reply(path, params, method=method).get("data")

    def _reply(
        self, path: str, params: Iterable[tuple[str, str]], *, method: str = "POST"
    ) -> Mapping[str, Any]:
        """The workspace's success reply, or its error raised under its own errorType."""
        reply = self._store.client.api(path, list(params), method=method)
        if reply.get("status") == "success":
            return reply
        error_type = str(reply.get("errorType") or "execution")
        message = str(reply.get("error") or "the metric store refused the query")
        if error_type in ("unavailable", "internal"):
            raise ServiceUnavailable(f"the metric store failed the query: {message}")
        raise RemoteQueryError(error_type, message)

    def _value(self, kind: str, result: Any) -> Any:
        """The engine's value for a Prometheus `data.result`, the tenant label removed."""
        hidden = self._store.tenant_label
        if kind == "scalar":
            return Scalar(_ms(result[0]), float(result[1]))
        if kind == "string":
            return String(_ms(result[0]), str(result[1]))
        if kind == "matrix":
            return [
                RangeSeries(
                    _labels(s.get("metric", {}), hidden),
                    [(_ms(t), float(v)) for t, v in s.get("values", ())],
                )
                for s in result
            ]
        return [
            Sample(_labels(s.get("metric", {}), hidden), _ms(s["value"][0]), float(s["value"][1]))
            for s in result
        ]

    def _query(self, path: str, tree: ast.Node, params: list[tuple[str, str]]) -> QueryResult:
        reply = self._reply(path, [("query", confine(tree, self._tenant)), *params])
        data = reply.get("data")
        data = data if isinstance(data, Mapping) else {}
        kind = str(data.get("resultType") or "vector")
        return QueryResult(
            kind,
            self._value(kind, data.get("result") or ()),
            [str(w) for w in reply.get("warnings") or ()],
            [str(i) for i in reply.get("infos") or ()],
        )

    def instant(self, tree: ast.Node, time_ms: int, timeout_s: float) -> QueryResult:
        return self._query(
            "query", tree, [("time", seconds(time_ms)), ("timeout", f"{timeout_s:g}")]
        )

    def range(
        self, tree: ast.Node, start_ms: int, end_ms: int, step_ms: int, timeout_s: float
    ) -> QueryResult:
        return self._query(
            "query_range",
            tree,
            [
                ("start", seconds(start_ms)),
                ("end", seconds(end_ms)),
                ("step", seconds(step_ms)),
                ("timeout", f"{timeout_s:g}"),
            ],
        )

    # -- the engine's Queryable (rule evaluation) -------------------------------------------
    def select(self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int) -> list[Series]:
        """Raw samples in [start, end]: a range selector one millisecond wider than the window
        (Prometheus 3 leaves a range's start open, 2.x closed), trimmed here."""
        text = f"{self._selector(matchers)}[{end_ms - start_ms + 1}ms]"
        # The engine's deadline cannot interrupt a request in flight: the workspace gets a
        # timeout of its own (rule evaluation's per-query budget).
        timeout = f"{self._store.select_timeout_s:g}"
        data = self._call(
            "query", [("query", text), ("time", seconds(end_ms)), ("timeout", timeout)]
        )
        found = []
        for s in (data or {}).get("result") or ():
            points = [(_ms(t), float(v)) for t, v in s.get("values", ())]
            points = [(t, v) for t, v in points if start_ms <= t <= end_ms]
            if points:
                found.append(
                    Series(
                        _labels(s.get("metric", {}), self._store.tenant_label),
                        [t for t, _ in points],
                        [v for _, v in points],
                    )
                )
        found.sort(key=lambda s: s.labels)
        return found

    # -- the listing calls -------------------------------------------------------------------
    def _window(
        self, selectors: Sequence[Sequence[LabelMatcher]], start_ms: int, end_ms: int
    ) -> list[tuple[str, str]]:
        matches = [("match[]", self._selector(m)) for m in selectors] or [
            ("match[]", self._selector([]))
        ]
        return [*matches, ("start", seconds(start_ms)), ("end", seconds(end_ms))]

    def series(
        self, selectors: Sequence[Sequence[LabelMatcher]], start_ms: int, end_ms: int
    ) -> list[Labels]:
        data = self._call("series", self._window(selectors, start_ms, end_ms))
        return sorted({_labels(s, self._store.tenant_label) for s in data or ()})

    def label_names(
        self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> list[str]:
        data = self._call("labels", self._window([matchers], start_ms, end_ms))
        return sorted(str(n) for n in data or () if n != self._store.tenant_label)

    def label_values(
        self, name: str, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> list[str]:
        if name == self._store.tenant_label:
            return []  # the tenant's own id is no label of its series
        path = f"label/{url_quote(name, safe='')}/values"
        data = self._call(path, self._window([matchers], start_ms, end_ms), method="GET")
        return sorted(str(v) for v in data or ())

    def metadata(self, family: str | None = None, limit: int = 10_000) -> list[MetricMetadata]:
        return self._store.metadata.reader(self.tenant_id).metadata(family, limit)

    def tsdb_stats(self, limit: int) -> TsdbStats:
        """The tenant's series active in the last five minutes, by metric name. The
        workspace exposes no TSDB status; the figures it cannot tell stay empty or zero."""
        everything = self._selector([])
        at = [("time", seconds(self._store.now_ms()))]
        total = self._call("query", [("query", f"count({everything})"), *at])
        by_name = self._call(
            "query", [("query", f"topk({limit}, count by (__name__) ({everything}))"), *at]
        )
        counts = sorted(
            ((str(s["metric"].get("__name__", "")), int(float(s["value"][1])))
             for s in (by_name or {}).get("result") or ()),
            key=lambda pair: (-pair[1], pair[0]),
        )  # fmt: skip
        rows = (total or {}).get("result") or ()
        return TsdbStats(
            num_series=int(float(rows[0]["value"][1])) if rows else 0,
            num_label_pairs=0,
            chunk_count=0,
            min_time_ms=None,
            max_time_ms=None,
            series_count_by_metric_name=counts[:limit],
            label_value_count_by_label_name=[],
            memory_in_bytes_by_label_name=[],
            series_count_by_label_value_pair=[],
        )
