"""Two stages in one account are two independent stacks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Built

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
