"""Stage settings from CDK context: defaults, and one-line errors for bad values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import pytest
from conftest import REPO_ROOT

from infra.config import ConfigError, load

pytestmark = pytest.mark.xdist_group("cdk")


def context(**values: object) -> Callable[[str], object]:
    """A getter like `app.node.try_get_context`."""
    return values.get


def test_minimal_context_gives_postgres_stage_with_safe_defaults() -> None:
    config = load(context(stage="acme"))

    assert config.stack_name == "Orchestrix-acme"
    assert config.prefix == "orchestrix-acme"
    assert config.metrics_backend == "postgres"
    assert config.deletion_protection is True
    assert config.region == "us-east-1"
    assert config.account is None


def test_account_and_region_fall_back_to_the_cli_environment() -> None:
    config = load(
        context(stage="acme"),
        {"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "eu-west-1"},
    )

    assert (config.account, config.region) == ("123456789012", "eu-west-1")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "context 'stage' is required"),
        ({"stage": ""}, "context 'stage' is required"),
        ({"stage": "Acme Corp"}, "'stage'='Acme Corp' must be 1-20 chars"),
        (
            {"stage": "acme", "metricsBackend": "influx"},
            "'influx' is unknown: use 'postgres' or 'amp'",
        ),
        (
            {"stage": "acme", "metricsBackend": "timestream"},
            "'metricsBackend' 'timestream' was removed: it provisioned a table nothing used",
        ),
        ({"stage": "acme", "auroraMinAcu": "0.3"}, "'auroraMinAcu'=0.3 must be 0-256"),
        ({"stage": "acme", "auroraMaxAcu": "lots"}, "'auroraMaxAcu'='lots' must be a number"),
        ({"stage": "acme", "auroraMinAcu": "8", "auroraMaxAcu": "4"}, "must be >= 1 and >="),
        ({"stage": "acme", "oidcIssuer": "http://idp"}, "must be an https:// URL"),
        ({"stage": "acme", "alarmEmail": "ops"}, "'alarmEmail'='ops' is not an email"),
        ({"stage": "acme", "logRetentionDays": "10"}, "is not a CloudWatch retention"),
        ({"stage": "acme", "deletionProtection": "maybe"}, "must be true or false"),
        ({"stage": "acme", "account": "12"}, "must be a 12-digit AWS account id"),
        ({"stage": "acme", "domainName": "api.example.com"}, "must be given together"),
        ({"stage": "acme", "authorizerCacheSeconds": "7200"}, "must be between 0 and 3600"),
        ({"stage": "acme", "publicUrl": "ops.example.com"}, "'publicUrl'='ops.example.com' must"),
        ({"stage": "acme", "profile": "prod"}, "'profile'='prod' is unknown: use 'default' or"),
        ({"stage": "acme", "dbIamAuth": "true"}, "'dbIamAuth' is no longer supported"),
        ({"stage": "acme", "natGateways": "0"}, "'natGateways'=0 must be between 1 and 2"),
    ],
)
def test_bad_context_fails_with_one_line_naming_the_key(
    values: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load(context(**values))

    message = str(raised.value)
    assert expected in message
    assert "\n" not in message


def test_default_profile_is_the_cheap_one_and_production_opts_in() -> None:
    default = load(context(stage="acme"))
    production = load(context(stage="acme", profile="production"))
    pinned = load(context(stage="acme", profile="production", auroraMinAcu="0"))

    assert (default.profile, default.aurora_min_acu, default.nat_gateways) == ("default", 0, None)
    assert (production.profile, production.aurora_min_acu) == ("production", 0.5)
    assert pinned.aurora_min_acu == 0


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, ""),
        (
            {"domainName": "ops.example.com", "certificateArn": "arn:cert"},
            "https://ops.example.com",
        ),
        (
            {"publicUrl": "https://abc.execute-api.us-east-1.amazonaws.com/acme/"},
            "https://abc.execute-api.us-east-1.amazonaws.com/acme",
        ),
        (
            {
                "publicUrl": "https://ops.example.com/orchestrix",
                "domainName": "api.example.com",
                "certificateArn": "arn:cert",
            },
            "https://ops.example.com/orchestrix",
        ),
    ],
)
def test_public_url_is_the_context_value_else_the_custom_domain_else_unset(
    values: dict[str, str], expected: str
) -> None:
    assert load(context(stage="acme", **values)).public_url == expected


def test_synth_with_empty_stage_exits_with_one_line_and_no_traceback() -> None:
    # Given the context the CDK CLI hands the app for `cdk synth -c stage=`
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"stage": ""})}

    # When the app runs
    result = subprocess.run(
        [sys.executable, "-m", "infra.app"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # Then it fails with exactly one line of ours, and no Python traceback
    ours = [line for line in result.stderr.splitlines() if line.startswith("orchestrix:")]
    assert result.returncode == 1
    assert ours == [
        "orchestrix: context 'stage' is required: cdk synth -c stage=<name> (e.g. dev, acme)"
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("stage", ["dev-", "a--b", "Dev", "dev-x", "-dev", "1dev"])
def test_stage_names_with_hyphens_or_capitals_are_refused(stage: str) -> None:
    # `orchestrix-dev-*` (stage dev's IAM patterns) would match `orchestrix-dev-x-api`.
    with pytest.raises(ConfigError) as raised:
        load(context(stage=stage))

    assert str(raised.value) == (
        f"context 'stage'={stage!r} must be 1-20 chars: a lowercase letter, then a-z or 0-9, "
        "no '-' (e.g. acmeprod)"
    )


@pytest.mark.parametrize("stage", ["dev", "acmeprod", "local", "a1", "x" * 20])
def test_plain_stage_names_and_the_local_runtimes_are_accepted(stage: str) -> None:
    from orchestrix.settings import Settings

    assert load(context(stage=stage)).prefix == f"orchestrix-{stage}"
    assert load(context(stage=Settings.from_env({}).stage)).stage == "local"
