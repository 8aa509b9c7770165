"""The idle-cost tables of docs/deploy.md are what infra/idle_cost.py computes from the
templates synthesized now, and a default stage idles at $15 a month or less."""

from __future__ import annotations

import re

import pytest
from conftest import REPO_ROOT, Built

from infra import idle_cost

pytestmark = pytest.mark.xdist_group("cdk")

DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"
BUDGET = 15.0


def documented_table(profile: str) -> str:
    text = DEPLOY_DOC.read_text()
    block = rf"<!-- idle-cost:{profile} -->\n(.*?)\n<!-- /idle-cost:{profile} -->"
    m = re.search(block, text, re.S)
    assert m, f"docs/deploy.md has no idle-cost:{profile} block"
    return m.group(1).strip()


@pytest.mark.parametrize(("fixture", "profile"), [("dev", "default"), ("production", "production")])
def test_documented_idle_cost_is_computed_from_the_current_template(
    fixture: str, profile: str, request: pytest.FixtureRequest
) -> None:
    built: Built = request.getfixturevalue(fixture)

    computed = idle_cost.table(idle_cost.idle_lines(built.templates.values()))

    assert documented_table(profile) == computed


def test_default_stage_idles_at_fifteen_dollars_a_month_or_less(dev: Built) -> None:
    lines = idle_cost.idle_lines(dev.templates.values())
    items = " ".join(line.item for line in lines)

    assert idle_cost.total(lines) <= BUDGET
    # What made it $280: none of these bill in the default profile.
    assert "NAT gateway" not in items
    assert "interface VPC endpoints" not in items
    assert "0 ACU (paused)" in items
    assert dev.of_type("AWS::RDS::DBProxy") == {}


def test_production_profile_counts_what_it_adds(production: Built) -> None:
    lines = {line.item: line for line in idle_cost.idle_lines(production.templates.values())}

    assert lines["NAT gateway"].count == 2
    assert lines["Aurora Serverless v2 at its 0.5 ACU floor"].monthly == pytest.approx(43.8)
    assert idle_cost.total(lines.values()) > 100


def test_only_schedules_that_run_at_idle_wake_aurora() -> None:
    def template(expression: str, name: str, min_acu: float = 0) -> dict[str, object]:
        return {"Resources": {
            "C": {"Type": "AWS::RDS::DBCluster",
                  "Properties": {"ServerlessV2ScalingConfiguration": {"MinCapacity": min_acu}}},
            "S": {"Type": "AWS::Scheduler::Schedule",
                  "Properties": {"Name": f"orchestrix-x-{name}", "ScheduleExpression": expression}},
        }}  # fmt: skip

    def wakes(t: dict[str, object]) -> int:
        lines = idle_cost.idle_lines([t])
        return sum(x.count for x in lines if x.item.startswith("Aurora woken"))

    assert wakes(template("rate(1 hour)", "housekeeping")) == 730
    assert wakes(template("rate(1 day)", "housekeeping")) == 30
    # enabled only while rules exist: nothing at idle
    assert wakes(template("rate(1 minute)", "evaluate-rules")) == 0
    # an always-on cluster is billed by its floor, not by wake-ups
    assert wakes(template("rate(1 hour)", "housekeeping", min_acu=0.5)) == 0
