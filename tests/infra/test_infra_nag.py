"""cdk-nag AwsSolutions: nothing unacknowledged, and every acknowledgment gives a reason."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks
from conftest import Built

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
