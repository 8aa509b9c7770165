"""Anomaly rules end to end: a series remote-written over days with a daily cycle, a rule
whose model learns that cycle, an alert on a level shift and none on the cycle itself."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from orchestrix.adapters.metrics import encode_write_request
from orchestrix.adapters.postgres.alerting_components import evaluation_service
from tests.api.conftest import Client, token
from tests.api.test_alerting_api import (  # noqa: F401
    RecordedEvents,
    api,
    events,
    key,
    minute,
)
from tests.api.test_metrics_api import PROTOBUF, WRITE, basic, query

PROBLEM = "application/problem+json"
SHIFT_AFTER_MIN = 60  # the level shift starts this many minutes into the evaluated hour
SHIFT = 50.0


@pytest.fixture
def tenant() -> str:
    return f"an-{uuid.uuid4().hex[:10]}"


def daily_cycle(t0_s: int, start_min: int, end_min: int) -> list[tuple[int, float]]:
    """requests/s, one sample a minute: 100 at night, a ramp to 160 over 20 minutes from
    minute 10 of the day (counted from t0), back down ten hours later; noise of sd 2; and on
    the evaluated day the level shift from SHIFT_AFTER_MIN on."""
    noise = random.Random(11)
    points = []
    for m in range(start_min, end_min):
        day_min = m % 1440
        level = 60 * min(1.0, max(0.0, (day_min - 10) / 20, 0.0)) if day_min < 600 else 0.0
        shift = SHIFT if m >= SHIFT_AFTER_MIN else 0.0
        points.append(((t0_s + 60 * m) * 1000, 100 + level + noise.gauss(0, 2) + shift))
    return points


def remote_write(
    api: Client,  # noqa: F811
    tenant: str,
    points: list[tuple[int, float]],
) -> None:
    series = [({"__name__": "http_request_rate", "service": "checkout"}, points)]
    body = encode_write_request(series)
    reply = api.post(WRITE, basic(key(api, tenant, "metrics:write")), raw=body, headers=PROTOBUF)
    assert reply.status == 204, reply.body


ANOMALY_RULE = {
    "name": "CheckoutRateAnomaly",
    "expr": "http_request_rate",
    "algorithm": "agile",
    "bounds": 3,
    "seasonality": "daily",
    "for": "3m",
}


def test_level_shift_fires_and_the_daily_cycle_does_not(
    api: Client,  # noqa: F811
    tenant: str,
    events: RecordedEvents,  # noqa: F811
) -> None:
    t0 = minute(-3 * 60)  # three hours ago: every sample below is in the past
    t0_s = int(t0.timestamp())
    remote_write(api, tenant, daily_cycle(t0_s, -3 * 1440, SHIFT_AFTER_MIN + 10))
    created = api.post("/api/v1/alert-rules", token(tenant), ANOMALY_RULE)
    assert created.status == 201, created.body
    assert created.json["anomaly"] == {"algorithm": "agile", "bounds": 3.0, "seasonality": "daily"}
    service = evaluation_service()

    # The morning ramp (+60 in 20 minutes) and the plateau: known from the history.
    for m in range(SHIFT_AFTER_MIN):
        report = service.tick(tenant, t0 + timedelta(minutes=m))
        assert report.rule_errors == {}
        assert report.fired == 0, f"fired on the normal cycle at minute {m}"
    # The shift: pending for 3 minutes, then firing.
    fired_at = None
    for m in range(SHIFT_AFTER_MIN, SHIFT_AFTER_MIN + 6):
        if service.tick(tenant, t0 + timedelta(minutes=m)).fired:
            fired_at = m
            break
    assert fired_at == SHIFT_AFTER_MIN + 3
    alerts = api.get("/api/v1/alerts?status=firing", token(tenant, "viewer")).json["items"]
    assert [(a["name"], a["labels"]["service"]) for a in alerts] == [
        ("CheckoutRateAnomaly", "checkout")
    ]
    # the label root-cause analysis reads to count the alert as an anomaly
    assert alerts[0]["labels"]["anomaly_rule"] == "CheckoutRateAnomaly"
    assert alerts[0]["value"] > 190
    assert events.of(tenant) == ["alert.fired"]

    # The band is a series like any other: below the shifted value, above the normal one.
    at = (t0 + timedelta(minutes=fired_at)).timestamp()
    upper = query(api, tenant, 'orchestrix_anomaly_upper{rule="CheckoutRateAnomaly"}', at)
    lower = query(api, tenant, 'orchestrix_anomaly_lower{rule="CheckoutRateAnomaly"}', at)
    band = [float(r.json["data"]["result"][0]["value"][1]) for r in (lower, upper)]
    assert band[0] < 160 < band[1] < 160 + SHIFT
    labels = upper.json["data"]["result"][0]["metric"]
    assert labels == {
        "__name__": "orchestrix_anomaly_upper",
        "rule": "CheckoutRateAnomaly",
        "service": "checkout",
    }


def test_a_flat_model_alerts_on_the_same_cycle(
    api: Client,  # noqa: F811
    tenant: str,
) -> None:
    """The control: without seasonality the morning ramp itself looks anomalous."""
    t0 = minute(-3 * 60)
    remote_write(api, tenant, daily_cycle(int(t0.timestamp()), -3 * 1440, SHIFT_AFTER_MIN))
    flat = {**ANOMALY_RULE, "algorithm": "basic", "seasonality": "none"}
    assert api.post("/api/v1/alert-rules", token(tenant), flat).status == 201
    service = evaluation_service()

    fired = [m for m in range(40) if service.tick(tenant, t0 + timedelta(minutes=m)).fired]

    assert fired and 10 < fired[0] < 35


def test_models_persist_between_ticks_and_stay_in_their_tenant(
    api: Client,  # noqa: F811
    tenant: str,
    database_url: str,
) -> None:
    t0 = minute(-60)
    t0_s = int(t0.timestamp())
    remote_write(api, tenant, daily_cycle(t0_s, -30, 5))
    rule = api.post("/api/v1/alert-rules", token(tenant), {**ANOMALY_RULE, "algorithm": "basic"})
    service = evaluation_service()
    service.tick(tenant, t0)
    first = _models(database_url, tenant)
    service.tick(tenant, t0 + timedelta(minutes=1))
    second = _models(database_url, tenant)

    assert [r[0] for r in first] == [rule.json["id"]]
    assert first[0][1] != second[0][1]  # the stored model learnt the second sample
    other = f"{tenant}-other"
    assert api.get(f"/api/v1/alert-rules/{rule.json['id']}", token(other)).status == 404
    band = query(api, other, "orchestrix_anomaly_upper", (t0 + timedelta(minutes=1)).timestamp())
    assert band.json["data"]["result"] == []
    assert _models(database_url, other) == []


def _models(database_url: str, tenant: str) -> list[tuple[str, bytes]]:
    """The tenant's stored models as the application role sees them (under RLS)."""
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE orchestrix_app")
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant,))
        rows = conn.execute("SELECT rule_id, state FROM anomaly_models").fetchall()
        conn.rollback()
    return [(r[0], bytes(r[1])) for r in rows]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"bounds": 5}, "bounds"),
        ({"bounds": 1.5}, "bounds"),
        ({"algorithm": "fancy"}, "algorithm"),
        ({"seasonality": "monthly"}, "seasonality"),
        ({"expr": None, "metric": "up", "operator": ">", "threshold": 1}, "metric"),
    ],
)
def test_bad_anomaly_rule_is_422_naming_the_field(
    api: Client,  # noqa: F811
    tenant: str,
    change: dict[str, Any],
    field: str,
) -> None:
    reply = api.post("/api/v1/alert-rules", token(tenant), {**ANOMALY_RULE, **change})

    assert reply.status == 422, reply.body
    assert reply.content_type == PROBLEM
    assert field in [e["loc"][-1] for e in reply.json["errors"]]
    assert api.get("/api/v1/alert-rules", token(tenant)).json["items"] == []


def test_rule_file_export_leaves_anomaly_rules_out(
    api: Client,  # noqa: F811
    tenant: str,
) -> None:
    """Prometheus would evaluate the bare expr as an always-true condition."""
    api.post("/api/v1/alert-rules", token(tenant), ANOMALY_RULE)
    api.post("/api/v1/alert-rules", token(tenant), {"name": "Up", "expr": "up == 0"})

    exported = api.get("/api/v1/alert-rules/export", token(tenant, "viewer")).body.decode()

    assert "alert: Up" in exported
    assert "CheckoutRateAnomaly" not in exported


def test_models_of_series_gone_for_a_week_are_forgotten_on_the_hour(
    api: Client,  # noqa: F811
    tenant: str,
    database_url: str,
) -> None:
    hour = minute().replace(minute=0) - timedelta(days=10)
    remote_write(api, tenant, daily_cycle(int(hour.timestamp()), -20, 1))
    api.post("/api/v1/alert-rules", token(tenant), {**ANOMALY_RULE, "algorithm": "basic"})
    service = evaluation_service()
    service.tick(tenant, hour)  # the series' model is stored
    assert len(_models(database_url, tenant)) == 1

    # The series is gone: six days later the model is kept, eight days later it is not.
    service.tick(tenant, hour + timedelta(days=6))
    assert len(_models(database_url, tenant)) == 1
    service.tick(tenant, hour + timedelta(days=8, minutes=1))  # not on the hour: kept
    assert len(_models(database_url, tenant)) == 1
    service.tick(tenant, hour + timedelta(days=8, hours=1))
    assert _models(database_url, tenant) == []
