"""The local gateway throttles public routes as API Gateway's method throttling does."""

from __future__ import annotations

import json

from orchestrix import wiring
from orchestrix.local.gateway import Gateway
from orchestrix.local.throttle import TokenBucket


class Host:
    def __init__(self) -> None:
        self.calls = 0

    def invoke(self, name: str, event: dict[str, object]) -> dict[str, object]:
        self.calls += 1
        return {"statusCode": 200, "headers": {"Content-Type": "text/html"}, "body": "<p>ok</p>"}


def test_public_status_routes_have_their_own_limits() -> None:
    public = [r for r in wiring.ROUTES if r.path.startswith("/status/")]
    assert public and all(not r.auth and r.throttle is not None for r in public)
    assert all(r.throttle is None for r in wiring.ROUTES if r.auth)


def test_a_burst_beyond_the_bucket_is_a_429_problem_and_reaches_no_function() -> None:
    route = wiring.Route(
        "GET",
        "/status/{slug}",
        "status_pages",
        auth=False,
        throttle=wiring.Throttle(rate=0.001, burst=2),
    )
    host = Host()
    gateway = Gateway(host, routes=(route,))  # type: ignore[arg-type]

    answers = [gateway.dispatch("GET", "/status/acme", [], b"") for _ in range(3)]

    assert [status for status, _, _ in answers] == [200, 200, 429]
    status, headers, body = answers[2]
    assert dict(headers)["Content-Type"] == "application/problem+json"
    assert int(dict(headers)["Retry-After"]) >= 1
    assert json.loads(body)["status"] == 429
    assert host.calls == 2


def test_the_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(wiring.Throttle(rate=2, burst=1), now=lambda: now[0])
    assert bucket.take() is None
    assert bucket.take() == 0.5  # one token back in half a second
    now[0] = 0.5
    assert bucket.take() is None
