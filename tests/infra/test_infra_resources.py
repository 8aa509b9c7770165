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


def test_default_profile_has_a_nat_instance_and_no_paid_endpoints(dev: Built) -> None:
    # The cheapest network that works: one t4g.nano NAT instance, no NAT gateway, no
    # interface endpoint (each costs $7.30 a month per AZ); the S3 gateway endpoint is free.
    (instance,) = dev.of_type("AWS::EC2::Instance").values()
    endpoints = [e["Properties"] for e in dev.of_type("AWS::EC2::VPCEndpoint").values()]

    assert instance["Properties"]["InstanceType"] == "t4g.nano"
    assert instance["Properties"]["SourceDestCheck"] is False
    assert instance["Properties"]["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    # It forwards what the private subnets send it, and admits nothing from elsewhere
    (group,) = instance["Properties"]["SecurityGroupIds"]
    (sg,) = [v["Properties"] for k, v in dev.of_type("AWS::EC2::SecurityGroup").items()
             if k == group["Fn::GetAtt"][0]]  # fmt: skip
    (vpc_id,) = dev.of_type("AWS::EC2::VPC")
    assert sg["SecurityGroupIngress"] == [{
        "CidrIp": {"Fn::GetAtt": [vpc_id, "CidrBlock"]},
        "Description": "private subnets through the NAT instance",
        "IpProtocol": "-1",
    }]  # fmt: skip
    assert dev.of_type("AWS::EC2::NatGateway") == {}
    assert [e.get("VpcEndpointType", "Gateway") for e in endpoints] == ["Gateway"]
    assert ".s3" in json.dumps(endpoints[0]["ServiceName"])


def test_default_profile_puts_every_function_behind_the_nat(dev: Built) -> None:
    # Without interface endpoints every function reaches Secrets Manager, EventBridge, ...
    # and the authorizer the IdP's JWKS URL through the NAT: none may sit in an isolated
    # subnet (where every JWT was a 401).
    functions = {
        f["Properties"]["FunctionName"]: f["Properties"]
        for f in dev.of_type("AWS::Lambda::Function").values()
        if "FunctionName" in f["Properties"]
    }

    for spec in dev.tables.functions:
        subnets = json.dumps(functions[f"orchestrix-dev-{spec.name}"]["VpcConfig"]["SubnetIds"])
        assert subnets.count("egressSubnet") == 2, (spec.name, subnets)
    egress_routes = [
        r["Properties"] for key, r in dev.of_type("AWS::EC2::Route").items() if "egress" in key
    ]
    assert len(egress_routes) == 2
    assert all("NatInstance" in json.dumps(r["InstanceId"]) for r in egress_routes)


def test_production_profile_has_a_nat_gateway_per_az_and_endpoints(production: Built) -> None:
    endpoints = production.of_type("AWS::EC2::VPCEndpoint").values()
    services = json.dumps([e["Properties"]["ServiceName"] for e in endpoints])
    functions = {
        f["Properties"]["FunctionName"]: f["Properties"]
        for f in production.of_type("AWS::Lambda::Function").values()
        if "FunctionName" in f["Properties"]
    }

    for service in ("secretsmanager", "events", "scheduler", "states", "sns", "email", "kms"):
        assert f".{service}" in services
    assert len(production.of_type("AWS::EC2::NatGateway")) == 2
    assert production.of_type("AWS::EC2::Instance") == {}
    # Only functions that need the internet (the authorizer's JWKS among them) use the NAT.
    for spec in production.tables.functions:
        subnets = json.dumps(functions[f"orchestrix-prod-{spec.name}"]["VpcConfig"]["SubnetIds"])
        expected = "egressSubnet" if needs_egress(spec) else "isolatedSubnet"
        assert subnets.count(expected) == 2, (spec.name, subnets)
    assert needs_egress(next(f for f in wiring.FUNCTIONS if f.name == "authorizer"))


@pytest.mark.parametrize("model", ["anthropic.claude-3-haiku-20240307-v1:0", ""])
def test_capabilities_bring_their_endpoints_only_in_production(model: str) -> None:
    stack = cdk.Stack(cdk.App(), "Endpoints", env=cdk.Environment(region="us-east-1"))
    bedrock = (wiring.Function("ai", "x", capabilities=("bedrock:invoke",)),)

    Network(stack, "Network", functions=bedrock, retention=logs.RetentionDays.ONE_WEEK,
            config=StageConfig("p", None, "us-east-1", profile="production",
                               bedrock_model_id=model))  # fmt: skip
    services = json.dumps(Template.from_stack(stack).to_json())

    # The offline analyser (no model) calls no Bedrock: no endpoint to pay for.
    assert (".bedrock-runtime" in services) == bool(model)
    assert ".secretsmanager" not in services


def test_database_is_aurora_postgres16_serverless_v2_that_pauses_without_a_proxy(
    dev: Built,
) -> None:
    dev.template.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "Engine": "aurora-postgresql",
            "EngineVersion": "16.13",
            "StorageEncrypted": True,
            "DeletionProtection": True,
            "BackupRetentionPeriod": 7,
            "ServerlessV2ScalingConfiguration": {
                "MinCapacity": 0,
                "MaxCapacity": 4,
                "SecondsUntilAutoPause": 300,
            },
        },
    )
    dev.template.has_resource_properties(
        "AWS::RDS::DBInstance", {"DBInstanceClass": "db.serverless"}
    )
    dev.template.resource_count_is("AWS::RDS::DBProxy", 0)
    dev.template.resource_count_is("AWS::SecretsManager::RotationSchedule", 1)
    # Functions connect to the cluster endpoint itself.
    (cluster_id,) = dev.of_type("AWS::RDS::DBCluster")
    for fn in dev.of_type("AWS::Lambda::Function").values():
        env = fn["Properties"].get("Environment", {}).get("Variables", {})
        if "DB_HOST" in env:
            assert env["DB_HOST"] == {"Fn::GetAtt": [cluster_id, "Endpoint.Address"]}


def test_production_aurora_keeps_half_an_acu_and_never_pauses(production: Built) -> None:
    (cluster,) = production.of_type("AWS::RDS::DBCluster").values()

    scaling = cluster["Properties"]["ServerlessV2ScalingConfiguration"]
    assert scaling == {"MinCapacity": 0.5, "MaxCapacity": 4}


def test_migrations_run_after_the_database_and_before_the_api_goes_live(dev: Built) -> None:
    (trigger_id,) = dev.of_type("Custom::Trigger")
    trigger = dev.resources[trigger_id]
    (cluster_id,) = dev.of_type("AWS::RDS::DBCluster")
    (deployment_id,) = dev.of_type("AWS::ApiGateway::Deployment")
    (api_stack,) = dev.of_type("AWS::CloudFormation::Stack").values()

    assert cluster_id in trigger["DependsOn"]
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


def test_no_stage_provisions_or_grants_timestream(dev: Built, full: Built) -> None:
    # The removed `metricsBackend=timestream` made a table no code used (and Timestream for
    # LiveAnalytics takes no new customers); even a function with every capability gets no
    # Timestream action.
    for built in (dev, full):
        text = json.dumps(built.templates)
        assert not any(r["Type"].startswith("AWS::Timestream::") for r in built.resources.values())
        assert "timestream" not in text.lower()


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
    full.template.resource_count_is("AWS::CloudWatch::Dashboard", 0)  # production only


def test_api_stage_throttles_and_access_logs_are_opt_in(dev: Built, full: Built) -> None:
    # Access logs need API Gateway's account-wide CloudWatch role: a default stage neither
    # needs it nor creates it, so a first deploy cannot fail on a missing account setting.
    dev.api_template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "dev",
            "AccessLogSetting": Match.absent(),
            "MethodSettings": Match.array_with(
                [
                    Match.object_like(
                        {
                            "ResourcePath": "/*",
                            "HttpMethod": "*",
                            "ThrottlingRateLimit": 100,
                            "ThrottlingBurstLimit": 200,
                        }
                    )
                ]
            ),
        },
    )
    dev.api_template.resource_count_is("AWS::ApiGateway::Account", 0)
    full.api_template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {"AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()})},
    )
    full.api_template.has_resource(
        "AWS::ApiGateway::Account", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    )


def test_public_status_page_routes_have_their_own_method_throttling(dev: Built) -> None:
    # Anyone may call them: tighter than the stage, one setting per public method.
    [stage] = dev.api_template.find_resources("AWS::ApiGateway::Stage").values()
    settings = {
        (s["HttpMethod"], s["ResourcePath"]): (s["ThrottlingRateLimit"], s["ThrottlingBurstLimit"])
        for s in stage["Properties"]["MethodSettings"]
    }
    for route in wiring.ROUTES:
        if route.throttle is None:
            continue
        path = route.path.replace("/", "~1")
        assert settings[(route.method, f"/{path}")] == (route.throttle.rate, route.throttle.burst)
    assert settings[("GET", "/~1status~1{slug}")] == (50, 100)
    assert settings[("POST", "/~1status~1{slug}~1subscribers")] == (5, 20)


def test_schedule_group_is_deleted_with_the_stack(dev: Built) -> None:
    # A retained group would make the next deploy of the same stage fail ("already exists").
    groups = dev.of_type("AWS::Scheduler::ScheduleGroup")

    assert [g.get("DeletionPolicy", "Delete") for g in groups.values()] == ["Delete"]


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
            "sts:AssumeRole", "sts:TagSession",
            "kms:GenerateDataKey", "kms:Decrypt",
            "iam:PassRole"} <= actions_of(statements)  # fmt: skip
    assert "schedule/orchestrix-full/*" in text
    assert "stateMachine:orchestrix-full-*" in text
    assert "inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0" in text
    assert "RemediationRole" in text  # remediation actions only through the tenant role
    pass_roles = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert {s["Condition"]["StringEquals"]["iam:PassedToService"] for s in pass_roles} == {  # type: ignore[index]
        "scheduler.amazonaws.com",
        "states.amazonaws.com",
    }
