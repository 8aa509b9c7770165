"""Auto-remediation run for real: a rule fires, the `remediation` state machine (the ASL file
from statemachines/, on moto's engine) runs the rule's workflow against a local HTTP server
with the alert as its input, waits, re-checks the rule and resolves or escalates the alert."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from workflow_runtime import LocalHttp

from orchestrix import bootstrap, wiring
from orchestrix.adapters.clock import AdjustableClock
from orchestrix.adapters.metrics.exposition import parse_exposition
from orchestrix.adapters.postgres import alerting_components
from orchestrix.adapters.postgres.remediation_components import remediation_service
from orchestrix.local import workflow_functions
from orchestrix.local.functions import FunctionHost
from orchestrix.services.rule_evaluation import EvaluationService
from orchestrix.services.workflow_compiler import check_asl
from tests.conftest import ROOT
from tests.workflows import workflow_api
from tests.workflows.workflow_api import Api

pytestmark = pytest.mark.xdist_group("moto-sfn")
api = workflow_api.api  # the fixture
ENDED = ("resolved", "escalated", "failed")
INCIDENT_EVENTS = ("alert.fired", "alert.resolved", "alert.remediation_failed")


@pytest.fixture
def remediation_api(api: Api) -> Iterator[Api]:
    """The workflows stack plus the declared state machines, created as `orchestrix dev`
    creates them, and the schedule group an opened incident's SLA checks go in."""
    workflow_functions.create_state_machines(bootstrap.settings().state_machine_prefix)
    scheduler = bootstrap.boto3_client("scheduler")
    with contextlib.suppress(scheduler.exceptions.ConflictException):
        scheduler.create_schedule_group(Name=bootstrap.settings().schedule_group_name)
    yield api


@pytest.fixture
def tenant() -> str:
    return f"rem-{uuid.uuid4().hex[:10]}"


def drain_workflow(url: str) -> dict[str, Any]:
    return {
        "name": "drain-queue",
        "inputs": {
            "type": "object",
            "properties": {"queue": {"type": "string"}},
            "required": ["queue"],
        },
        "steps": [
            {
                "id": "drain",
                "type": "http",
                "request": {
                    "method": "POST",
                    "url": f"{url}/drain/{{{{ inputs.queue }}}}",
                    "body": {"alert": "{{ alert.id }}", "queue": "{{ alert.labels.queue }}"},
                },
                "expect_status": [200],
            },
            {"id": "done", "type": "succeed"},
        ],
    }


def write_metric(tenant: str, text: str) -> None:
    now_ms = int(bootstrap.clock().now().timestamp() * 1000)
    bootstrap.metric_store().write(tenant, parse_exposition(text, content_type=None, now_ms=now_ms))


def create_rule(api: Api, tenant: str, workflow_id: str, severity: str = "warning") -> str:
    reply = api.call(
        "POST",
        "/api/v1/alert-rules",
        tenant,
        body={
            "name": "QueueBacklog",
            "expr": "queue_depth > 100",
            "severity": severity,
            "remediation_workflow_id": workflow_id,
        },
    )
    assert reply.status == 201, reply.json
    return str(reply.json["id"])


def evaluate(tenant: str, wait_seconds: int = 1) -> None:
    """One rule evaluation, with the re-check `wait_seconds` after the workflow succeeds."""
    service = EvaluationService(
        bootstrap.unit_of_work,
        alerting_components.repos,
        alerting_components.metric_reader,
        bootstrap.event_publisher(),
        remediation=remediation_service(wait_seconds=wait_seconds, poll_seconds=1),
    )
    service.tick(tenant, bootstrap.clock().now())


def only_alert(api: Api, tenant: str) -> dict[str, Any]:
    reply = api.call("GET", "/api/v1/alerts", tenant, "viewer")
    (alert,) = reply.json["items"]
    shown = api.call("GET", f"/api/v1/alerts/{alert['id']}", tenant, "viewer")
    assert shown.status == 200, shown.json
    return shown.json  # type: ignore[no-any-return]


def wait_for_remediation(api: Api, tenant: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        alert = only_alert(api, tenant)
        if alert["remediations"] and alert["remediations"][0]["status"] in ENDED:
            # read again: the alert above was read before its remediation ended
            return only_alert(api, tenant)
        time.sleep(0.1)
    raise AssertionError(f"remediation still running after 30 s: {alert}")


def published(api: Api, tenant: str) -> list[str]:
    with api.lock:
        return [e["detail-type"] for e in api.events if e["detail"].get("tenant_id") == tenant]


def test_firing_rule_runs_its_workflow_with_the_alert_and_resolves_it_once_healthy(
    remediation_api: Api, local_http: LocalHttp, tenant: str
) -> None:
    api = remediation_api
    # given a deep queue and a rule whose remediation drains it
    workflow_id = api.create(tenant, drain_workflow(local_http.url))
    create_rule(api, tenant, workflow_id)
    write_metric(tenant, 'queue_depth{queue="mail"} 150\n')

    # when the rule fires, and the queue is healthy again before the re-check
    evaluate(tenant)
    write_metric(tenant, 'queue_depth{queue="mail"} 3\n')
    alert = wait_for_remediation(api, tenant)

    # then the workflow ran with the alert's labels as its input, and the alert is resolved
    (remediation,) = alert["remediations"]
    assert (remediation["status"], remediation["workflow_id"]) == ("resolved", workflow_id)
    execution = api.execution(tenant, remediation["execution_id"])
    assert execution["status"] == "succeeded"
    assert execution["input"] == alert["labels"]
    assert alert["labels"] == {"alertname": "QueueBacklog", "queue": "mail", "severity": "warning"}
    assert local_http.bodies("/drain/mail") == [{"alert": alert["id"], "queue": "mail"}]
    assert alert["status"] == "resolved"
    assert alert["resolved_by"] == "system:remediation"
    assert "alert.remediation_failed" not in published(api, tenant)

    # and the resolution is audited
    audit = api.call("GET", f"/api/v1/audit-logs?resource_id={alert['id']}", tenant, "admin")
    assert {e["action"] for e in audit.json["items"]} == {"alert.create", "alert.resolve"}


def test_alert_still_breaching_after_the_wait_stays_firing_and_goes_to_escalation(
    remediation_api: Api, local_http: LocalHttp, tenant: str
) -> None:
    api = remediation_api
    # given a rule whose remediation does not help
    workflow_id = api.create(tenant, drain_workflow(local_http.url))
    create_rule(api, tenant, workflow_id)
    write_metric(tenant, 'queue_depth{queue="mail"} 150\n')

    # when it fires and the queue stays deep
    evaluate(tenant)
    alert = wait_for_remediation(api, tenant)

    # then the workflow ran, the alert still fires, and escalation is told
    (remediation,) = alert["remediations"]
    assert remediation["execution_status"] == "succeeded"
    assert remediation["status"] == "escalated"
    assert remediation["reason"] == "still firing after the re-check"
    assert alert["status"] == "firing"
    with api.lock:
        failed = [e["detail"] for e in api.events if e["detail-type"] == "alert.remediation_failed"]
    mine = [d for d in failed if d["id"] == alert["id"]]
    assert [(d["status"], d["remediation"]["id"]) for d in mine] == [("firing", remediation["id"])]


def test_failing_workflow_hands_the_alert_to_escalation_at_once(
    remediation_api: Api, local_http: LocalHttp, tenant: str
) -> None:
    api = remediation_api
    # given a remediation endpoint that is down
    local_http.answer("/drain/mail", 500)
    workflow_id = api.create(tenant, drain_workflow(local_http.url))
    create_rule(api, tenant, workflow_id)
    write_metric(tenant, 'queue_depth{queue="mail"} 150\n')

    # when the rule fires (a long wait: the failure must not wait for it)
    evaluate(tenant, wait_seconds=3600)
    alert = wait_for_remediation(api, tenant)

    # then the remediation is escalated with the workflow's failure, the alert left firing
    (remediation,) = alert["remediations"]
    assert (remediation["status"], remediation["reason"]) == ("escalated", "workflow failed")
    assert alert["status"] == "firing"
    assert "alert.remediation_failed" in published(api, tenant)


def incidents_after_delivering_alert_events(api: Api, tenant: str) -> list[dict[str, Any]]:
    """Hand the tenant's alert events to the incident_events function, as the
    `alerts-to-incidents` rule does, and list the tenant's incidents then."""
    with api.lock:
        sent = [e for e in api.events if e["detail"].get("tenant_id") == tenant]
    host = FunctionHost()
    for event in sent:
        if event["detail-type"] in INCIDENT_EVENTS:
            detail = json.loads(json.dumps(event["detail"], default=str))
            host.invoke(
                "incident_events",
                {"source": "orchestrix", "detail-type": event["detail-type"], "detail": detail},
            )
    return list(api.call("GET", "/api/v1/incidents", tenant, "viewer").json["items"])


def test_nobody_is_paged_for_an_alert_its_remediation_fixes(
    remediation_api: Api, local_http: LocalHttp, tenant: str
) -> None:
    api = remediation_api
    # given a critical rule (one that opens incidents) whose remediation drains the queue
    workflow_id = api.create(tenant, drain_workflow(local_http.url))
    create_rule(api, tenant, workflow_id, severity="critical")
    write_metric(tenant, 'queue_depth{queue="mail"} 150\n')

    # when it fires, and the fix works before the re-check
    evaluate(tenant)
    write_metric(tenant, 'queue_depth{queue="mail"} 3\n')
    alert = wait_for_remediation(api, tenant)
    assert alert["remediations"][0]["status"] == "resolved"

    # then no incident was opened for it: the fix came first
    assert [e for e in published(api, tenant) if e in INCIDENT_EVENTS] == [
        "alert.fired",
        "alert.resolved",
    ]
    assert incidents_after_delivering_alert_events(api, tenant) == []


def test_an_alert_its_remediation_cannot_fix_opens_its_incident_saying_so(
    remediation_api: Api, local_http: LocalHttp, tenant: str
) -> None:
    api = remediation_api
    # given a critical rule whose remediation endpoint is down
    local_http.answer("/drain/mail", 500)
    workflow_id = api.create(tenant, drain_workflow(local_http.url))
    create_rule(api, tenant, workflow_id, severity="critical")
    write_metric(tenant, 'queue_depth{queue="mail"} 150\n')

    # when it fires and the fix fails
    evaluate(tenant, wait_seconds=3600)
    alert = wait_for_remediation(api, tenant)

    # then the failure, not the firing, opens the incident, and its timeline says why
    assert [e for e in published(api, tenant) if e in INCIDENT_EVENTS] == [
        "alert.fired",
        "alert.remediation_failed",
    ]
    (incident,) = incidents_after_delivering_alert_events(api, tenant)
    assert (incident["status"], incident["severity"]) == ("triggered", "SEV1")
    timeline = api.call("GET", f"/api/v1/incidents/{incident['id']}/timeline", tenant, "viewer")
    (opened,) = [e for e in timeline.json["items"] if e["kind"] == "triggered"]
    assert opened["message"] == (
        "opened by alert QueueBacklog: its automatic remediation did not fix it (workflow failed)"
    )
    assert opened["data"]["severity"] == "SEV1" and incident["alert_count"] == 1
    assert incident["title"] == alert["labels"]["alertname"]


def test_a_remediation_that_cannot_start_pages_at_once(
    remediation_api: Api, local_http: LocalHttp, tenant: str
) -> None:
    api = remediation_api
    # given a critical rule with a remediation, and the remediation state machine gone
    workflow_id = api.create(tenant, drain_workflow(local_http.url))
    create_rule(api, tenant, workflow_id, severity="critical")
    write_metric(tenant, 'queue_depth{queue="mail"} 150\n')
    sfn = bootstrap.boto3_client("stepfunctions")
    machines = sfn.list_state_machines()["stateMachines"]
    (machine,) = [m for m in machines if m["name"].endswith("remediation")]
    sfn.delete_state_machine(stateMachineArn=machine["stateMachineArn"])
    try:
        # when the rule fires
        evaluate(tenant)

        # then its alert.fired does not wait for a fix that never started: it opens the incident
        with api.lock:
            fired = [
                e["detail"]
                for e in api.events
                if e["detail-type"] == "alert.fired" and e["detail"].get("tenant_id") == tenant
            ]
        assert [d["remediation_workflow_id"] for d in fired] == [None]
        (incident,) = incidents_after_delivering_alert_events(api, tenant)
        assert incident["status"] == "triggered"
        assert only_alert(api, tenant)["remediations"][0]["reason"].startswith("StartFailed: ")
    finally:
        workflow_functions.create_state_machines(bootstrap.settings().state_machine_prefix)


def test_suppressed_alert_starts_no_remediation(
    remediation_api: Api, local_http: LocalHttp, tenant: str
) -> None:
    api = remediation_api
    # given a silence over the rule's alerts
    workflow_id = api.create(tenant, drain_workflow(local_http.url))
    create_rule(api, tenant, workflow_id)
    silence = api.call(
        "POST",
        "/api/v1/silences",
        tenant,
        "responder",
        {
            "matchers": [{"name": "alertname", "op": "=", "value": "QueueBacklog"}],
            "ends_at": "2999-01-01T00:00:00Z",
            "comment": "mail relay maintenance",
        },
    )
    assert silence.status == 201, silence.json
    write_metric(tenant, 'queue_depth{queue="mail"} 150\n')

    # when the rule's condition holds
    evaluate(tenant)

    # then the alert is suppressed and nothing ran
    alert = only_alert(api, tenant)
    assert (alert["status"], alert["remediations"]) == ("suppressed", [])
    runs = api.call("GET", f"/api/v1/executions?workflow_id={workflow_id}", tenant, "viewer")
    assert runs.json["items"] == []
    assert local_http.bodies("/drain/mail") == []


def test_second_fire_while_a_remediation_runs_starts_no_second_one(
    remediation_api: Api, local_http: LocalHttp, tenant: str
) -> None:
    api = remediation_api
    # given a remediation waiting five minutes before its re-check
    workflow_id = api.create(tenant, drain_workflow(local_http.url))
    create_rule(api, tenant, workflow_id)
    write_metric(tenant, 'queue_depth{queue="mail"} 150\n')
    evaluate(tenant, wait_seconds=300)
    first = only_alert(api, tenant)
    (running,) = first["remediations"]
    assert running["status"] == "running"

    # when the same alert fires again (as when its silence ends)
    with bootstrap.unit_of_work(tenant, "test") as uow:
        alert = alerting_components.repos(uow).alerts.get(first["id"])
    assert alert is not None
    remediation_service(wait_seconds=300).alert_fired(tenant, alert, workflow_id)

    # then there is still one remediation, and one workflow run
    assert [r["id"] for r in only_alert(api, tenant)["remediations"]] == [running["id"]]

    # and once the workflow is done and the clock passes the re-check, it finishes
    deadline = time.monotonic() + 30
    while only_alert(api, tenant)["remediations"][0]["execution_status"] != "succeeded":
        assert time.monotonic() < deadline, "the workflow did not succeed in 30 s"
        time.sleep(0.1)
    clock = bootstrap.clock()
    assert isinstance(clock, AdjustableClock)
    clock.advance(timedelta(minutes=5))
    write_metric(tenant, 'queue_depth{queue="mail"} 3\n')
    done = wait_for_remediation(api, tenant)
    assert [r["status"] for r in done["remediations"]] == ["resolved"]
    assert local_http.bodies("/drain/mail") == [{"alert": first["id"], "queue": "mail"}]
    runs = api.call("GET", f"/api/v1/executions?workflow_id={workflow_id}", tenant, "viewer")
    assert len(runs.json["items"]) == 1


def test_remediation_asl_is_jsonpath_with_every_transition_to_a_known_state() -> None:
    # given the declared machine and its file
    (machine,) = [m for m in wiring.STATE_MACHINES if m.name == "remediation"]
    asl = json.loads((ROOT / "statemachines" / machine.definition).read_text())

    # then every StartAt/Next/Default/Catch names a state, no JSONata or variables are used,
    # and every Lambda task retries the Lambda service's transient errors
    check_asl(asl)
    text = json.dumps(asl)
    assert "JSONata" not in text and '"Assign"' not in text
    tasks = [s for s in asl["States"].values() if s["Type"] == "Task"]
    assert {t["Parameters"]["FunctionName"] for t in tasks} == {"${RemediationFunctionArn}"}
    for task in tasks:
        retried = {e for r in task["Retry"] for e in r["ErrorEquals"]}
        assert "Lambda.ServiceException" in retried
        assert "Lambda.TooManyRequestsException" in retried
