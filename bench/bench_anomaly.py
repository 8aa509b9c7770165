"""Anomaly detection: one rule tick over 10,000 series, the model's cost per series-minute,
and the NAB score with CPU time per 1,000 points.

The tick runs exactly as `evaluate_rules` does (embedded PostgreSQL of its own, migrated
from scratch, row-level security, models loaded and saved in the tick's transaction, band
series written back through the metric store). NAB: the data under `$NAB_DIR` (default
`../shared/nab` next to the checkout: NAB's `data/` and `labels/`), skipped if absent.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.embedded import migrated_database
from orchestrix.adapters.clock import AdjustableClock
from orchestrix.adapters.metrics import RemoteWriteDecoder, encode_write_request
from orchestrix.adapters.postgres.alerting_components import anomaly_models, repos
from orchestrix.adapters.postgres.anomaly_models import MetricStoreBands
from orchestrix.adapters.postgres.database import Database
from orchestrix.adapters.postgres.metric_store import PostgresMetricStore
from orchestrix.adapters.postgres.unit_of_work import PostgresUnitOfWork
from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.domain.anomaly.model import SeriesModel
from orchestrix.domain.anomaly.spec import AnomalySpec
from orchestrix.services.anomaly_evaluation import AnomalyEvaluator
from orchestrix.services.rule_evaluation import EvaluationService

ROOT = Path(__file__).resolve().parent.parent
TENANT = "bench"
SERIES = 10_000
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
SPEC = AnomalySpec("agile", 3.0, "auto")


class _NullEvents:
    def publish(self, tenant_id: str, detail_type: str, detail: dict[str, Any]) -> None:
        pass


def _load_metrics(store: PostgresMetricStore) -> None:
    """10,000 latency series, a sample a minute from 15 minutes before NOW to NOW + 3m."""
    noise = random.Random(1)
    start = int((NOW - timedelta(minutes=15)).timestamp() * 1000)
    series = [
        (
            {"__name__": "app_latency_seconds", "service": f"svc-{i // 100}", "pod": f"p{i}"},
            [(start + j * 60_000, 0.2 + 0.01 * noise.random()) for j in range(19)],
        )
        for i in range(SERIES)
    ]
    store.write(TENANT, RemoteWriteDecoder().decode(encode_write_request(series)))


def _tick_rows(db: Database, clock: AdjustableClock, store: PostgresMetricStore) -> list[str]:
    def uow(tenant: str, actor: str, request_id: str | None = None) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(db, clock, tenant, actor, request_id)

    rule = AlertRule(
        id="rule_" + "0" * 26,
        tenant_id=TENANT,
        name="LatencyAnomaly",
        expr="app_latency_seconds",
        anomaly=SPEC,
        created_at=NOW,
        updated_at=NOW,
        created_by="bench",
    )
    with PostgresUnitOfWork(db, clock, TENANT, "bench") as work:
        repos(work).rules.add(rule)
        work.commit()
    anomaly = AnomalyEvaluator(anomaly_models, MetricStoreBands(lambda: store), store.reader)
    service = EvaluationService(
        uow,  # type: ignore[arg-type]
        repos,
        store.reader,
        _NullEvents(),
        anomaly=anomaly,
    )
    rows = []
    labels = ("first tick (new models, trained on history)", "next tick", "next tick")
    for minute, label in enumerate(labels):
        wall, cpu = time.perf_counter(), time.process_time()
        report = service.tick(TENANT, NOW + timedelta(minutes=minute))
        wall_s, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
        assert not report.rule_errors, report.rule_errors
        rows.append(
            f"| {label} | {SERIES:,} | {wall_s:.2f} s | {cpu_s:.2f} s | "
            f"{cpu_s / SERIES * 1e6:.0f} µs | {report.fired} |"
        )
    with db.connection() as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (TENANT,))
        size = conn.execute("SELECT avg(length(state)) FROM anomaly_models").fetchone()
        bands = conn.execute(
            "SELECT count(*) FROM metric_series WHERE metric_name LIKE 'orchestrix_anomaly_%'"
        ).fetchone()
        conn.rollback()
    rows.append("")
    rows.append(
        f"Stored model: {float(size[0] if size else 0):,.0f} bytes per series; band series "
        f"written: {int(bands[0] if bands else 0):,} (upper, lower, score per series)."
    )
    return rows


def _model_row() -> str:
    """The model alone: restore, observe one sample, store — per series-minute."""
    noise = random.Random(2)
    states = []
    for _ in range(1000):
        model = SeriesModel(SPEC)
        for m in range(60):
            model.observe(NOW.timestamp() + 60 * m, 10 + noise.random())
        states.append(model.to_bytes())
    t = NOW.timestamp() + 3600
    started = time.process_time()
    for _ in range(5):
        for i, state in enumerate(states):
            model = SeriesModel.from_bytes(SPEC, state) or SeriesModel(SPEC)
            model.observe(t, 10 + noise.random())
            states[i] = model.to_bytes()
    per = (time.process_time() - started) / (5 * len(states))
    return (
        f"Model alone (restore + observe + store, `agile`, seasonality `auto`): "
        f"{per * 1e6:.0f} µs CPU per series-minute, i.e. {per * SERIES:.2f} s per tick for "
        f"{SERIES:,} series."
    )


def _nab_rows() -> list[str]:
    from orchestrix.local import nab
    from orchestrix.local.anomaly_cli import report

    base = Path(os.environ.get("NAB_DIR", ROOT.parent / "shared" / "nab"))
    labels = base / "labels" / "combined_windows.json"
    if not labels.exists():
        return [f"NAB data not found under {base}: set NAB_DIR to NAB's checkout."]
    with tempfile.TemporaryDirectory(prefix="orchestrix-nab-") as out:
        points, cpu = nab.run(base / "data", Path(out), nab.load_windows(labels))
        lines = report(Path(out) / nab.DETECTOR, labels)
    return [
        f"`orchestrix anomaly nab` on {points:,} points ({len(nab.data_files(base / 'data'))} "
        f"files): **{1000 * cpu / points * 1000:.1f} ms CPU per 1,000 points**.",
        "",
        "```",
        *lines,
        "```",
        "",
        "The leave-one-category-out lines choose the threshold on the other categories: the "
        "figure to expect on data the parameters were not chosen on. For scale, NAB's "
        "scoreboard on its full corpus (7 categories; here 4): ARTime 74.9, Numenta HTM 70.1, "
        "contextOSE 69.9, KNN-CAD 58.0, RandomCutForest 51.7, Twitter ADVec 47.1.",
    ]


def run() -> str:
    with migrated_database() as dsn:
        db = Database(dsn, max_size=4)
        store = PostgresMetricStore(db)
        _load_metrics(store)
        tick_rows = _tick_rows(db, AdjustableClock(), store)
        db.close()
    return "\n".join(
        [
            "## Anomaly detection",
            "",
            f"One `evaluate_rules` tick for one tenant with one anomaly rule (`agile`, "
            f"seasonality `auto`) over {SERIES:,} series: query, models loaded from and saved "
            "to PostgreSQL in the tick's transaction, band series written to the metric store. "
            "One process on one core; PostgreSQL (pgserver) on the other.",
            "",
            "| tick | series | wall | client CPU | CPU per series-minute | alerts fired |",
            "|---|---|---|---|---|---|",
            *tick_rows,
            "",
            _model_row(),
            "",
            "### NAB (standard profile)",
            "",
            *_nab_rows(),
        ]
    )
