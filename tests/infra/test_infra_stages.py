"""Two stages in one account are two independent stacks."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from conftest import FIXTURES, FULL_CONTEXT, FULL_TABLES, Built, build

pytestmark = pytest.mark.xdist_group("cdk")

NAME_KEYS = {
    "FunctionName", "Name", "TopicName", "QueueName", "RuleName", "StateMachineName",
    "DBProxyName", "EventBusName", "ArchiveName", "DashboardName", "AlarmName", "LogGroupName",
    "ScheduleGroupName",
}  # fmt: skip


def physical_names(built: Built) -> set[str]:
    names: set[str] = set()
    for resource in built.resources.values():
        for key, value in resource.get("Properties", {}).items():
            if key in NAME_KEYS and isinstance(value, str):
                names.add(value)
    return names


def test_two_stages_are_two_stacks_with_no_shared_physical_name(dev: Built, acme: Built) -> None:
    dev_names, acme_names = physical_names(dev), physical_names(acme)

    assert dev.stack.stack_name == "Orchestrix-dev"
    assert acme.stack.stack_name == "Orchestrix-acme"
    assert len(dev_names) > 20
    assert dev_names.isdisjoint(acme_names)
    assert all("orchestrix-dev" in name for name in dev_names)


def test_the_stages_differ_only_by_stage_names(dev: Built, acme: Built) -> None:
    def normalized(built: Built) -> Any:
        text = json.dumps(built.resources, sort_keys=True)
        return text.replace(built.config.stage, "STAGE")

    # Same wiring, same defaults: once the stage name is factored out the templates agree
    # on every resource type and count (logical ids embed hashes of the names).
    def types(built: Built) -> list[str]:
        return sorted(r["Type"] for r in built.resources.values())

    assert types(dev) == types(acme)
    assert normalized(dev) != json.dumps(dev.resources, sort_keys=True)


# CloudFormation refuses a template with more resources, nested stacks included.
CLOUDFORMATION_RESOURCE_LIMIT = 500


@pytest.mark.parametrize("name", ["dev", "full"])
def test_each_stack_of_a_stage_fits_cloudformations_resource_limit(
    name: str, request: pytest.FixtureRequest
) -> None:
    built: Built = request.getfixturevalue(name)

    counts = {stack: len(t["Resources"]) for stack, t in built.templates.items()}

    assert all(count <= CLOUDFORMATION_RESOURCE_LIMIT for count in counts.values()), (
        f"{counts}: split the routes over nested stacks or share per-function resources"
    )


def test_the_rest_api_lives_in_its_nested_stack_not_in_the_stages_stack(dev: Built) -> None:
    def api_types(template: dict[str, Any]) -> set[str]:
        types = {r["Type"] for r in template["Resources"].values()}
        return {t for t in types if t.startswith("AWS::ApiGateway::")}

    stage, api = dev.templates["stage"], dev.templates["api"]

    # Routes grow the nested stack only, so they do not eat into the functions' headroom.
    assert api_types(stage) == set()
    assert {"AWS::ApiGateway::RestApi", "AWS::ApiGateway::Method",
            "AWS::ApiGateway::Authorizer", "AWS::ApiGateway::Stage"} <= api_types(api)  # fmt: skip
    # Users still find the API URL among the stage's outputs.
    assert "ApiUrl" in stage["Outputs"]


# --- IAM patterns of one stage never reach another stage's resources --------------------


def _render(value: Any) -> str:
    """An IAM resource as text: joins flattened, pseudo parameters filled in, any other
    reference kept as `{ref}` (a resource of the same stage, never a pattern)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(_render(part) for part in parts)
    if value == {"Ref": "AWS::AccountId"}:
        return "123456789012"
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    if value == {"Ref": "AWS::Region"}:
        return "us-east-1"
    return "{ref}"


def iam_resources(built: Built) -> set[str]:
    found: set[str] = set()
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in built.of_type(kind).values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                resource = statement.get("Resource", [])
                for item in resource if isinstance(resource, list) else [resource]:
                    found.add(_render(item))
    return found


def named_things(built: Built) -> set[str]:
    """What IAM resources of another stage could name: physical names, schedules as
    `group/name`, and every ARN this stage grants on, from `orchestrix-` on."""
    names = physical_names(built)
    for schedule in built.of_type("AWS::Scheduler::Schedule").values():
        props = schedule["Properties"]
        names.add(f"{props.get('GroupName')}/{props.get('Name')}")
    for arn in iam_resources(built):
        if "orchestrix-" in arn:
            names.add(arn[arn.index("orchestrix-") :].replace("*", "x"))
    return {name for name in names if name.startswith(("orchestrix-", "alias/orchestrix-"))}


def reaching_patterns(patterns: set[str], names: set[str]) -> set[tuple[str, str]]:
    """(pattern, name) pairs where an IAM wildcard pattern matches a name."""
    hits = set()
    for pattern in patterns:
        if "*" not in pattern or "orchestrix-" not in pattern:
            continue
        tail = pattern[pattern.index("orchestrix-") :]
        hits |= {(pattern, name) for name in names if fnmatch.fnmatchcase(name, tail)}
    return hits


def test_the_check_would_catch_a_stage_name_that_extends_another() -> None:
    # Stage `dev` and a (now refused) stage `dev-x`: the grant of one reaches the other.
    assert reaching_patterns(
        {"arn:aws:lambda:us-east-1:123456789012:function:orchestrix-dev-*"},
        {"orchestrix-dev-x-api"},
    )


@pytest.fixture(scope="module")
def fullx() -> Built:
    """A second fully-optioned stage whose name extends `full` by one character."""
    return build({"stage": "fullx", **FULL_CONTEXT}, FULL_TABLES, statemachines_dir=FIXTURES)


def test_no_iam_pattern_of_one_stage_matches_a_resource_of_the_other(
    full: Built, fullx: Built
) -> None:
    full_patterns, fullx_patterns = iam_resources(full), iam_resources(fullx)

    assert any("orchestrix-full-*" in p for p in full_patterns)  # the check has patterns to try
    assert "orchestrix-fullx-api" in named_things(fullx)
    assert reaching_patterns(full_patterns, named_things(fullx)) == set()
    assert reaching_patterns(fullx_patterns, named_things(full)) == set()
