"""cdk-nag AwsSolutions: nothing unacknowledged, and every acknowledgment gives a reason."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks
from conftest import FEATURE_FLAGS, Built

from infra.config import load
from infra.stacks.orchestrix_stack import OrchestrixStack

pytestmark = pytest.mark.xdist_group("cdk")


@pytest.mark.parametrize("name", ["dev", "full"])
def test_cdk_nag_reports_no_unacknowledged_finding(
    name: str, request: pytest.FixtureRequest
) -> None:
    built: Built = request.getfixturevalue(name)

    report = AwsSolutionsChecks().validate_scope(built.stack)

    assert [v.rule_name for v in report.violations] == []
    assert report.success


def test_every_acknowledgment_carries_a_written_reason(full: Built) -> None:
    acknowledgments = [
        entry.data
        for node in full.stack.node.find_all()
        for entry in node.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]

    reasons = {rule: reason for ack in acknowledgments for rule, reason in ack.items()}
    assert len(reasons) > 10
    for rule, reason in reasons.items():
        assert len(reason) > 30, rule


def test_cdk_nag_also_checks_the_resources_of_the_nested_api_stack() -> None:
    # Given a stage built without any acknowledgment
    app = cdk.App(context={**FEATURE_FLAGS, "aws:cdk:bundling-stacks": []})
    stack = OrchestrixStack(app, load(lambda key: {"stage": "bare"}.get(key), {}), nag=False)

    # When cdk-nag walks the stage's construct tree, as its validation plugin does
    report = AwsSolutionsChecks().validate_scope(stack)

    # Then findings on API resources (inside the nested stack) are reported too
    api_path = stack.api_stack.node.path + "/"
    flagged = [
        resource.construct_path or ""
        for violation in report.violations
        for resource in violation.violating_resources
    ]
    assert any(path.startswith(api_path) for path in flagged)
