"""The resources issue #3 asks for, as CloudFormation will create them."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template
from conftest import Built, actions_of, policy_statements

from infra.config import StageConfig
from infra.constructs.migrations import MIGRATIONS_DIR, migrations_hash
from infra.constructs.network import Network, needs_egress
from orchestrix import wiring

pytestmark = pytest.mark.xdist_group("cdk")


def test_core_path_needs_no_nat_and_reaches_aws_through_endpoints() -> None:
    # Given only the functions that need no internet (the core path)
    core = tuple(fn for fn in wiring.FUNCTIONS if not needs_egress(fn))
    stack = cdk.Stack(cdk.App(), "CorePath", env=cdk.Environment(region="us-east-1"))

    # When their network is built
    Network(stack, "Network", config=StageConfig("core", None, "us-east-1"), functions=core,
            retention=logs.RetentionDays.ONE_WEEK)  # fmt: skip
    template = Template.from_stack(stack).to_json()["Resources"]

    # Then there is no NAT and AWS APIs are reached through endpoints
    types = [r["Type"] for r in template.values()]
    services = json.dumps(
        [r["Properties"]["ServiceName"] for r in template.values()
         if r["Type"] == "AWS::EC2::VPCEndpoint"]
    )  # fmt: skip
    assert "AWS::EC2::NatGateway" not in types
    assert "AWS::EC2::InternetGateway" not in types
    assert "secretsmanager" in services
    assert ".s3" in services


def test_only_functions_that_need_the_internet_run_in_the_nat_subnets(dev: Built) -> None:
    functions = {
        f["Properties"]["FunctionName"]: f["Properties"]
        for f in dev.of_type("AWS::Lambda::Function").values()
        if "FunctionName" in f["Properties"]
    }

    assert len(dev.of_type("AWS::EC2::NatGateway")) == 1
    for spec in dev.tables.functions:
        subnets = json.dumps(functions[f"orchestrix-dev-{spec.name}"]["VpcConfig"]["SubnetIds"])
        expected = "egressSubnet" if needs_egress(spec) else "isolatedSubnet"
        assert subnets.count(expected) == 2, (spec.name, subnets)


def test_capabilities_bring_their_endpoints_and_internet_functions_a_nat(full: Built) -> None:
    endpoints = full.of_type("AWS::EC2::VPCEndpoint").values()
    services = json.dumps([e["Properties"]["ServiceName"] for e in endpoints])

    for service in (
        "secretsmanager",
        "events",
        "scheduler",
        "states",
        "sns",
        "email",
        "bedrock-runtime",
        "kms",
    ):
        assert f".{service}" in services
    assert len(full.of_type("AWS::EC2::NatGateway")) == 1


def test_database_is_encrypted_aurora_postgres16_serverless_v2_behind_tls_proxy(dev: Built) -> None:
    dev.template.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "Engine": "aurora-postgresql",
            "EngineVersion": Match.string_like_regexp(r"^16\."),
            "StorageEncrypted": True,
            "DeletionProtection": True,
            "BackupRetentionPeriod": 7,
            "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 4},
        },
    )
    dev.template.has_resource_properties(
        "AWS::RDS::DBInstance", {"DBInstanceClass": "db.serverless"}
    )
    dev.template.has_resource_properties(
        "AWS::RDS::DBProxy", {"RequireTLS": True, "DBProxyName": "orchestrix-dev"}
    )
    dev.template.resource_count_is("AWS::SecretsManager::RotationSchedule", 1)


def test_migrations_run_after_the_database_and_before_the_api_goes_live(dev: Built) -> None:
    (trigger_id,) = dev.of_type("Custom::Trigger")
    trigger = dev.resources[trigger_id]
    (cluster_id,) = dev.of_type("AWS::RDS::DBCluster")
    (proxy_id,) = dev.of_type("AWS::RDS::DBProxy")
    (deployment_id,) = dev.of_type("AWS::ApiGateway::Deployment")
    (api_stack,) = dev.of_type("AWS::CloudFormation::Stack").values()

    assert {cluster_id, proxy_id} <= set(trigger["DependsOn"])
    # The deployment is in the API's nested stack, which as a whole waits for the trigger.
    assert deployment_id in dev.templates["api"]["Resources"]
    assert trigger_id in api_stack["DependsOn"]
    assert "migrate" in json.dumps(trigger["Properties"]["HandlerArn"])
    assert trigger["Properties"]["MigrationsHash"] == dev.stack.migrations.hash


def test_a_new_migration_file_changes_the_hash_so_the_trigger_reruns(tmp_path: Path) -> None:
    # Given a repository copy with one migration
    root = Path(__file__).resolve().parents[2]
    for name in ("constraints.txt",):
        (tmp_path / name).write_text((root / name).read_text())
    (tmp_path / "layers" / "orchestrix").mkdir(parents=True)
    (tmp_path / "layers" / "requirements.txt").write_text("pydantic==2.14.3\n")
    migrations = tmp_path / MIGRATIONS_DIR
    migrations.mkdir(parents=True)
    (migrations / "0001_init.sql").write_text("create table a (id int);")
    before = migrations_hash(tmp_path)

    # When a migration is added
    (migrations / "0002_more.sql").write_text("create table b (id int);")

    # Then the trigger's hash changes (and stays stable otherwise)
    assert migrations_hash(tmp_path) != before
    assert migrations_hash(tmp_path) == migrations_hash(tmp_path)


def test_events_bus_archive_schedule_group_and_escalation_role(dev: Built) -> None:
    dev.template.has_resource_properties("AWS::Events::EventBus", {"Name": "orchestrix-dev"})
    dev.template.has_resource_properties("AWS::Events::Archive", {"RetentionDays": 30})
    dev.template.has_resource_properties(
        "AWS::Scheduler::ScheduleGroup", {"Name": "orchestrix-dev"}
    )
    dev.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {
                    "Statement": [
                        Match.object_like({"Principal": {"Service": "scheduler.amazonaws.com"}})
                    ]
                }
            )
        },
    )


def test_timestream_exists_only_for_the_timestream_backend(dev: Built, full: Built) -> None:
    assert dev.of_type("AWS::Timestream::Table") == {}
    full.template.has_resource_properties(
        "AWS::Timestream::Table",
        {
            "DatabaseName": "orchestrix-full",
            "RetentionProperties": {
                "MemoryStoreRetentionPeriodInHours": "24",
                "MagneticStoreRetentionPeriodInDays": "395",
            },
        },
    )


def test_notifications_topic_secret_and_optional_ses_identity(dev: Built, full: Built) -> None:
    dev.template.has_resource_properties("AWS::SNS::Topic", {"TopicName": "orchestrix-dev-notify"})
    dev.template.has_resource_properties(
        "AWS::SecretsManager::Secret", {"Name": "orchestrix-dev/integrations"}
    )
    assert dev.of_type("AWS::SES::EmailIdentity") == {}
    full.template.has_resource_properties(
        "AWS::SES::EmailIdentity", {"EmailIdentity": "alerts@example.com"}
    )


def test_monitoring_alarms_cover_api_functions_dead_letters_database_and_workflows(
    full: Built,
) -> None:
    names = {a["Properties"]["AlarmName"] for a in full.of_type("AWS::CloudWatch::Alarm").values()}
    expected = {
        "api-5xx",
        "api-p99-latency",
        "dead-letters",
        "aurora-capacity",
        "aurora-connections",
        "sample-failed",
    }
    expected |= {
        f"{fn.name}-{kind}" for fn in full.tables.functions for kind in ("errors", "throttles")
    }

    assert names == {f"orchestrix-full-{name}" for name in expected}
    full.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    full.template.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_api_stage_throttles_and_writes_access_logs(dev: Built) -> None:
    dev.api_template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "dev",
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
            "MethodSettings": [
                Match.object_like({"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200})
            ],
        },
    )


def test_waf_and_custom_domain_are_opt_in(dev: Built, full: Built) -> None:
    assert dev.of_type("AWS::WAFv2::WebACL") == {}
    assert dev.of_type("AWS::ApiGateway::DomainName") == {}
    full.api_template.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)
    full.api_template.has_resource_properties(
        "AWS::ApiGateway::DomainName", {"DomainName": "orchestrix.example.com"}
    )


def wiring_function_envs(built: Built) -> list[dict[str, str]]:
    names = {f"{built.config.prefix}-{fn.name}" for fn in built.tables.functions}
    envs = [
        f["Properties"]["Environment"]["Variables"]
        for f in built.of_type("AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") in names
    ]
    assert len(envs) == len(names)
    return envs


def test_public_url_reaches_every_function_only_when_configured(dev: Built, full: Built) -> None:
    # full has a custom domain and no publicUrl: links are built on the domain
    assert {env.get("PUBLIC_URL") for env in wiring_function_envs(full)} == {
        "https://orchestrix.example.com"
    }
    # dev has neither: no PUBLIC_URL, links stay API paths
    assert not any("PUBLIC_URL" in env for env in wiring_function_envs(dev))


def test_function_without_capabilities_gets_no_extra_permissions(dev: Built) -> None:
    actions = actions_of(policy_statements(dev, "api"))

    assert not any(
        a.startswith(("events:", "scheduler:", "states:", "sns:", "bedrock:")) for a in actions
    )
    assert "secretsmanager:GetSecretValue" in actions


def test_each_capability_grants_only_its_actions_on_stage_resources(full: Built) -> None:
    statements = policy_statements(full, "housekeeping")
    text = json.dumps(statements)

    assert {"events:PutEvents", "scheduler:CreateSchedule", "states:StartExecution",
            "states:SendTaskSuccess", "sns:Publish", "ses:SendEmail", "bedrock:InvokeModel",
            "timestream:WriteRecords", "timestream:Select", "ecs:UpdateService",
            "kms:GenerateDataKey", "kms:Decrypt",
            "iam:PassRole"} <= actions_of(statements)  # fmt: skip
    assert "schedule/orchestrix-full/*" in text
    assert "stateMachine:orchestrix-full-*" in text
    assert "inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0" in text
    assert "aws:ResourceTag/orchestrix:remediable" in text
    pass_roles = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert {s["Condition"]["StringEquals"]["iam:PassedToService"] for s in pass_roles} == {  # type: ignore[index]
        "scheduler.amazonaws.com",
        "states.amazonaws.com",
    }
