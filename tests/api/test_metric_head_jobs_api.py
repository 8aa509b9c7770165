"""Scheduled jobs move metric heads into chunks: queries answer the same before and after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from orchestrix import bootstrap
from orchestrix.adapters.postgres.metric_store import HeadLimits, PostgresMetricStore
from tests.api.conftest import Client, token
from tests.api.test_alerting_api import RecordedEvents
from tests.api.test_job_lock_api import load, run
from tests.api.test_metrics_api import ingest_key, requests_series, write


def head_rows(tenant: str) -> int:
    with bootstrap.database().connection() as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
        row = conn.execute("SELECT count(*) FROM metric_head").fetchone()
        conn.rollback()
    return int(row[0]) if row else -1


def recent() -> int:
    """An hour ago on the clock the jobs go by, in seconds (retention keeps it)."""
    return int(bootstrap.clock().now().timestamp()) // 60 * 60 - 3600


def query(api: Client, tenant: str) -> object:
    t0 = recent()
    params = urlencode({"query": "http_requests_total", "start": t0, "end": t0 + 60, "step": 15})
    reply = api.get(f"/api/v1/metrics/query_range?{params}", token(tenant, "viewer"))
    assert reply.status == 200, reply.body
    return reply.json["data"]


@pytest.fixture
def api(client: Client) -> Iterator[Client]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bootstrap, "event_publisher", RecordedEvents)  # the jobs publish events
        yield client


@pytest.fixture
def written(api: Client) -> tuple[str, object]:
    """A tenant whose remote write sits in its head, and what a query answers then."""
    tenant = f"hj-{uuid.uuid4().hex[:8]}"
    assert write(api, ingest_key(api, tenant), requests_series(recent())).status == 204
    assert head_rows(tenant) == 1
    before = query(api, tenant)
    assert before["result"], before  # type: ignore[index]
    return tenant, before


def test_housekeeping_compacts_every_head(api: Client, written: tuple[str, object]) -> None:
    tenant, before = written

    result = run(load("housekeeping"), {})

    assert result["compacted_metric_heads"] >= 1
    assert head_rows(tenant) == 0
    assert query(api, tenant) == before


def test_the_rule_tick_compacts_heads_that_waited_past_the_age_limit(
    api: Client, written: tuple[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, before = written
    # Given a store whose age limit the head has already passed
    aged = PostgresMetricStore(bootstrap.database(), HeadLimits(max_age_s=0))
    monkeypatch.setattr(bootstrap, "postgres_metric_store", lambda: aged)

    result = run(load("evaluate_rules"), {"scheduled_time": "2026-09-21T10:00:00Z"})

    assert result["compacted_metric_heads"] >= 1
    assert head_rows(tenant) == 0
    assert query(api, tenant) == before
