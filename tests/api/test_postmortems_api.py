"""Post-mortems through the gateway: drafted from an incident a firing rule opened, edited,
reviewed, exported as markdown on the tenant's template, isolated per tenant, audited."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from orchestrix import bootstrap
from orchestrix.adapters.aws.eventbridge import _default
from orchestrix.adapters.postgres.alerting_components import evaluation_service
from orchestrix.local.functions import FunctionHost
from orchestrix.ports.language_model import LanguageModelError
from tests.api.conftest import Client, in_process_aws, token
from tests.api.test_alerting_api import RecordedEvents, import_metrics, minute

PROBLEM = "application/problem+json"
NEVER_ISSUED = "mem_00000000000000000000000000"


@pytest.fixture(scope="module")
def events(client: Client) -> Iterator[RecordedEvents]:
    """Events recorded instead of sent; moto for what opening an incident schedules (SLA
    checks) and for the member store's sealed secrets."""
    recorded = RecordedEvents()
    with in_process_aws(), pytest.MonkeyPatch.context() as mp:
        import boto3

        boto3.client("scheduler", region_name="us-east-1").create_schedule_group(
            Name=bootstrap.settings().schedule_group_name
        )
        mp.setattr(bootstrap, "event_publisher", lambda: recorded)
        yield recorded


@pytest.fixture
def tenant() -> str:
    return f"pm-{uuid.uuid4().hex[:10]}"


def ok(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.body
    return reply.json


def delivered(detail_type: str, tenant: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge event the `alerts-to-incidents` rule hands its target."""
    body = json.loads(json.dumps({"tenant_id": tenant, **detail}, default=_default))
    return {"source": "orchestrix", "detail-type": detail_type, "detail": body}


def incident_from_firing_rule(api: Client, tenant: str, events: RecordedEvents) -> str:
    """A critical rule over a too-high error count fires; its alert.fired event reaches the
    incident_events function, which opens the incident."""
    t0 = minute()
    ms = int(t0.timestamp() * 1000)
    series = 'pm_checkout_errors{service="checkout"}'
    import_metrics(
        api, tenant, f"{series} 42 {ms - 60_000}\n{series} 43 {ms}\n{series} 44 {ms + 60_000}\n"
    )
    rule = {
        "name": "CheckoutErrors",
        "expr": "pm_checkout_errors > 10",
        "for": "1m",
        "severity": "critical",
        "annotations": {"summary": "Checkout is failing"},
    }
    ok(api.post("/api/v1/alert-rules", token(tenant), rule), 201)
    evaluation = evaluation_service()
    evaluation.tick(tenant, t0)
    assert evaluation.tick(tenant, t0 + timedelta(minutes=1)).fired == 1
    [fired] = [d for t, kind, d in events.sent if t == tenant and kind == "alert.fired"]
    FunctionHost().invoke("incident_events", delivered("alert.fired", tenant, fired))
    [incident] = ok(api.get("/api/v1/incidents", token(tenant, "viewer")))["items"]
    return str(incident["id"])


def member(api: Client, tenant: str, name: str) -> str:
    return str(ok(api.post("/api/v1/members", token(tenant, "editor"), {"name": name}), 201)["id"])


def declared_incident(api: Client, tenant: str, resolve: bool = True) -> str:
    created = ok(api.post("/api/v1/incidents", token(tenant, "responder"), {"title": "db"}), 201)
    if resolve:
        ok(api.post(f"/api/v1/incidents/{created['id']}/resolve", token(tenant, "responder")))
    return str(created["id"])


def drafted_with_an_owner(api: Client, tenant: str) -> tuple[str, str, str, str, Any]:
    """A resolved incident's drafted post-mortem and a member to own its action items:
    (incident id, post-mortem path, responder token, member id, the draft)."""
    incident_id = declared_incident(api, tenant)
    path = f"/api/v1/incidents/{incident_id}/postmortem"
    responder = token(tenant, "responder")
    owner = member(api, tenant, "Ada")
    return incident_id, path, responder, owner, ok(api.post(path, responder), 201)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_draft_from_a_firing_rule_carries_the_incident_timeline_and_times(
    client: Client, events: RecordedEvents, tenant: str
) -> None:
    # given an incident opened by a firing rule, acknowledged 3 minutes later, a note, and
    # resolved 10 minutes after that
    incident_id = incident_from_firing_rule(client, tenant, events)
    path = f"/api/v1/incidents/{incident_id}"
    responder = token(tenant, "responder")
    bootstrap.clock().advance(timedelta(minutes=3))
    ok(client.post(f"{path}/acknowledge", responder))
    ok(client.post(f"{path}/notes", responder, {"text": "rolled back 4.2.1"}), 201)
    bootstrap.clock().advance(timedelta(minutes=10))
    ok(client.post(f"{path}/resolve", responder))

    # when a responder drafts its post-mortem
    drafted = ok(client.post(f"{path}/postmortem", responder), 201)

    # then it carries the incident's own timeline, entry for entry, in order
    timeline = ok(client.get(f"{path}/timeline", token(tenant, "viewer")))["items"]
    evidence = drafted["evidence"]
    assert [e["kind"] for e in timeline][:1] == ["triggered"]
    assert [e["kind"] for e in timeline][-3:] == ["acknowledged", "note", "resolved"]
    assert [(e["id"], e["at"], e["kind"], e["message"]) for e in evidence["timeline"]] == [
        (e["id"], e["at"], e["kind"], e["message"]) for e in timeline
    ]
    assert [n["message"] for n in evidence["notes"]] == ["rolled back 4.2.1"]
    # and MTTA/MTTR and the impact window are the incident's
    incident = ok(client.get(path, token(tenant, "viewer")))
    triggered, acked, resolved = (
        at(incident[k]) for k in ("triggered_at", "acknowledged_at", "resolved_at")
    )
    assert evidence["metrics"] == {
        "mtta_seconds": (acked - triggered).total_seconds(),
        "mttr_seconds": (resolved - triggered).total_seconds(),
    }
    assert evidence["metrics"]["mtta_seconds"] >= 180
    assert at(evidence["impact"]["end"]) == resolved
    assert at(evidence["impact"]["start"]) <= triggered
    # and the firing alert, by its rule's name and summary
    [alert] = evidence["alerts"]
    assert (alert["name"], alert["severity"], alert["summary"]) == (
        "CheckoutErrors",
        "critical",
        "Checkout is failing",
    )
    # and, no model being configured, the deterministic narrative of those facts
    assert drafted["narrative_source"] == "deterministic"
    assert drafted["status"] == "draft"
    assert "CheckoutErrors" in drafted["narrative"] and "3m 0s" in drafted["narrative"]

    # and the markdown export lists the same timeline in the same order
    exported = client.get(f"{path}/postmortem.md", token(tenant, "viewer"))
    assert exported.status == 200
    assert exported.content_type.startswith("text/markdown")
    text = exported.body.decode()
    assert "**Time to acknowledge:** 3m 0s" in text
    lines = [line for line in text.splitlines() if line.startswith("- 20")]
    assert [line.split("**")[1] for line in lines] == [e["kind"] for e in timeline]


def test_edit_review_and_publish_with_action_items_every_step_audited(
    client: Client, events: RecordedEvents, tenant: str
) -> None:
    incident_id, path, responder, ada, drafted = drafted_with_an_owner(client, tenant)

    item = {"title": "Page on queue age", "owner_member_id": ada, "due_date": "2030-01-31"}
    patch = {
        "contributing_factors": ["retry storm", "no backoff"],
        "action_items": [item],
        "narrative": "A retry storm took the database down.",
        "status": "in_review",
    }
    edited = ok(client.request("PATCH", path, responder, patch))
    assert edited["status"] == "in_review"
    assert edited["narrative_source"] == "edited"
    assert edited["contributing_factors"] == ["retry storm", "no backoff"]
    [saved] = edited["action_items"]
    assert (saved["owner_member_id"], saved["due_date"], saved["status"]) == (
        ada,
        "2030-01-31",
        "open",
    )
    done = {**item, "id": saved["id"], "status": "done"}
    published = ok(
        client.request("PATCH", path, responder, {"action_items": [done], "status": "published"})
    )
    assert published["status"] == "published" and published["published_at"]
    assert published["action_items"][0]["id"] == saved["id"]
    assert published["action_items"][0]["completed_at"]

    # a published post-mortem is the record: its text no longer changes, nor is it redrafted
    frozen = client.request("PATCH", path, responder, {"narrative": "rewritten"})
    assert frozen.status == 409 and frozen.content_type.startswith(PROBLEM)
    assert client.post(path, responder).status == 409
    assert ok(client.get(path, token(tenant, "viewer")))["narrative"] == patch["narrative"]
    # and the markdown shows the done item under the exported factors
    text = client.get(f"{path}.md", token(tenant, "viewer")).body.decode()
    assert "- retry storm\n- no backoff\n" in text
    assert "- [x] Page on queue age (owner: Ada, due 2030-01-31)" in text

    audit = ok(
        client.get(f"/api/v1/audit-logs?resource_id={drafted['id']}", token(tenant, "admin"))
    )
    assert [e["action"] for e in reversed(audit["items"])] == [
        "postmortem.draft",
        "postmortem.update",
        "postmortem.update",
    ]
    assert audit["items"][0]["before"]["status"] == "in_review"
    assert audit["items"][0]["after"]["status"] == "published"


def test_bad_input_is_a_problem_naming_the_field(
    client: Client, events: RecordedEvents, tenant: str
) -> None:
    incident_id = declared_incident(client, tenant, resolve=False)
    path = f"/api/v1/incidents/{incident_id}/postmortem"
    responder = token(tenant, "responder")
    ok(client.post(path, responder), 201)
    theirs = member(client, f"x{tenant}", "Mallory")
    mine = member(client, tenant, "Ada")

    def patch(body: dict[str, Any]) -> Any:
        reply = client.request("PATCH", path, responder, body)
        assert reply.status == 422, reply.body
        assert reply.content_type.startswith(PROBLEM)
        return reply.json["errors"]

    def item(**extra: Any) -> dict[str, Any]:
        return {"title": "fix", "owner_member_id": mine, "due_date": "2030-01-01", **extra}

    # another tenant's member and an id never issued read the same
    foreign = patch({"action_items": [item(), item(owner_member_id=theirs)]})
    unknown = patch({"action_items": [item(), item(owner_member_id=NEVER_ISSUED)]})
    assert (
        foreign
        == unknown
        == [{"loc": ["body", "action_items", 1, "owner_member_id"], "msg": "no such member"}]
    )
    assert patch({"action_items": [item(due_date="2030-02-30")]})[0]["loc"] == [
        *("body", "action_items", 0, "due_date"),
    ]
    assert patch({"action_items": [item(id="act_nope")]}) == [
        {"loc": ["body", "action_items", 0, "id"], "msg": "no such action item here"}
    ]
    assert patch({"status": "archived"})[0]["loc"] == ["body", "status"]
    assert patch({"contributing_factors": [""]})[0]["loc"] == ["body", "contributing_factors", 0]
    assert patch({"owner": "x"})[0]["loc"] == ["body", "owner"]
    # nothing of it was stored
    assert ok(client.get(path, token(tenant, "viewer")))["action_items"] == []

    # a transition review does not allow, and publishing before the incident is resolved
    skipped = client.request("PATCH", path, responder, {"status": "published"})
    assert skipped.status == 409 and "cannot become published" in skipped.json["detail"]
    ok(client.request("PATCH", path, responder, {"status": "in_review"}))
    early = client.request("PATCH", path, responder, {"status": "published"})
    assert early.status == 409 and "not resolved" in early.json["detail"]


def test_template_is_checked_when_saved_and_used_by_the_export(
    client: Client, events: RecordedEvents, tenant: str
) -> None:
    editor = token(tenant, "editor")
    default = ok(client.get("/api/v1/postmortem-template", token(tenant, "viewer")))
    assert default["is_default"] is True and "{{ range .Timeline }}" in default["template"]

    for bad, says in (
        ("# {{ .Titel }}", "unknown field Titel"),
        ("{{ range .Alerts }}{{ .Nmae }}{{ end }}", "unknown field Nmae"),
        ("{{ if .Title }}never closed", "unexpected EOF"),
        ("{{ humanise .MTTASeconds }}", 'function "humanise" not defined'),
    ):
        refused = client.request("PUT", "/api/v1/postmortem-template", editor, {"template": bad})
        assert refused.status == 422, (bad, refused.body)
        [error] = refused.json["errors"]
        assert error["loc"] == ["body", "template"] and says in error["msg"], error
    too_low = client.request("PUT", "/api/v1/postmortem-template", token(tenant, "responder"), {})
    assert too_low.status in (403, 422)

    mine = (
        "# {{ .Incident.Title }}\nMTTR {{ .MTTR }}\n{{ range .Timeline }}* {{ .Kind }}\n{{ end }}"
    )
    saved = ok(client.request("PUT", "/api/v1/postmortem-template", editor, {"template": mine}))
    assert saved["is_default"] is False and saved["template"] == mine
    incident_id = declared_incident(client, tenant)
    ok(client.post(f"/api/v1/incidents/{incident_id}/postmortem", token(tenant, "responder")), 201)

    text = client.get(
        f"/api/v1/incidents/{incident_id}/postmortem.md", token(tenant, "viewer")
    ).body.decode()
    assert text.startswith("# db\nMTTR ")
    assert text.endswith("* triggered\n* resolved\n")
    # another tenant still exports with the default template
    assert ok(client.get("/api/v1/postmortem-template", token(f"x{tenant}")))["is_default"]
    audit = ok(client.get("/api/v1/audit-logs?resource_type=postmortem_template", token(tenant)))
    [entry] = audit["items"]
    assert entry["action"] == "postmortem_template.update"
    assert entry["after"] == {"template": mine}


def test_another_tenants_post_mortem_is_not_found_like_a_missing_one(
    client: Client, events: RecordedEvents, tenant: str
) -> None:
    incident_id = declared_incident(client, tenant)
    ok(client.post(f"/api/v1/incidents/{incident_id}/postmortem", token(tenant, "responder")), 201)
    intruder = token(f"x{tenant}", "admin")
    missing = "inc_" + "0" * 26

    for method, suffix, body in (
        ("GET", "/postmortem", None),
        ("GET", "/postmortem.md", None),
        ("PATCH", "/postmortem", {"title": "mine now"}),
        ("POST", "/postmortem", None),
    ):
        theirs = client.request(method, f"/api/v1/incidents/{incident_id}{suffix}", intruder, body)
        absent = client.request(method, f"/api/v1/incidents/{missing}{suffix}", intruder, body)
        assert theirs.status == absent.status == 404, (method, suffix, theirs.body)
        assert theirs.json["detail"].replace(incident_id, "X") == absent.json["detail"].replace(
            missing, "X"
        )
    assert ok(client.get(f"/api/v1/incidents/{incident_id}/postmortem", token(tenant)))[
        "title"
    ] == ("Post-mortem: db")


def test_overdue_action_item_is_published_once_by_housekeeping(
    client: Client, events: RecordedEvents, tenant: str
) -> None:
    # given an open action item due yesterday and one done, both past due
    incident_id, path, responder, ada, _ = drafted_with_an_owner(client, tenant)
    yesterday = (bootstrap.clock().now() - timedelta(days=1)).date().isoformat()
    items = [
        {"title": "add backoff", "owner_member_id": ada, "due_date": yesterday},
        {"title": "done", "owner_member_id": ada, "due_date": yesterday, "status": "done"},
    ]
    created = ok(client.request("PATCH", path, responder, {"action_items": items}))
    late = created["action_items"][0]

    # when the daily housekeeping runs twice
    host = FunctionHost()
    first = host.invoke("housekeeping", {})
    host.invoke("housekeeping", {})

    # then one event for the open item, none for the done one, none the second time
    sent = [d for t, kind, d in events.sent if t == tenant and kind.startswith("postmortem.")]
    assert first["overdue_action_items"] >= 1
    assert sent == [
        {
            "postmortem_id": created["id"],
            "incident_id": incident_id,
            "action_item": {
                "id": late["id"],
                "title": "add backoff",
                "owner_member_id": ada,
                "due_date": yesterday,
                "status": "open",
            },
            "days_overdue": 1,
        }
    ]
    audit = ok(client.get(f"/api/v1/audit-logs?resource_id={late['id']}", token(tenant)))
    assert [(e["action"], e["actor"]) for e in audit["items"]] == [
        ("postmortem.action_item.overdue", "system:housekeeping")
    ]

    # when its owner moves the due date, and misses that one too, it is published again
    two_days_ago = (bootstrap.clock().now() - timedelta(days=2)).date().isoformat()
    moved = [{**items[0], "id": late["id"], "due_date": two_days_ago}]
    ok(client.request("PATCH", path, responder, {"action_items": moved}))
    host.invoke("housekeeping", {})
    sent = [d for t, kind, d in events.sent if t == tenant and kind.startswith("postmortem.")]
    assert [d["action_item"]["due_date"] for d in sent] == [yesterday, two_days_ago]


@pytest.fixture
def stage_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Any], None]]:
    """Installs a model as the stage's (bootstrap.language_model) for one test."""

    def install(model: Any) -> None:
        monkeypatch.setitem(bootstrap._overrides, "language_model", model)
        bootstrap.language_model.cache_clear()

    yield install
    bootstrap.language_model.cache_clear()


def test_configured_model_writes_the_narrative_and_a_redraft_keeps_what_people_wrote(
    client: Client,
    events: RecordedEvents,
    tenant: str,
    stage_model: Callable[[Any], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.unit.postmortems.test_postmortem_narrative import FakeModel

    # the stage's model, as bootstrap gives it when one is configured
    model = FakeModel(reply="The database ran out of connections.")
    stage_model(model)
    incident_id = declared_incident(client, tenant)
    path = f"/api/v1/incidents/{incident_id}/postmortem"
    responder = token(tenant, "responder")

    drafted = ok(client.post(path, responder), 201)

    assert (drafted["narrative"], drafted["narrative_source"], drafted["model_id"]) == (
        "The database ran out of connections.",
        "model",
        "fake-1",
    )
    # the last ask is the draft's (opening the incident asked for its analysis first)
    assert incident_id in str(model.asked[-1]["prompt"])

    # when the model fails on a redraft, the deterministic draft replaces the model's
    model.error = LanguageModelError("ThrottlingException")
    redrafted = ok(client.post(path, responder), 200)
    assert redrafted["narrative_source"] == "deterministic"
    assert redrafted["narrative"].startswith('SEV3 incident "db" was opened by dev-responder@')

    # when a person rewrites it, a redraft refreshes the evidence and keeps their words
    ok(client.request("PATCH", path, responder, {"narrative": "Ours."}))
    ok(client.post(f"/api/v1/incidents/{incident_id}/notes", responder, {"text": "late"}), 201)
    asked = len(model.asked)
    kept = ok(client.post(path, responder), 200)
    assert (kept["narrative"], kept["narrative_source"]) == ("Ours.", "edited")
    assert kept["evidence"]["notes"][-1]["message"] == "late"
    assert len(model.asked) == asked  # nobody asked the model for words nobody would use
    actions = ok(client.get(f"/api/v1/audit-logs?resource_id={kept['id']}", token(tenant)))
    assert [e["action"] for e in reversed(actions["items"])] == [
        *("postmortem.draft", "postmortem.redraft", "postmortem.update", "postmortem.redraft"),
    ]
