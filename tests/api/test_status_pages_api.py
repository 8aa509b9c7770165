"""Status pages through the API: CRUD, validation, isolation, audit, the public routes and
what they must never show, and subscribers' double opt-in."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from orchestrix import bootstrap
from orchestrix.adapters.http.status_forms import FORM
from orchestrix.adapters.notify.webhook import SIGNATURE_HEADER, verify
from orchestrix.domain.notifications import MAX_ATTEMPTS
from orchestrix.local.functions import FunctionHost
from orchestrix.local.one_time import MotoOneTimeSchedules
from orchestrix.local.scheduler import LocalScheduler
from tests.e2e.receivers import Receiver

from .conftest import Client, in_process_aws, token
from .test_notifications_api import Receiver as ScriptedReceiver
from .test_notifications_api import log

BASE = "/api/v1/status-pages"


@pytest.fixture(scope="module")
def aws(client: Client) -> Iterator[None]:
    """moto for KMS (sealed subscriber secrets), SES and the scheduler, in this process."""
    with in_process_aws():
        from orchestrix import bootstrap

        name = bootstrap.settings().schedule_group_name  # maintenances start and end by schedule
        bootstrap.boto3_client("scheduler").create_schedule_group(Name=name)
        yield


@pytest.fixture
def scheduler(aws: None) -> LocalScheduler:
    """Fires one-time schedules (fan-out runs, notification retries) on the adjustable
    clock, as `orchestrix dev` does."""
    one_time = MotoOneTimeSchedules(
        bootstrap.boto3_client("scheduler"), bootstrap.settings().schedule_group_name
    )
    return LocalScheduler(bootstrap.clock(), FunctionHost().invoke, (), one_time)  # type: ignore[arg-type]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def ok(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.body
    return reply.json if reply.body else None


def new_page(client: Client, tok: str, **extra: Any) -> dict[str, Any]:
    slug = f"acme-{uuid.uuid4().hex[:8]}"
    body = {"slug": slug, "title": "Acme Cloud", **extra}
    return ok(client.post(BASE, tok, body), 201)  # type: ignore[no-any-return]


def component(client: Client, tok: str, page_id: str, **spec: Any) -> dict[str, Any]:
    reply = client.post(f"{BASE}/{page_id}/components", tok, {"name": "API", **spec})
    return ok(reply, 201)  # type: ignore[no-any-return]


def errors_at(reply: Any) -> list[list[Any]]:
    assert reply.status in (400, 422), reply.body
    assert reply.content_type.startswith("application/problem+json")
    return [e["loc"] for e in reply.json["errors"]]


def test_page_crud_is_audited_and_lists_newest_first(client: Client, aws: None) -> None:
    tenant = f"sp-{uuid.uuid4().hex[:8]}"
    editor = token(tenant, "editor")
    first = new_page(client, editor, description="Our cloud", branding={"accent_color": "#112233"})
    second = new_page(client, editor)
    assert first["public_url"] == f"/status/{first['slug']}"
    listed = ok(client.get(BASE, token(tenant, "viewer")))["items"]
    assert [p["id"] for p in listed] == [second["id"], first["id"]]

    changed = {**{k: first[k] for k in ("slug", "description")}, "title": "Acme"}
    assert ok(client.request("PUT", f"{BASE}/{first['id']}", editor, changed))["title"] == "Acme"
    assert client.delete(f"{BASE}/{second['id']}", editor).status == 204
    assert client.get(f"{BASE}/{second['id']}", editor).status == 404

    audit = ok(client.get("/api/v1/audit-logs?resource_type=status_page", token(tenant)))["items"]
    assert sorted(e["action"] for e in audit) == [
        "status_page.create",
        "status_page.create",
        "status_page.delete",
        "status_page.update",
    ]
    update = next(e for e in audit if e["action"] == "status_page.update")
    assert (update["before"]["title"], update["after"]["title"]) == ("Acme Cloud", "Acme")


def test_viewers_cannot_create_pages(client: Client, aws: None) -> None:
    reply = client.post(
        BASE, token(f"sp-{uuid.uuid4().hex[:8]}", "viewer"), {"slug": "x", "title": "X"}
    )
    assert reply.status == 403


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"slug": "Not A Slug", "title": "X"}, ["body", "slug"]),
        ({"slug": "-edge", "title": "X"}, ["body", "slug"]),
        ({"slug": "ok", "title": ""}, ["body", "title"]),
        (
            {"slug": "ok", "title": "X", "branding": {"accent_color": "red;}"}},
            ["body", "branding", "accent_color"],
        ),
        (
            {"slug": "ok", "title": "X", "branding": {"logo_url": "javascript:alert(1)"}},
            ["body", "branding", "logo_url"],
        ),
        (
            {"slug": "ok", "title": "X", "branding": {"logo_url": "http://cdn.example/l.png"}},
            ["body", "branding", "logo_url"],
        ),
        ({"slug": "ok", "title": "X", "owner": "me"}, ["body", "owner"]),
    ],
)
def test_bad_page_input_is_a_problem_naming_the_field(
    client: Client, aws: None, body: dict[str, Any], loc: list[str]
) -> None:
    reply = client.post(BASE, token(f"sp-{uuid.uuid4().hex[:8]}", "editor"), body)
    assert reply.status == 422
    assert loc in errors_at(reply)


def test_a_slug_is_unique_across_tenants(client: Client, aws: None) -> None:
    page = new_page(client, token(f"sp-{uuid.uuid4().hex[:8]}", "editor"))
    reply = client.post(
        BASE, token(f"sp-{uuid.uuid4().hex[:8]}", "editor"), {"slug": page["slug"], "title": "Mine"}
    )
    assert reply.status == 409
    assert "slug" in reply.json["detail"]


def test_component_links_and_statuses_are_validated(client: Client, aws: None) -> None:
    tenant = f"sp-{uuid.uuid4().hex[:8]}"
    editor = token(tenant, "editor")
    page = new_page(client, editor)
    path = f"{BASE}/{page['id']}/components"
    cases = [
        ({"name": "API", "rule_ids": ["rule_nope"]}, ["body", "rule_ids"]),
        ({"name": "API", "impact": "operational"}, ["body", "impact"]),
        ({"name": "API", "status": "on_fire"}, ["body", "status"]),
        ({"name": "API", "group_id": "scg_nope"}, ["body", "group_id"]),
        ({"name": "API", "services": [""]}, ["body", "services"]),
        ({"name": "API", "position": False}, ["body", "position"]),
        ({"name": "API", "position": "3"}, ["body", "position"]),
    ]
    for body, loc in cases:
        reply = client.post(path, editor, body)
        assert loc == errors_at(reply)[0][: len(loc)], (body, reply.body)
    group = client.post(
        f"{BASE}/{page['id']}/component-groups", editor, {"name": "G", "position": False}
    )
    assert ["body", "position"] in errors_at(group)


def test_another_tenants_page_and_components_are_not_found(client: Client, aws: None) -> None:
    owner = token(f"sp-{uuid.uuid4().hex[:8]}", "admin")
    page = new_page(client, owner)
    comp = component(client, owner, page["id"])
    intruder = token(f"sp-{uuid.uuid4().hex[:8]}", "admin")
    base = f"{BASE}/{page['id']}"
    attempts = [
        client.get(base, intruder),
        client.request("PUT", base, intruder, {"slug": "stolen", "title": "X"}),
        client.delete(base, intruder),
        client.get(f"{base}/components", intruder),
        client.request("PUT", f"{base}/components/{comp['id']}", intruder, {"name": "X"}),
        client.post(f"{base}/incidents", intruder, {"name": "X", "body": "Y"}),
        client.get(f"{base}/subscribers", intruder),
        client.get(f"{base}/uptime", intruder),
    ]
    assert [a.status for a in attempts] == [404] * len(attempts)
    # and the owner's page is untouched
    assert ok(client.get(base, owner))["slug"] == page["slug"]
    # a rule of the intruder's tenant is no rule of the owner's
    rule = {"name": "R", "expr": "vector(1) > 0", "severity": "critical"}
    foreign_rule = ok(client.post("/api/v1/alert-rules", intruder, rule), 201)["id"]
    reply = client.post(f"{base}/components", owner, {"name": "DB", "rule_ids": [foreign_rule]})
    assert ["body", "rule_ids"] in errors_at(reply)


def public(client: Client, slug: str, suffix: str = "") -> Any:
    return client.get(f"/status/{slug}{suffix}")


def test_public_page_shows_status_in_html_json_and_feeds_without_credentials(
    client: Client, aws: None
) -> None:
    tenant = f"sp-{uuid.uuid4().hex[:8]}"
    editor = token(tenant, "editor")
    page = new_page(client, editor)
    group = ok(client.post(f"{BASE}/{page['id']}/component-groups", editor, {"name": "Core"}), 201)
    api = component(client, editor, page["id"], group_id=group["id"], services=["api-internal-7"])
    web = component(client, editor, page["id"], name="Website", position=1)

    html = public(client, page["slug"])
    assert html.status == 200 and html.content_type.startswith("text/html")
    assert "max-age=30" in html.headers["cache-control"]
    assert "script-src" not in html.headers["content-security-policy"]
    assert "All Systems Operational" in html.body.decode()

    # when a responder posts an incident making the API a major outage
    incident = ok(
        client.post(
            f"{BASE}/{page['id']}/incidents",
            token(tenant, "responder"),
            {
                "name": "Elevated errors",
                "body": "Looking into it",
                "components": {api["id"]: "major_outage"},
            },
        ),
        201,
    )
    summary = ok(public(client, page["slug"], ".json"))
    assert summary["status"] == {"indicator": "critical", "description": "Major System Outage"}
    assert summary["page"]["id"] == page["id"]
    statuses = {c["name"]: (c["status"], c["group"]) for c in summary["components"]}
    assert statuses == {
        "API": ("major_outage", False),
        "Website": ("operational", False),
        "Core": ("major_outage", True),
    }
    assert next(c for c in summary["components"] if c["group"])["components"] == [api["id"]]
    [shown] = summary["incidents"]
    assert (shown["id"], shown["status"], shown["impact"]) == (
        incident["id"],
        "investigating",
        "critical",
    )
    assert shown["incident_updates"][0]["body"] == "Looking into it"
    assert summary["scheduled_maintenances"] == []

    # and resolves it: the component is operational again, the incident is history
    resolved = {"status": "resolved", "body": "Fixed"}
    ok(
        client.post(f"{BASE}/{page['id']}/incidents/{incident['id']}/updates", editor, resolved),
        201,
    )
    summary = ok(public(client, page["slug"], ".json"))
    assert summary["status"]["indicator"] == "none"
    assert summary["incidents"] == []
    rss = ET.fromstring(public(client, page["slug"], "/history.rss").body)
    assert [i.findtext("guid") for i in rss.iter("item")] == [incident["id"]]
    atom = ET.fromstring(public(client, page["slug"], "/history.atom").body)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert "Fixed" in atom.find("a:entry", ns).findtext("a:content", namespaces=ns)  # type: ignore[union-attr]
    assert web["status"] == "operational"


def test_public_page_shows_nothing_private(client: Client, aws: None, receiver: Receiver) -> None:
    tenant = f"sp-{uuid.uuid4().hex[:8]}"
    editor = token(tenant, "editor", subject="carol-secret-subject")
    page = new_page(client, editor)
    rule = {
        "name": "SecretRuleName",
        "expr": "vector(1) > 0",
        "severity": "critical",
        "labels": {"team": "hidden-team"},
    }
    rule_id = ok(client.post("/api/v1/alert-rules", editor, rule), 201)["id"]
    comp = component(client, editor, page["id"], services=["svc-internal-42"], rule_ids=[rule_id])
    client.post(
        f"{BASE}/{page['id']}/subscribers",
        editor,
        {"channel": "email", "address": "private.person@example.com"},
    )
    ok(
        client.post(
            f"{BASE}/{page['id']}/incidents",
            editor,
            {"name": "Slow", "body": "Slow", "components": {comp["id"]: "degraded_performance"}},
        ),
        201,
    )
    shown = b"".join(
        public(client, page["slug"], suffix).body
        for suffix in ("", ".json", "/history.rss", "/history.atom")
    ).decode()
    for secret in (
        "svc-internal-42",
        rule_id,
        "SecretRuleName",
        "hidden-team",
        "carol-secret-subject",
        "private.person@example.com",
        tenant,
    ):
        assert secret not in shown, secret


def test_unknown_slug_is_a_404_problem(client: Client, aws: None) -> None:
    for suffix in ("", ".json", "/history.rss", "/history.atom"):
        reply = public(client, f"no-such-page-{uuid.uuid4().hex[:6]}", suffix)
        assert reply.status == 404
        assert reply.content_type.startswith("application/problem+json")


def test_maintenance_window_must_end_after_it_starts(client: Client, aws: None) -> None:
    editor = token(f"sp-{uuid.uuid4().hex[:8]}", "editor")
    page = new_page(client, editor)
    body = {
        "name": "DB upgrade",
        "body": "Upgrading",
        "scheduled_for": "2030-01-01T10:00:00Z",
        "scheduled_until": "2030-01-01T09:00:00Z",
    }
    reply = client.post(f"{BASE}/{page['id']}/maintenances", editor, body)
    assert ["body", "scheduled_until"] in errors_at(reply)
    reply = client.post(
        f"{BASE}/{page['id']}/maintenances",
        editor,
        {**body, "scheduled_for": 1893488400, "scheduled_until": "2030-01-01T11:00:00Z"},
    )
    assert ["body", "scheduled_for"] in errors_at(reply)
    ancient = {**body, "scheduled_for": "0121-04-01T20:58:38Z"}
    reply = client.post(f"{BASE}/{page['id']}/maintenances", editor, ancient)
    assert ["body", "scheduled_for"] in errors_at(reply)


def test_scheduled_maintenance_is_listed_publicly_until_it_begins(
    client: Client, aws: None
) -> None:
    editor = token(f"sp-{uuid.uuid4().hex[:8]}", "editor")
    page = new_page(client, editor)
    comp = component(client, editor, page["id"])
    body = {
        "name": "DB upgrade",
        "body": "Upgrading the database",
        "scheduled_for": "2031-01-01T10:00:00Z",
        "scheduled_until": "2031-01-01T11:00:00Z",
        "component_ids": [comp["id"]],
    }
    created = ok(client.post(f"{BASE}/{page['id']}/maintenances", editor, body), 201)
    assert created["status"] == "scheduled"
    summary = ok(public(client, page["slug"], ".json"))
    [shown] = summary["scheduled_maintenances"]
    assert (shown["id"], shown["status"], shown["scheduled_for"]) == (
        created["id"],
        "scheduled",
        "2031-01-01T10:00:00+00:00",
    )
    assert summary["components"][0]["status"] == "operational"  # not yet under maintenance
    unknown = client.post(
        f"{BASE}/{page['id']}/maintenances", editor, {**body, "component_ids": ["cmp_nope"]}
    )
    assert ["body", "component_ids"] in errors_at(unknown)
    assert client.delete(f"{BASE}/{page['id']}/maintenances/{created['id']}", editor).status == 204
    assert ok(public(client, page["slug"], ".json"))["scheduled_maintenances"] == []


def test_subscriber_gets_updates_only_after_confirming_and_never_after_unsubscribing(
    client: Client, aws: None, receiver: Receiver, scheduler: LocalScheduler
) -> None:
    tenant = f"sp-{uuid.uuid4().hex[:8]}"
    editor = token(tenant, "editor")
    page = new_page(client, editor)
    comp = component(client, editor, page["id"])
    other = component(client, editor, page["id"], name="Billing")
    # given a webhook subscribed publicly to the API component only
    hook = f"{receiver.url}/hooks/watcher"
    reply = client.post(
        f"/status/{page['slug']}/subscribers",
        None,
        {"channel": "webhook", "address": hook, "component_ids": [comp["id"]]},
    )
    subscribed = ok(reply, 201)
    assert subscribed["status"] == "pending" and subscribed["signing_secret"]
    # then it received one signed confirmation request and nothing else
    [confirmation] = receiver.received
    assert verify(
        subscribed["signing_secret"],
        confirmation.headers[SIGNATURE_HEADER.lower()],
        confirmation.raw,
        int(__import__("time").time()),
    )
    confirm_link = confirmation.json["links"]["confirm"]

    def post_incident(component_id: str, name: str) -> dict[str, Any]:
        body = {
            "name": name,
            "body": f"{name} body",
            "components": {component_id: "partial_outage"},
        }
        return ok(client.post(f"{BASE}/{page['id']}/incidents", editor, body), 201)  # type: ignore[no-any-return]

    # when an incident is posted before confirming, then nothing is sent, even by the fan-out
    post_incident(comp["id"], "Before confirming")
    scheduler.advance(timedelta(seconds=5))
    assert len(receiver.received) == 1
    link = urlsplit(confirm_link).path + "?" + urlsplit(confirm_link).query
    # when the link is only opened (a mail scanner fetching it), then nothing is confirmed:
    # the page it opens has a button that posts to the same URL
    opened = client.get(link)
    assert opened.status == 200 and b'<form method="post" action="confirm?token=' in opened.body
    assert (
        ok(client.get(f"{BASE}/{page['id']}/subscribers", editor))["items"][0]["status"]
        == "pending"
    )
    # when the button is pressed (twice), then the subscription is confirmed
    for _ in range(2):
        page_reply = client.post(link, None, headers={"Content-Type": FORM})
        assert page_reply.status == 200 and b"Subscription confirmed" in page_reply.body
        assert page_reply.headers["cache-control"] == "no-store"
    listed = ok(client.get(f"{BASE}/{page['id']}/subscribers", editor))["items"]
    assert [(s["status"], s["address"]) for s in listed] == [
        ("confirmed", f"{receiver.url.rsplit(':', 1)[0]}/…")
    ]
    # when incidents touch the API and Billing, then only the API's reaches it, once
    post_incident(other["id"], "Billing down")
    incident = post_incident(comp["id"], "API down")
    assert len(receiver.received) == 1  # answered before anything was sent
    scheduler.advance(timedelta(seconds=5))  # the fan-out run the post scheduled
    assert [r.json["title"] for r in receiver.received[1:]] == [
        "[Acme Cloud] API down: investigating"
    ]
    update = receiver.received[1].json
    assert update["context"]["status_incident_id"] == incident["id"]
    assert verify(
        subscribed["signing_secret"],
        receiver.received[1].headers[SIGNATURE_HEADER.lower()],
        receiver.received[1].raw,
        int(__import__("time").time()),
    )
    # when it unsubscribes by the link every update carries, then the next update is not sent
    unsubscribe = urlsplit(update["links"]["unsubscribe"])
    leave = f"{unsubscribe.path}?{unsubscribe.query}"
    assert b'action="unsubscribe?token=' in client.get(leave).body  # opening changes nothing
    assert client.post(leave, None, headers={"Content-Type": FORM}).status == 200
    ok(
        client.post(
            f"{BASE}/{page['id']}/incidents/{incident['id']}/updates",
            editor,
            {"status": "resolved", "body": "ok"},
        ),
        201,
    )
    scheduler.advance(timedelta(seconds=5))
    assert len(receiver.received) == 2
    audit = ok(client.get("/api/v1/audit-logs?resource_type=status_subscriber", token(tenant)))[
        "items"
    ]
    assert sorted(e["action"] for e in audit) == [
        "status_subscriber.confirm",
        "status_subscriber.create",
        "status_subscriber.unsubscribe",
    ]


def test_bad_subscriptions_are_refused(client: Client, aws: None) -> None:
    editor = token(f"sp-{uuid.uuid4().hex[:8]}", "editor")
    page = new_page(client, editor)
    path = f"/status/{page['slug']}/subscribers"
    assert ["body", "address"] in errors_at(
        client.post(path, None, {"channel": "email", "address": "not-an-email"})
    )
    assert ["body", "address"] in errors_at(
        client.post(path, None, {"channel": "webhook", "address": "ftp://x.example"})
    )
    assert ["body", "component_ids"] in errors_at(
        client.post(
            path, None, {"channel": "email", "address": "a@example.com", "component_ids": ["cmp_x"]}
        )
    )
    # an address the egress policy refuses (the cloud metadata endpoint) is named
    metadata = {"channel": "webhook", "address": "http://169.254.169.254/latest"}
    assert ["body", "address"] in errors_at(client.post(path, None, metadata))
    # a made-up token confirms nothing
    assert client.post(f"/status/{page['slug']}/confirm?token=made-up").status == 404


def test_the_api_reference_documents_the_status_page_routes(client: Client, aws: None) -> None:
    doc = ok(client.get("/api/v1/openapi.json"))
    paths = doc["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/status-pages"])
    assert "post" in paths["/api/v1/status-pages/{page_id}/incidents/{incident_id}/updates"]
    for public_path in (
        "/status/{slug}",
        "/status/{slug}/history.rss",
        "/status/{slug}/history.atom",
    ):
        assert paths[public_path]["get"]["security"] == []
    assert paths["/status/{slug}/subscribers"]["post"]["security"] == []
    schema = paths["/api/v1/status-pages/{page_id}/components"]["post"]["requestBody"]["content"]
    fields = schema["application/json"]["schema"]
    assert "$ref" in fields or "properties" in fields


def test_an_address_is_asked_to_confirm_once_until_it_unsubscribes(
    client: Client, aws: None, receiver: Receiver
) -> None:
    page = new_page(client, token(f"sp-{uuid.uuid4().hex[:8]}", "editor"))
    path = f"/status/{page['slug']}/subscribers"
    hook = {"channel": "webhook", "address": f"{receiver.url}/hooks/once"}
    ok(client.post(path, None, hook), 201)

    again = client.post(path, None, hook)

    assert again.status == 409 and again.content_type.startswith("application/problem+json")
    assert len(receiver.received) == 1  # no second confirmation request


def test_the_page_form_subscribes_without_javascript(
    client: Client, aws: None, receiver: Receiver
) -> None:
    editor = token(f"sp-{uuid.uuid4().hex[:8]}", "editor")
    page = new_page(client, editor)
    comp = component(client, editor, page["id"])
    slug = page["slug"]
    html = public(client, slug).body.decode()
    # the page carries a plain HTML form posting to its own subscribers route
    assert f'<form method="post" action="{slug}/subscribers">' in html
    assert f'name="component_ids" value="{comp["id"]}"' in html
    assert "form-action 'self'" in public(client, slug).headers["content-security-policy"]

    # when a browser posts the form (urlencoded, as without JavaScript)
    form = f"channel=webhook&address={receiver.url}/hooks/form&component_ids={comp['id']}"
    reply = client.post(
        f"/status/{slug}/subscribers",
        None,
        raw=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    # then it reads a page, and the address was asked to confirm
    assert reply.status == 200 and reply.content_type.startswith("text/html")
    assert "Check your inbox" in reply.body.decode()
    assert receiver.paths() == ["/hooks/form"]
    listed = ok(client.get(f"{BASE}/{page['id']}/subscribers", editor))["items"]
    assert [(s["status"], s["component_ids"]) for s in listed] == [("pending", [comp["id"]])]
    # and a bad address in the form is a problem naming the field
    bad = client.post(
        f"/status/{slug}/subscribers",
        None,
        raw=b"address=nobody",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert ["body", "address"] in errors_at(bad)


def confirmed_webhooks(
    client: Client, slug: str, urls: list[str], deliveries: Callable[[], list[Any]]
) -> None:
    """Subscribe each URL and confirm it by the link its confirmation request carried."""
    for url in urls:
        ok(
            client.post(
                f"/status/{slug}/subscribers", None, {"channel": "webhook", "address": url}
            ),
            201,
        )
        link = urlsplit(json.loads(deliveries()[-1])["links"]["confirm"])
        confirmed = client.post(f"{link.path}?{link.query}", None, headers={"Content-Type": FORM})
        assert confirmed.status == 200, confirmed.body


def test_an_update_is_accepted_at_once_and_sent_to_each_confirmed_subscriber_once_behind_it(
    client: Client, aws: None, receiver: Receiver, scheduler: LocalScheduler
) -> None:
    # given three confirmed webhook subscribers and one who never confirmed
    tenant = f"sp-{uuid.uuid4().hex[:8]}"
    editor = token(tenant, "editor")
    page = new_page(client, editor)
    comp = component(client, editor, page["id"])
    hooks = [f"{receiver.url}/hooks/{name}" for name in ("a", "b", "c")]
    confirmed_webhooks(client, page["slug"], hooks, lambda: [r.raw for r in receiver.received])
    pending = {"channel": "webhook", "address": f"{receiver.url}/hooks/pending"}
    ok(client.post(f"/status/{page['slug']}/subscribers", None, pending), 201)
    confirmations = len(receiver.received)

    # when an incident is posted
    body = {"name": "API down", "body": "Errors", "components": {comp["id"]: "major_outage"}}
    posted = ok(client.post(f"{BASE}/{page['id']}/incidents", editor, body), 201)

    # then it is accepted having sent nothing yet
    assert len(receiver.received) == confirmations
    # and when its fan-out runs, each confirmed subscriber gets it once, the pending one not
    scheduler.advance(timedelta(seconds=5))
    told = sorted(r.path for r in receiver.received[confirmations:])
    assert told == ["/hooks/a", "/hooks/b", "/hooks/c"]
    assert {r.json["title"] for r in receiver.received[confirmations:]} == {
        "[Acme Cloud] API down: investigating"
    }
    # and a run started again (a retried schedule) sends nothing more
    payload = {"tenant_id": tenant, "update_id": posted["updates"][0]["id"], "run": 0}
    assert FunctionHost().invoke("status_pages", payload)["done"] == 0
    # and so does a run after one that sent everything but died before marking it
    with bootstrap.unit_of_work(tenant, "test") as uow:
        uow.conn.execute(  # type: ignore[attr-defined]
            "UPDATE status_deliveries SET status = 'pending', claimed_until = NULL"
        )
        uow.commit()
    assert FunctionHost().invoke("status_pages", payload)["done"] == 3
    scheduler.advance(timedelta(hours=1))
    assert len(receiver.received) == confirmations + 3


def test_a_failing_webhook_subscriber_is_retried_and_its_failure_is_in_the_notification_log(
    client: Client, aws: None, scheduler: LocalScheduler
) -> None:
    tenant = f"sp-{uuid.uuid4().hex[:8]}"
    editor = token(tenant, "editor")
    page = new_page(client, editor)
    comp = component(client, editor, page["id"])
    # given a confirmed webhook subscriber whose receiver then answers 503 to everything
    with ScriptedReceiver(statuses=[200, *[503] * MAX_ATTEMPTS]) as hook:
        confirmed_webhooks(
            client, page["slug"], [hook.url], lambda: [b for _, b, _ in hook.requests]
        )
        body = {"name": "API down", "body": "Errors", "components": {comp["id"]: "major_outage"}}
        ok(client.post(f"{BASE}/{page['id']}/incidents", editor, body), 201)

        # when the fan-out runs, then the first attempt fails and is shown, waiting to retry
        scheduler.advance(timedelta(seconds=5))
        [entry] = log(client, tenant, "?status=pending")
        assert (entry["attempts"], entry["error"]) == (1, "receiver answered 503: ok")
        assert entry["context"]["status_page"] == page["slug"]

        # when the retries run out, then the notification log shows it failed
        scheduler.advance(timedelta(hours=2))
        assert [status for _, _, status in hook.requests] == [200, *[503] * MAX_ATTEMPTS]
    [failed] = log(client, tenant, "?status=failed")
    assert (failed["id"], failed["attempts"]) == (entry["id"], MAX_ATTEMPTS)
