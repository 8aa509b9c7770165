"""Deployment events from EventBridge become a tenant's changes only when marked for it."""

from __future__ import annotations

from orchestrix.services.change_sources import deployment_change

TIME = "2026-05-01T09:00:00Z"


def codedeploy(app: str, state: str = "START") -> dict:  # type: ignore[type-arg]
    return {
        "id": "evt-1",
        "source": "aws.codedeploy",
        "detail-type": "CodeDeploy Deployment State-change Notification",
        "time": TIME,
        "region": "eu-west-1",
        "detail": {
            "application": app,
            "deploymentGroup": "prod",
            "deploymentId": "d-ABC123",
            "state": state,
        },
    }


def test_codedeploy_start_marked_for_a_tenant_is_its_deployment():
    found = deployment_change(codedeploy("orchestrix.prod.acme.payments"), "prod", "chg_1")
    assert found is not None
    assert (found.tenant_id, found.change.service, found.change.kind) == (
        "acme",
        "payments",
        "deployment",
    )
    assert found.change.external_id == "d-ABC123"
    assert found.change.at.isoformat() == "2026-05-01T09:00:00+00:00"


def test_other_stages_unmarked_names_and_later_states_are_ignored():
    assert deployment_change(codedeploy("orchestrix.dev.acme.payments"), "prod", "c") is None
    assert deployment_change(codedeploy("payments"), "prod", "c") is None
    assert deployment_change(codedeploy("orchestrix.prod.ACME!.x"), "prod", "c") is None
    assert deployment_change(codedeploy("orchestrix.prod.acme.x", "SUCCESS"), "prod", "c") is None


def test_ecs_service_deployment_names_tenant_and_service_with_double_dashes():
    event = {
        "id": "evt-2",
        "source": "aws.ecs",
        "detail-type": "ECS Deployment State Change",
        "time": TIME,
        "resources": ["arn:aws:ecs:eu-west-1:111122223333:service/main/orchestrix-prod--acme--api"],
        "detail": {"eventName": "SERVICE_DEPLOYMENT_IN_PROGRESS", "deploymentId": "ecs-svc/1"},
    }
    found = deployment_change(event, "prod", "chg_2")
    assert found is not None and (found.tenant_id, found.change.service) == ("acme", "api")


def test_cloudformation_update_is_an_infrastructure_change():
    arn = "arn:aws:cloudformation:eu-west-1:111122223333:stack/orchestrix-prod--acme--db/guid-1"
    event = {
        "id": "evt-3",
        "source": "aws.cloudformation",
        "detail-type": "CloudFormation Stack Status Change",
        "time": TIME,
        "resources": [arn],
        "detail": {"stack-id": arn, "status-details": {"status": "UPDATE_IN_PROGRESS"}},
    }
    found = deployment_change(event, "prod", "chg_3")
    assert found is not None
    assert (found.change.service, found.change.kind, found.change.external_id) == (
        "db",
        "infrastructure",
        "evt-3",
    )


def test_the_stage_rule_sends_deployment_events_to_incident_events_only():
    from orchestrix.local.event_rules import LocalEventDispatcher

    dispatcher = LocalEventDispatcher(lambda fn, event: None, stage="prod")
    ecs_task = {"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {}}

    assert dispatcher.dispatch("default", codedeploy("orchestrix.prod.acme.payments")) == [
        "incident_events"
    ]
    assert dispatcher.dispatch("default", ecs_task) == []
    assert dispatcher.dispatch("orchestrix", codedeploy("orchestrix.prod.acme.x")) == []
