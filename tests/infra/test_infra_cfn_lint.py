"""cfn-lint over every template a stage deploys: the parent stack and the nested API stack,
for the default profile, `-c profile=production` and the every-option stage."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint
from conftest import Built

pytestmark = pytest.mark.xdist_group("cdk")

# Checks switched off, each with the reason it does not apply to CDK output.
IGNORED = {
    "W3005": "aws-cdk-lib adds DependsOn on a function's role although the function's "
    "Role GetAtt already orders them; redundant, not wrong, and not ours to change.",
    "W3010": "A stack synthesized for an explicit account gets its AZ names from CDK's "
    "availability-zones lookup (cdk.context.json); literal AZs are how CDK pins subnets.",
}


@pytest.mark.parametrize("name", ["dev", "production", "full"])
def test_cfn_lint_reports_nothing_in_any_template(
    name: str, request: pytest.FixtureRequest
) -> None:
    built: Built = request.getfixturevalue(name)

    for stack, template in built.templates.items():
        matches = lint(
            json.dumps(template),
            regions=[built.config.region],
            config=ManualArgs(ignore_checks=list(IGNORED)),
        )

        assert [f"{m.rule.id} {m.message}" for m in matches] == [], stack


def test_every_ignored_check_has_a_reason() -> None:
    for rule, reason in IGNORED.items():
        assert len(reason) > 40, rule
