"""metricsBackend=amp: the functions that write, query and evaluate rules get the stage's AMP
workspace (its ARN only, the actions each needs), its id in their environment and, in
production, an aps-workspaces interface endpoint; a postgres stage gets none of it."""

from __future__ import annotations

import json

import pytest
from conftest import Built, actions_of, build, policy_statements
from test_infra_grants import allows, function_env

from infra.config import ConfigError, load
from orchestrix import wiring

pytestmark = pytest.mark.xdist_group("cdk")

WORKSPACE = "ws-0a1b2c3d-4e5f-6789-abcd-ef0123456789"
ARN = f"arn:aws:aps:eu-west-1:123456789012:workspace/{WORKSPACE}"
AMP_CONTEXT = {"metricsBackend": "amp", "ampWorkspaceArn": ARN, "region": "eu-west-1"}
READ = {"aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels"}


@pytest.fixture(scope="module")
def amp() -> Built:
    return build({"stage": "ampdev", **AMP_CONTEXT})


@pytest.fixture(scope="module")
def amp_production() -> Built:
    return build({"stage": "ampprod", "profile": "production", **AMP_CONTEXT})


def aps_actions(built: Built, function: str) -> set[str]:
    return {a for a in actions_of(policy_statements(built, function)) if a.startswith("aps:")}


def test_each_function_gets_only_the_aps_actions_it_needs_on_the_workspace(amp: Built) -> None:
    expected = {
        "metrics_write": {"aps:RemoteWrite"},
        "traces": {"aps:RemoteWrite"},  # RED metrics derived from spans
        "metrics_query": READ,
        "evaluate_rules": READ | {"aps:RemoteWrite"},  # anomaly band series
        "remediation": READ,
    }
    for function in wiring.FUNCTIONS:
        assert aps_actions(amp, function.name) == expected.get(function.name, set())
    for name, actions in (("metrics_write", {"aps:RemoteWrite"}), ("metrics_query", READ)):
        statements = policy_statements(amp, name)
        assert all(allows(statements, action, ARN) for action in actions)
        assert not allows(statements, "aps:RemoteWrite", ARN.replace(WORKSPACE, "ws-other"))
    # and never a wildcard: the grant names the one workspace
    text = json.dumps(policy_statements(amp, "metrics_query"))
    assert "workspace/*" not in text


def test_functions_are_told_the_workspace_and_region(amp: Built, dev: Built) -> None:
    env = function_env(amp, "metrics_query")
    assert (env["METRICS_BACKEND"], env["AMP_WORKSPACE_ID"], env["AMP_REGION"]) == (
        "amp", WORKSPACE, "eu-west-1"
    )  # fmt: skip
    plain = function_env(dev, "metrics_query")
    assert plain["METRICS_BACKEND"] == "postgres"
    assert "AMP_WORKSPACE_ID" not in plain


def test_a_postgres_stage_has_no_aps_grant_or_endpoint(dev: Built, production: Built) -> None:
    for built in (dev, production):
        assert "aps:" not in json.dumps(built.templates)
        assert "aps-workspaces" not in json.dumps(built.templates)


def test_production_reaches_the_workspace_through_an_interface_endpoint(
    amp_production: Built, amp: Built
) -> None:
    endpoints = amp_production.of_type("AWS::EC2::VPCEndpoint").values()
    services = json.dumps([e["Properties"]["ServiceName"] for e in endpoints])
    assert ".aps-workspaces" in services
    # the default profile reaches it through the NAT, like every other AWS API
    assert "aps-workspaces" not in json.dumps(amp.templates)
    assert aps_actions(amp_production, "metrics_write") == {"aps:RemoteWrite"}


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"metricsBackend": "amp"}, "needs exactly one of the contexts 'ampWorkspaceArn'"),
        (
            {"metricsBackend": "amp", "ampWorkspaceArn": ARN, "ampWorkspaceId": WORKSPACE},
            "needs exactly one of",
        ),
        ({"metricsBackend": "amp", "ampWorkspaceArn": "ws-1"}, "is not an AMP workspace ARN"),
        ({"metricsBackend": "amp", "ampWorkspaceId": "my-ws"}, "'my-ws' is not a workspace id"),
        ({"metricsBackend": "amp", "ampWorkspaceArn": ARN}, "must be in the stage's region"),
        (
            {**AMP_CONTEXT, "account": "210987654321"},
            "is in account 123456789012, the stage in 210987654321",
        ),
        ({"ampWorkspaceId": WORKSPACE}, "need metricsBackend=amp"),
    ],
)
def test_bad_amp_settings_fail_synth_naming_the_key(context: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load({"stage": "acme", **context}.get)


def test_workspace_by_id_uses_the_stage_region_and_account() -> None:
    config = load({"stage": "acme", "metricsBackend": "amp", "ampWorkspaceId": WORKSPACE}.get)
    assert (config.metrics_backend, config.amp_workspace_id, config.amp_account) == (
        "amp", WORKSPACE, ""
    )  # fmt: skip
