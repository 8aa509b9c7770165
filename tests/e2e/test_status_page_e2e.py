"""Status pages end to end against a real `orchestrix dev`: a firing rule opens an incident
that turns its linked component partial_outage on the public page and back on resolve,
and a webhook subscriber (a real local HTTP receiver) gets each update exactly once."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import Any

from orchestrix.adapters.notify.webhook import SIGNATURE_HEADER, verify
from tests.e2e.conftest import DevServer
from tests.e2e.receivers import Receiver, receiver_fixture  # noqa: F401 - the fixture
from tests.e2e.test_incident_acceptance_e2e import api_key, import_metrics, ok, tick


def public_get(dev: DevServer, path: str) -> tuple[int, dict[str, str], bytes]:
    """As an anonymous browser would: no Authorization header at all."""
    with urllib.request.urlopen(dev.url + path, timeout=30) as response:
        return response.status, dict(response.headers), response.read()


def public_post(dev: DevServer, path: str) -> int:
    """A form's button: an empty form post, no Authorization header."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    request = urllib.request.Request(dev.url + path, data=b"", headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def component_statuses(dev: DevServer, slug: str) -> dict[str, str]:
    status, _, body = public_get(dev, f"/status/{slug}.json")
    assert status == 200
    return {c["name"]: c["status"] for c in json.loads(body)["components"] if not c["group"]}


def arrived(receiver: Receiver, count: int) -> None:
    """Wait (bounded) for `count` requests: webhooks arrive shortly after what caused them."""
    deadline = time.monotonic() + 30
    while len(receiver.received) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def test_firing_rule_moves_its_component_on_the_public_page_and_tells_subscribers_once(
    dev: DevServer, receiver: Receiver
) -> None:
    # given a status page whose Checkout component is linked to a critical rule
    tenant = f"e2e-status-{uuid.uuid4().hex[:10]}"
    token = dev.token(tenant, "admin")
    slug = f"shop-{uuid.uuid4().hex[:8]}"
    page = ok(
        dev.request("POST", "/api/v1/status-pages", token, {"slug": slug, "title": "Shop"}), 201
    )
    import_metrics(
        dev, api_key(dev, tenant, "metrics:write"), 'e2e_status_errors{service="checkout"} 42\n'
    )
    rule = {
        "name": "StatusCheckoutErrors",
        "expr": "max_over_time(e2e_status_errors[1h]) > 10",
        "for": "1m",
        "severity": "critical",
        "annotations": {"summary": "Checkout DB pool exhausted on db-7"},
    }
    rule_id = ok(dev.request("POST", "/api/v1/alert-rules", token, rule), 201)["id"]
    base = f"/api/v1/status-pages/{page['id']}"
    checkout = {"name": "Checkout", "rule_ids": [rule_id]}
    ok(dev.request("POST", f"{base}/components", token, checkout), 201)
    ok(dev.request("POST", f"{base}/components", token, {"name": "Search"}), 201)

    # and a webhook subscriber who confirmed through the link it was sent
    hook = {"channel": "webhook", "address": f"{receiver.url}/hooks/status"}
    subscribed = ok(dev.request("POST", f"/status/{slug}/subscribers", None, hook), 201)
    [confirmation] = receiver.received
    confirm_link = confirmation.json["links"]["confirm"]
    assert confirm_link.startswith(f"{dev.url}/status/{slug}/confirm?token=")
    assert public_get(dev, confirm_link[len(dev.url) :])[0] == 200  # the page with the button
    assert public_post(dev, confirm_link[len(dev.url) :]) == 200  # the button
    assert component_statuses(dev, slug) == {"Checkout": "operational", "Search": "operational"}

    # when the rule fires (two minutes on the local clock), an incident opens
    tick(dev, "2m")
    [incident] = ok(dev.request("GET", "/api/v1/incidents", token))["items"]

    # then Checkout is partial_outage on the public page, in JSON and in HTML
    assert component_statuses(dev, slug) == {"Checkout": "partial_outage", "Search": "operational"}
    status, headers, html = public_get(dev, f"/status/{slug}")
    assert status == 200 and "max-age" in headers["Cache-Control"]
    text = html.decode()
    assert "Partial System Outage" in text and "Partial outage: Checkout" in text
    # and nothing internal is on it: not the alert's summary, not the incident id
    assert "db-7" not in text and incident["id"] not in text and rule_id not in text

    # and the subscriber got the signed "investigating" update (sent behind the event that
    # opened it, by the fan-out run the local scheduler fires within a second or two), once
    arrived(receiver, 2)
    assert receiver.paths() == ["/hooks/status", "/hooks/status"]
    update = receiver.received[1]
    assert verify(
        subscribed["signing_secret"],
        update.headers[SIGNATURE_HEADER.lower()],
        update.raw,
        int(time.time()),
    )
    assert update.json["context"]["status"] == "investigating"

    # when the incident is resolved, then Checkout is operational again
    ok(dev.request("POST", f"/api/v1/incidents/{incident['id']}/resolve", token))
    assert component_statuses(dev, slug) == {"Checkout": "operational", "Search": "operational"}
    summary = json.loads(public_get(dev, f"/status/{slug}.json")[2])
    assert summary["status"]["indicator"] == "none" and summary["incidents"] == []

    # and the subscriber got exactly one more update: resolved
    arrived(receiver, 3)
    tick(dev, "1m")  # anything still due would be sent now
    statuses: list[Any] = [r.json["context"].get("status") for r in receiver.received[1:]]
    assert statuses == ["investigating", "resolved"]
    status, _, rss = public_get(dev, f"/status/{slug}/history.rss")
    assert status == 200 and b"Partial outage: Checkout (resolved)" in rss


def test_a_posted_update_is_answered_at_once_and_its_webhook_arrives_shortly_after(
    dev: DevServer, receiver: Receiver
) -> None:
    # given a page with a confirmed webhook subscriber, as a curl user sets it up
    tenant = f"e2e-status-{uuid.uuid4().hex[:10]}"
    token = dev.token(tenant, "editor")
    slug = f"api-{uuid.uuid4().hex[:8]}"
    page = ok(
        dev.request("POST", "/api/v1/status-pages", token, {"slug": slug, "title": "API"}), 201
    )
    base = f"/api/v1/status-pages/{page['id']}"
    component = ok(dev.request("POST", f"{base}/components", token, {"name": "Gateway"}), 201)
    hook = {"channel": "webhook", "address": f"{receiver.url}/hooks/posted"}
    ok(dev.request("POST", f"/status/{slug}/subscribers", None, hook), 201)
    [confirmation] = receiver.received
    assert public_post(dev, confirmation.json["links"]["confirm"][len(dev.url) :]) == 200

    # when an incident is posted
    body = {
        "name": "Gateway errors",
        "body": "5xx",
        "components": {component["id"]: "major_outage"},
    }
    posted = ok(dev.request("POST", f"{base}/incidents", token, body), 201)

    # then the update reaches the webhook without any tick: the dev server's scheduler runs it
    arrived(receiver, 2)
    [update] = receiver.received[1:]
    assert update.json["context"]["update_id"] == posted["updates"][0]["id"]
    assert update.json["title"] == "[API] Gateway errors: investigating"
