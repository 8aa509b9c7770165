"""Which series an anomaly rule trains on history: a new rule's, not a late newcomer's."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrix.domain.alerting.evaluation import ResultSample
from orchestrix.domain.alerting.fingerprint import fingerprint
from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.domain.anomaly.model import SeriesModel
from orchestrix.domain.anomaly.spec import AnomalySpec
from orchestrix.promql.engine import QueryResult
from orchestrix.promql.values import RangeSeries
from orchestrix.services.anomaly_evaluation import LOWER, SCORE, UPPER, Detection

SPEC = AnomalySpec("basic", 3.0, "none")
RULE = AlertRule(id="rule_a", tenant_id="t", name="Latency", expr="latency", anomaly=SPEC)
AT = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
A = {"__name__": "latency", "pod": "a"}
B = {"__name__": "latency", "pod": "b"}


class History:
    """The history engine: 30 minutes of pod a at 1.0, and a record of the queries."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def range(self, query: str, start_ms: int, end_ms: int, step_ms: int) -> QueryResult:
        self.queries.append(query)
        points = [(end_ms - k * 60_000, 1.0) for k in range(30, -1, -1)]
        return QueryResult("matrix", [RangeSeries(tuple(sorted(A.items())), points)])


def detection(stored: dict[str, bytes], history: History) -> Detection:
    return Detection("t", AT, [], {"rule_a": stored}, None, history)  # type: ignore[arg-type]


def band_pods(d: Detection) -> set[tuple[str, str]]:
    return {(labels["__name__"], labels["pod"]) for labels, _, _ in d.bands}


def test_a_new_rule_trains_on_history_and_draws_its_band_at_once() -> None:
    history = History()
    d = detection({}, history)

    outside = d.judge(RULE, [ResultSample(A, 1.0), ResultSample(A | {"pod": "c"}, 1.0)])

    assert history.queries == ["latency"]
    assert outside == []
    assert band_pods(d) == {(UPPER, "a"), (LOWER, "a"), (SCORE, "a")}  # c had no history
    assert {fp for _, fp, _ in d.updated} == {fingerprint(A), fingerprint(A | {"pod": "c"})}


def test_a_series_new_to_an_existing_rule_learns_online_without_a_history_query() -> None:
    warm = SeriesModel(SPEC)
    for k in range(30):
        warm.observe(AT.timestamp() - 60 * (30 - k), 1.0)
    history = History()
    d = detection({fingerprint(A): warm.to_bytes()}, history)

    outside = d.judge(RULE, [ResultSample(A, 9.0), ResultSample(B, 1.0)])

    assert history.queries == []
    # a's model knows 1.0; b's is new: no verdict
    assert outside == [ResultSample({**A, "anomaly_rule": "Latency"}, 9.0)]
    assert {pod for _, pod in band_pods(d)} == {"a"}
