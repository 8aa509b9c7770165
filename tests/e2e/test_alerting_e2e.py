"""Alerting against a real `orchestrix dev`: metrics in, a rule, ticks, a firing alert, a
silence that suppresses the next matching alert."""

from __future__ import annotations

import urllib.request
import uuid

from tests.e2e.conftest import DevServer


def _import_metrics(dev: DevServer, secret: str, text: str) -> int:
    request = urllib.request.Request(
        dev.url + "/api/v1/metrics/import",
        data=text.encode(),
        method="POST",
        headers={"Content-Type": "text/plain; version=0.0.4", "Authorization": f"Bearer {secret}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def _alerts(dev: DevServer, token: str, query: str = "") -> list[dict[str, object]]:
    status, _, body = dev.request("GET", f"/api/v1/alerts{query}", token)
    assert status == 200, body
    return body["items"]  # type: ignore[no-any-return]


def test_rule_fires_after_ticks_and_silence_suppresses_the_next_alert(dev: DevServer) -> None:
    tenant = f"e2e-alerts-{uuid.uuid4().hex[:8]}"
    admin = dev.token(tenant, "admin")
    created = dev.cli("api-key", "create", "--tenant", tenant, "--scope", "metrics:write")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.split()[0]

    # Given a queue that is too deep, and a rule about it
    assert _import_metrics(dev, secret, 'e2e_queue_depth{queue="mail"} 150\n') == 204
    status, _, rule = dev.request(
        "POST",
        "/api/v1/alert-rules",
        admin,
        {
            "name": "QueueBacklog",
            "expr": "e2e_queue_depth > 100",
            "for": "1m",
            "severity": "warning",
            "annotations": {"summary": "{{ $labels.queue }} holds {{ $value }} messages"},
        },
    )
    assert status == 201, rule

    # When two minutes pass on the local clock
    ticked = dev.cli("tick", "--advance", "2m")
    assert ticked.returncode == 0, ticked.stdout + ticked.stderr

    # Then the alert fires with its annotations rendered
    firing = _alerts(dev, admin, "?status=firing")
    assert [a["annotations"] for a in firing] == [{"summary": "mail holds 150 messages"}]
    assert firing[0]["labels"] == {
        "alertname": "QueueBacklog",
        "queue": "mail",
        "severity": "warning",
    }

    # Given a silence for the queue's next alert
    status, _, silence = dev.request(
        "POST",
        "/api/v1/silences",
        admin,
        {
            "matchers": [{"name": "alertname", "op": "=", "value": "QueueStuck"}],
            "ends_at": "2999-01-01T00:00:00Z",
            "comment": "mail relay maintenance",
            "kind": "maintenance",
        },
    )
    assert status == 201, silence
    status, _, _ = dev.request(
        "POST",
        "/api/v1/alert-rules",
        admin,
        {"name": "QueueStuck", "expr": "e2e_queue_depth > 0"},
    )
    assert status == 201
    assert _import_metrics(dev, secret, 'e2e_queue_depth{queue="mail"} 160\n') == 204

    # When the next evaluation runs
    assert dev.cli("tick", "--advance", "1m").returncode == 0

    # Then the new matching alert is recorded, suppressed by the silence
    stuck = _alerts(dev, admin, '?match=alertname="QueueStuck"')
    assert [(a["status"], a["silenced_by"]) for a in stuck] == [("suppressed", [silence["id"]])]
