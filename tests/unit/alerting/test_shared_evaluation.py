"""A tick shares reads and results between rules without changing any rule's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.promql import Engine, MemoryStorage
from orchestrix.promql.parse import parse
from orchestrix.promql.values import labels_of
from orchestrix.services.rule_evaluation import due_rules
from orchestrix.services.rule_query_cache import SharedSelects, widest_windows
from orchestrix.services.rule_results import SharedResults

T = 3_600_000
NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def storage() -> MemoryStorage:
    s = MemoryStorage()
    for svc in ("api", "web"):
        for i in range(3):
            labels = labels_of({"__name__": "reqs_total", "service": svc, "pod": str(i)})
            s.add_series(
                labels,
                [T - 600_000 + k * 60_000 for k in range(11)],
                [k * 60.0 * (i + 1) for k in range(11)],
            )
    return s


EXPRS = [
    'rate(reqs_total{service="api"}[5m]) > 1.5',
    'rate(reqs_total{service="api"}[5m]) > 2.5',
    "sum by (service) (rate(reqs_total[5m])) >= 6",
    "reqs_total != 600",
    'rate(reqs_total{service="web"}[5m]) > bool 1',
]


def test_shared_results_equal_evaluating_each_rule_alone() -> None:
    plain = Engine(storage())
    trees = [parse(e) for e in EXPRS]
    shared = SharedSelects(storage(), T, widest_windows(trees, 300_000))
    results = SharedResults(Engine(shared), T)
    for expr, tree in zip(EXPRS, trees, strict=True):
        alone = sorted((s.labels, s.v) for s in plain.instant(expr, T).value)  # type: ignore[union-attr]
        assert sorted(results.evaluate(tree, expr)) == alone, expr
    assert shared.storage_selects == 1  # one read of reqs_total served every rule
    assert results.queries_run == 4  # the two `api` thresholds shared one query


def rule(group: str, interval_s: int, last: datetime | None) -> AlertRule:
    return AlertRule(
        id=f"r-{group}-{interval_s}",
        tenant_id="t",
        name="A",
        expr="up",
        group=group,
        interval_s=interval_s,
        last_evaluated_at=last,
    )


def test_groups_run_on_their_own_interval() -> None:
    rules = [
        rule("fast", 60, NOW - timedelta(minutes=1)),
        rule("slow", 300, NOW - timedelta(minutes=3)),
        rule("new", 300, None),
    ]
    assert [r.group for r in due_rules(rules, NOW)] == ["fast", "new"]
    assert [r.group for r in due_rules(rules, NOW + timedelta(minutes=2))] == [
        "fast",
        "slow",
        "new",
    ]
