"""A remediation that breaks shows viewers the error's type and message, not the stack trace
the Lambda runtime put in the cause the state machine caught."""

from __future__ import annotations

import json
import time
import traceback
import uuid

import pytest
from workflow_runtime import LocalHttp

from orchestrix.adapters.postgres.remediation_components import remediation_service
from tests.workflows import test_remediation, workflow_api
from tests.workflows.test_remediation import (
    create_rule,
    drain_workflow,
    evaluate,
    only_alert,
    write_metric,
)
from tests.workflows.workflow_api import Api

pytestmark = pytest.mark.xdist_group("moto-sfn")
api = workflow_api.api  # the fixtures
remediation_api = test_remediation.remediation_api


def lambda_error_cause() -> str:
    """What the remediation state machine's Catch holds after its Lambda raised."""
    try:
        raise KeyError("rule_id")
    except KeyError as exc:
        return json.dumps(
            {
                "errorType": "KeyError",
                "errorMessage": str(exc),
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }
        )


def test_failed_remediation_shows_viewers_the_message_without_the_stack(
    remediation_api: Api, local_http: LocalHttp
) -> None:
    # given a remediation whose workflow has run, its re-check an hour away (nothing else
    # writes the record meanwhile)
    api, tenant = remediation_api, f"rem-{uuid.uuid4().hex[:10]}"
    create_rule(api, tenant, api.create(tenant, drain_workflow(local_http.url)))
    write_metric(tenant, 'queue_depth{queue="mail"} 150\n')
    evaluate(tenant, wait_seconds=3600)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        remediations = only_alert(api, tenant)["remediations"]
        if remediations and remediations[0]["execution_status"] == "succeeded":
            break
        time.sleep(0.1)
    (started,) = only_alert(api, tenant)["remediations"]
    assert (started["status"], started["execution_status"]) == ("running", "succeeded")
    cause = lambda_error_cause()
    assert ".py" in cause  # the runtime's payload names server files

    # when the state machine reports that its Lambda broke
    remediation_service().fail(tenant, started["id"], "KeyError", cause)

    # then a viewer sees the error and its message, and no file of ours
    shown = only_alert(api, tenant)
    (remediation,) = shown["remediations"]
    assert (remediation["status"], remediation["reason"]) == ("failed", "KeyError: 'rule_id'")
    assert ".py" not in json.dumps(shown) and "stackTrace" not in json.dumps(shown)
