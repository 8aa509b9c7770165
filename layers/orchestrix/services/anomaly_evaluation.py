"""Anomaly rules inside the rule evaluator: each series of a rule's `expr` has a model; a
sample outside its model's band is what the rule's alert condition returns.

Kept apart from `rule_evaluation` (which only calls `begin`, `judge`, `save` and `publish`):

- `begin` loads the models of the tick's anomaly rules in the tick's transaction;
- `judge` gives each sample to its series' model (a new rule's series are first trained on
  their recent history, within a per-tick budget) and keeps the samples outside the band;
- `save` writes the updated models back in the same transaction, so the alerts and the
  models they came from commit together and a cold evaluator carries on;
- `publish`, after the commit, writes the band (`orchestrix_anomaly_upper` / `_lower`) and
  the score (`orchestrix_anomaly_score`) to the metric store, so Grafana can draw them with
  PromQL like any other series.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from orchestrix.domain.alerting.evaluation import ResultSample
from orchestrix.domain.alerting.fingerprint import fingerprint
from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.domain.anomaly.model import SeriesModel
from orchestrix.domain.anomaly.spec import PERIOD_S, AnomalySpec
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.promql import Engine, Queryable
from orchestrix.promql.values import RangeSeries

log = logging.getLogger(__name__)
UPPER = "orchestrix_anomaly_upper"
LOWER = "orchestrix_anomaly_lower"
SCORE = "orchestrix_anomaly_score"
# A new series is trained on up to two periods of its history, at most this many points.
SEED_POINTS = 2880
SEED_FLAT_S = 4 * 3600  # history for a model without seasonality
SEED_BUDGET = 400_000  # points all of a tick's new series may be trained on together
# A series gone this long (or no longer returned since its rule's expr changed) loses its
# model; the clean-up runs on each group's first tick of each hour.
STALE_AFTER = timedelta(days=7)


class AnomalyModelRepository(Protocol):
    def load(self, rule_ids: Sequence[str]) -> dict[str, dict[str, bytes]]: ...
    def save(
        self, tenant_id: str, rows: Sequence[tuple[str, str, bytes]], at: datetime
    ) -> None: ...
    def forget_before(self, rule_ids: Sequence[str], before: datetime) -> int: ...


class BandSink(Protocol):
    """Where band samples go: (labels with `__name__`, timestamp ms, value)."""

    def write(
        self, tenant_id: str, samples: Sequence[tuple[dict[str, str], int, float]]
    ) -> None: ...


@dataclass
class Detection:
    """One tenant's anomaly rules during one tick."""

    tenant_id: str
    at: datetime
    rule_ids: list[str]  # the rules whose stale models this tick deletes
    stored: dict[str, dict[str, bytes]]
    models: AnomalyModelRepository
    history: Engine
    seed_left: int = SEED_BUDGET
    updated: list[tuple[str, str, bytes]] = field(default_factory=list)
    bands: list[tuple[dict[str, str], int, float]] = field(default_factory=list)

    def judge(self, rule: AlertRule, samples: list[ResultSample]) -> list[ResultSample]:
        """The samples outside their series' band; every model learns its sample."""
        spec = rule.anomaly
        assert spec is not None
        t = self.at.timestamp()
        stored = self.stored.get(rule.id, {})
        keyed = [(fingerprint(s.labels), s) for s in samples]
        models = {
            fp: SeriesModel.from_bytes(spec, stored[fp]) if fp in stored else None
            for fp, _ in keyed
        }
        cold = {fp for fp, model in models.items() if model is None}
        if cold and not stored:
            # Only for a rule with no model at all (new, or its seasonality changed): the
            # history query reads every series of the expr, too dear to repeat whenever one
            # new series appears; those learn online and draw a band from their 12th sample.
            models.update(self._seeded(rule, spec, cold))
        outside: list[ResultSample] = []
        at_ms = int(t * 1000)
        for fp, sample in keyed:
            model = models.get(fp) or SeriesModel(spec)
            verdict = model.observe(t, sample.value)
            self.updated.append((rule.id, fp, model.to_bytes()))
            if verdict.upper - verdict.lower < float("inf"):
                base = {k: v for k, v in sample.labels.items() if k != "__name__"}
                base["rule"] = rule.name
                self.bands += [
                    ({**base, "__name__": UPPER}, at_ms, verdict.upper),
                    ({**base, "__name__": LOWER}, at_ms, verdict.lower),
                    ({**base, "__name__": SCORE}, at_ms, verdict.score),
                ]
            if verdict.anomalous:
                # Root-cause analysis tells anomalies from threshold alerts by this label.
                outside.append(
                    ResultSample({**sample.labels, "anomaly_rule": rule.name}, sample.value)
                )
        return outside

    def _seeded(self, rule: AlertRule, spec: AnomalySpec, cold: set[str]) -> dict[str, SeriesModel]:
        """Models for new series, trained on the expression's recent history (the tick's
        own sample excluded), so that a new rule knows the daily cycle from its first tick."""
        periods = spec.periods()
        span_s = 2 * max(PERIOD_S[p] for p in periods) if periods else SEED_FLAT_S
        step_s = max(rule.interval_s, span_s // SEED_POINTS)
        points = span_s // step_s
        if self.seed_left < points:
            return {}
        end_ms = int(self.at.timestamp() * 1000) - step_s * 1000
        try:
            matrix = self.history.range(rule.expr, end_ms - span_s * 1000, end_ms, step_s * 1000)
        except Exception as exc:  # too much history is no reason to fail the rule
            log.info("anomaly rule %s: no training on history: %s", rule.id, exc)
            return {}
        seeded: dict[str, SeriesModel] = {}
        for series in matrix.value if isinstance(matrix.value, list) else []:
            if not isinstance(series, RangeSeries):
                continue
            fp = fingerprint(dict(series.labels))
            if fp not in cold or self.seed_left < len(series.points):
                continue
            model = SeriesModel(spec)
            for ts, value in series.points:
                model.observe(ts / 1000, value)
            self.seed_left -= len(series.points)
            seeded[fp] = model
        return seeded


class AnomalyEvaluator:
    def __init__(
        self,
        models: Callable[[UnitOfWork], AnomalyModelRepository],
        bands: BandSink,
        metrics: Callable[[str], Queryable],
        max_samples: int = 5_000_000,
        timeout_s: float = 5.0,
    ) -> None:
        self._models = models
        self._bands = bands
        self._metrics = metrics
        self._max_samples = max_samples
        self._timeout_s = timeout_s

    def begin(self, uow: UnitOfWork, rules: Sequence[AlertRule], at: datetime) -> Detection:
        repo = self._models(uow)
        ids = [r.id for r in rules if r.anomaly is not None]
        into_hour = at.minute * 60 + at.second
        stale = [r.id for r in rules if r.anomaly is not None and into_hour < r.interval_s]
        history = Engine(
            self._metrics(uow.tenant_id), timeout_s=self._timeout_s, max_samples=self._max_samples
        )
        return Detection(uow.tenant_id, at, stale, repo.load(ids) if ids else {}, repo, history)

    @staticmethod
    def save(detection: Detection) -> None:
        if detection.updated:
            detection.models.save(detection.tenant_id, detection.updated, detection.at)
        if detection.rule_ids:
            detection.models.forget_before(detection.rule_ids, detection.at - STALE_AFTER)

    def publish(self, detection: Detection) -> None:
        """After the commit: the band series (derived data; a failure only loses points)."""
        if not detection.bands:
            return
        try:
            self._bands.write(detection.tenant_id, detection.bands)
        except Exception:
            log.exception("anomaly bands not written for tenant %s", detection.tenant_id)
