"""Escalation latency: from a due escalation step to its page arriving at a webhook.

Runs what `functions/escalate` runs, `escalation_service().run_step(...)`, for level 2 of fresh
incidents, wired by bootstrap exactly as the local runtime wires it: embedded PostgreSQL,
AWS APIs (KMS for the member's encrypted channel, Scheduler for the next level, EventBridge
for `incident.escalated`) on moto in this process, and the real notification path
(notification row, KMS-sealed channel, HMAC-signed webhook POST through the egress policy) to
an HTTP receiver on 127.0.0.1. The clock stops when the receiver has read the request.
References, measured in the same run: a bare transaction that locks the incident row and
commits, and a bare signed POST of the same payload to the same receiver.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

N = 150
WARMUP = 5
SECRET = "bench-signing-secret-0123456789"


class _Receiver:
    """Loopback webhook endpoint; remembers when each request (fully read) arrived, by path."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.arrived[self.path] = time.perf_counter()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def _local_stack() -> Iterator[None]:
    """Embedded PostgreSQL + moto, configured into bootstrap as `orchestrix dev` does."""
    import boto3
    from moto import mock_aws

    from orchestrix import bootstrap
    from orchestrix.adapters.clock import AdjustableClock
    from orchestrix.adapters.notify import components
    from orchestrix.adapters.postgres import migrations
    from orchestrix.settings import Settings

    home = Path(tempfile.mkdtemp(prefix="orchestrix-bench-"))
    os.environ.setdefault("XDG_RUNTIME_DIR", str(home))
    for name, value in (
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
    ):
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver import get_server  # type: ignore[attr-defined]

        server = get_server(home / "pg", cleanup_mode="stop")
    dsn = server.get_uri()
    migrations.apply(dsn)
    settings = Settings(local=True, database_url=dsn)
    try:
        with mock_aws():
            boto3.client("events").create_event_bus(Name=settings.event_bus_name)
            boto3.client("scheduler").create_schedule_group(Name=settings.schedule_group_name)
            bootstrap.configure(settings=settings, clock=AdjustableClock())
            components._boxes.clear()
            yield
            bootstrap.database().close()
    finally:
        components._boxes.clear()
        bootstrap.reset()
        server.cleanup()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _fixture(tenant: str, receiver: _Receiver) -> tuple[str, str]:
    """A first-level and a second-level member (webhooks) and a policy paging them in turn."""
    from orchestrix.adapters.notify.components import member_service
    from orchestrix.adapters.postgres.incident_components import escalation_policy_service
    from orchestrix.domain.escalation import Level, Target, TargetType
    from orchestrix.domain.identity import Principal, Role
    from orchestrix.domain.people import MemberSpec
    from orchestrix.services.escalation_policies import PolicySpec

    admin = Principal(tenant, "bench", frozenset({Role.ADMIN}))
    ids = []
    for level in ("first", "second"):
        hook = {"type": "webhook", "address": f"{receiver.url}/{level}", "signing_secret": SECRET}
        spec = MemberSpec.model_validate({"name": level, "contact_methods": [hook]})
        ids.append(member_service().create(admin, spec).id)
    levels = tuple(
        Level(delay_minutes=5, targets=(Target(type=TargetType.MEMBER, id=member_id),))
        for member_id in ids
    )
    policy = escalation_policy_service().create(admin, PolicySpec(name="bench", levels=levels))
    return policy.id, ids[1]


def _measure(tenant: str, policy_id: str, receiver: _Receiver) -> dict[str, list[float]]:
    from orchestrix import bootstrap
    from orchestrix.adapters import http_client
    from orchestrix.adapters.notify.webhook import WebhookSender
    from orchestrix.adapters.postgres.incident_components import (
        STORES,
        escalation_service,
        incident_service,
    )
    from orchestrix.domain.egress import EgressPolicy
    from orchestrix.domain.escalation import Step
    from orchestrix.domain.incidents import AlertSnapshot
    from orchestrix.domain.notifications import Channel, Notice

    results: dict[str, list[float]] = {"arrived": [], "returned": [], "lock": [], "post": []}
    bare_post = WebhookSender(http_client.send, EgressPolicy.for_stage(local=True, allow=()), _now)
    channel = Channel("webhook", f"{receiver.url}/bare", SECRET)
    for n in range(WARMUP + N):
        raw = {"id": f"a{n}", "labels": {"alertname": f"A{n}", "service": "s"}}
        alert = AlertSnapshot.parse(
            {"alert": {**raw, "severity": "critical"}, "escalation_policy_id": policy_id}
        )
        opened = incident_service().on_alert_fired(tenant, alert)  # pages level 1
        assert opened is not None
        start = time.perf_counter()
        result = escalation_service().run_step(tenant, opened.id, Step(0, 1))
        returned = time.perf_counter()
        assert result.ran and result.notified, result
        arrived = receiver.arrived.pop("/second")
        receiver.arrived.pop("/first", None)
        start_lock = time.perf_counter()
        with bootstrap.unit_of_work(tenant, "bench") as uow:
            STORES.incidents(uow).lock(opened.id)
            uow.commit()
        lock_done = time.perf_counter()
        notice = Notice(
            f"bare-{n}", "high", f"[SEV1] A{n}", f"A{n}", {}, {"incident_id": opened.id}
        )
        start_post = time.perf_counter()
        bare_post(channel, notice, f"ntf_bare_{n}")
        post_arrived = receiver.arrived.pop("/bare")
        if n < WARMUP:
            continue
        results["arrived"].append((arrived - start) * 1000)
        results["returned"].append((returned - start) * 1000)
        results["lock"].append((lock_done - start_lock) * 1000)
        results["post"].append((post_arrived - start_post) * 1000)
    return results


def _now() -> Any:
    from orchestrix.adapters.clock import SystemClock

    return SystemClock().now()


def _table(rows: list[tuple[str, list[float]]]) -> list[str]:
    lines = ["| measurement | p50 ms | p95 ms | mean ms |", "|---|---:|---:|---:|"]
    for name, values in rows:
        lines.append(
            f"| {name} | {_pct(values, 0.5):.2f} | {_pct(values, 0.95):.2f} "
            f"| {statistics.fmean(values):.2f} |"
        )
    return lines


def run() -> str:
    receiver = _Receiver()
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        with _local_stack():
            policy_id, _ = _fixture(tenant, receiver)
            r = _measure(tenant, policy_id, receiver)
    finally:
        receiver.close()
    rows = [
        ("due level 2 → signed webhook read by the local receiver", r["arrived"]),
        ("due level 2 → `run_step` returns (next step scheduled, event out)", r["returned"]),
        ("reference: lock the incident row and commit", r["lock"]),
        ("reference: bare signed webhook POST to the same receiver", r["post"]),
    ]
    p50 = _pct(r["arrived"], 0.5)
    floor = _pct(r["lock"], 0.5) + _pct(r["post"], 0.5)
    lines = [
        "## Escalation latency",
        "",
        f"{N} incidents (after {WARMUP} warm-up), level 2 of each run once through "
        "`escalation_service().run_step` (what `functions/escalate` runs when the one-time "
        "schedule fires) on embedded PostgreSQL with moto for KMS/Scheduler/EventBridge in "
        "process; the page is an HMAC-signed webhook to an HTTP server on 127.0.0.1, timed "
        "until that server has read the request. References measured in the same run.",
        "",
        *_table(rows),
        "",
        f"Median due-step-to-arrival is {p50 / floor:.1f}× the two references added together "
        f"({floor:.2f} ms): the rest is the escalation and notification bookkeeping "
        "(claim the step, resolve targets, notification row, KMS-sealed channel, audit rows, "
        "scheduling the next level).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
