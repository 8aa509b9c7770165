"""Per-stage settings read from CDK context (`cdk deploy -c stage=acme -c metricsBackend=...`).

Every value is validated here so that a typo fails synth with one line that names the key,
instead of surfacing as a CloudFormation error twenty minutes into a deploy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

# postgres: samples in Aurora, partitioned by day (the default). amp: samples in an Amazon
# Managed Service for Prometheus workspace the stage is given (the scale path; same API).
MetricsBackend = Literal["postgres", "amp"]
# default: the cheapest stage that works (NAT instance, no interface endpoints, Aurora pauses);
# production: NAT gateway per AZ, interface endpoints, Aurora never below 0.5 ACU.
Profile = Literal["default", "production"]

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                      1827, 2192, 2557, 2922, 3288, 3653)  # fmt: skip
# No '-' in a stage name: every physical name is `orchestrix-<stage>-<resource>` and IAM
# grants use the pattern `orchestrix-<stage>-*`. With hyphens allowed, stage `dev`'s pattern
# `orchestrix-dev-*` would also match stage `dev-x`'s `orchestrix-dev-x-api`. Without them the
# first '-' after the prefix always ends the stage, so no stage's pattern reaches another's
# names; and every name stays valid for Lambda, Step Functions, Scheduler, EventBridge, logs,
# Secrets Manager, IAM and KMS aliases (all accept [a-z0-9-]).
_STAGE_RE = re.compile(r"^[a-z][a-z0-9]{0,19}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_AMP_WORKSPACE_ID_RE = re.compile(r"^ws-[a-z0-9-]{1,64}$")
_AMP_WORKSPACE_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:aps:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):workspace/(?P<id>[^/]+)$"
)
_DEFAULT_ROLE_CLAIMS = "realm_access.roles,cognito:groups,roles"


class ConfigError(ValueError):
    """A missing or invalid context value; the message is one line meant for the user."""


@dataclass(frozen=True)
class StageConfig:
    stage: str
    account: str | None
    region: str
    metrics_backend: MetricsBackend = "postgres"
    amp_workspace_id: str = ""  # with metrics_backend "amp" only
    amp_account: str = ""  # the workspace's account when given by ARN; else the stage's
    oidc_issuer: str = ""
    oidc_audience: str = "orchestrix"
    tenant_claim: str = "tenant_id"
    role_claims: str = _DEFAULT_ROLE_CLAIMS
    alarm_email: str = ""
    log_retention_days: int = 30
    event_archive_days: int = 30
    profile: Profile = "default"
    aurora_min_acu: float = 0.0
    aurora_max_acu: float = 4.0
    deletion_protection: bool = True
    bedrock_model_id: str = ""
    ses_from_address: str = ""
    egress_allow: str = ""
    nat_gateways: int | None = None  # None: a NAT instance (default), one gateway per AZ (prod)
    authorizer_cache_seconds: int | None = None  # None: wiring.AUTHORIZER_CACHE_SECONDS
    throttle_rate: int = 100
    throttle_burst: int = 200
    waf: bool = False
    domain_name: str = ""
    certificate_arn: str = ""
    tracing: bool = False
    # API Gateway access logs need the account-wide CloudWatch role of API Gateway, which one
    # stage's stack should not own: opt in, and let this stack create the role only if asked.
    access_logs: bool = False
    api_cloudwatch_role: bool = False
    log_level: str = "INFO"
    public_url: str = ""  # base of links in notifications; empty: links stay API paths

    @property
    def stack_name(self) -> str:
        return f"Orchestrix-{self.stage}"

    @property
    def prefix(self) -> str:
        """Prefix of every physical name in the stage; keeps stages apart in one account."""
        return f"orchestrix-{self.stage}"


def load(get: Callable[[str], Any], env: dict[str, str] | None = None) -> StageConfig:
    """Build a StageConfig from a context getter (`app.node.try_get_context`)."""
    env = env or {}
    stage = _text(get, "stage")
    if not stage:
        raise ConfigError("context 'stage' is required: cdk synth -c stage=<name> (e.g. dev, acme)")
    if not _STAGE_RE.match(stage):
        raise ConfigError(
            f"context 'stage'={stage!r} must be 1-20 chars: a lowercase letter, then a-z or 0-9, "
            "no '-' (e.g. acmeprod)"
        )
    account = _text(get, "account") or env.get("CDK_DEFAULT_ACCOUNT") or None
    if account is not None and not _ACCOUNT_RE.match(account):
        raise ConfigError(f"context 'account'={account!r} must be a 12-digit AWS account id")
    region = _text(get, "region") or env.get("CDK_DEFAULT_REGION") or "us-east-1"
    if not _REGION_RE.match(region):
        raise ConfigError(f"context 'region'={region!r} is not an AWS region name (e.g. us-east-1)")
    backend = _text(get, "metricsBackend") or "postgres"
    if backend == "timestream":
        raise ConfigError(
            "context 'metricsBackend' 'timestream' was removed: it provisioned a table nothing "
            "used and Timestream for LiveAnalytics is closed to new customers; the default "
            "postgres store keeps metrics in Aurora (drop the key)"
        )
    if backend not in ("postgres", "amp"):
        raise ConfigError(
            f"context 'metricsBackend'={backend!r} is unknown: use 'postgres' or 'amp'"
        )
    amp_id, amp_account = _amp_workspace(get, backend, region, account)
    issuer = _text(get, "oidcIssuer")
    if issuer and not issuer.startswith("https://"):
        raise ConfigError(f"context 'oidcIssuer'={issuer!r} must be an https:// URL")
    email = _text(get, "alarmEmail")
    if email and not _EMAIL_RE.match(email):
        raise ConfigError(f"context 'alarmEmail'={email!r} is not an email address")
    ses_from = _text(get, "sesFromAddress")
    if ses_from and not _EMAIL_RE.match(ses_from):
        raise ConfigError(f"context 'sesFromAddress'={ses_from!r} is not an email address")
    log_days = _int(get, "logRetentionDays", 30, 1, 3653)
    if log_days not in LOG_RETENTION_DAYS:
        raise ConfigError(
            f"context 'logRetentionDays'={log_days} is not a CloudWatch retention "
            f"({', '.join(map(str, LOG_RETENTION_DAYS))})"
        )
    profile = _text(get, "profile") or "default"
    if profile not in ("default", "production"):
        raise ConfigError(
            f"context 'profile'={profile!r} is unknown: use 'default' or 'production'"
        )
    if _bool(get, "dbIamAuth", False):
        # Removed: functions authenticate with the rotated secret, re-read on auth failure.
        raise ConfigError(
            "context 'dbIamAuth' is no longer supported: functions use the Secrets Manager "
            "password (rotated, re-read on authentication failure); remove the key"
        )
    production = profile == "production"
    min_acu = _acu(get, "auroraMinAcu", 0.5 if production else 0.0)
    max_acu = _acu(get, "auroraMaxAcu", 4.0)
    if max_acu < max(min_acu, 1.0):
        raise ConfigError(
            f"context 'auroraMaxAcu'={max_acu} must be >= 1 and >= auroraMinAcu={min_acu}"
        )
    domain, cert = _text(get, "domainName"), _text(get, "certificateArn")
    if bool(domain) != bool(cert):
        raise ConfigError("contexts 'domainName' and 'certificateArn' must be given together")
    public_url = _public_url(get, domain)
    nat = get("natGateways")
    log_level = (_text(get, "logLevel") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"context 'logLevel'={log_level!r} must be DEBUG, INFO, WARNING or ERROR")
    return StageConfig(
        stage=stage,
        account=account,
        region=region,
        metrics_backend="amp" if backend == "amp" else "postgres",
        amp_workspace_id=amp_id,
        amp_account=amp_account,
        oidc_issuer=issuer,
        oidc_audience=_text(get, "oidcAudience") or "orchestrix",
        tenant_claim=_text(get, "tenantClaim") or "tenant_id",
        role_claims=_text(get, "roleClaims") or _DEFAULT_ROLE_CLAIMS,
        alarm_email=email,
        log_retention_days=log_days,
        event_archive_days=_int(get, "eventArchiveDays", 30, 0, 3650),
        profile="production" if production else "default",
        aurora_min_acu=min_acu,
        aurora_max_acu=max_acu,
        deletion_protection=_bool(get, "deletionProtection", True),
        bedrock_model_id=_text(get, "bedrockModelId"),
        ses_from_address=ses_from,
        egress_allow=_text(get, "egressAllow"),
        # 0 is refused: without interface endpoints or NAT no function reaches Secrets Manager.
        nat_gateways=None if nat is None else _int(get, "natGateways", 1, 1, 2),
        authorizer_cache_seconds=(
            None
            if get("authorizerCacheSeconds") is None
            else _int(get, "authorizerCacheSeconds", 300, 0, 3600)
        ),
        throttle_rate=_int(get, "throttleRate", 100, 1, 10000),
        throttle_burst=_int(get, "throttleBurst", 200, 1, 5000),
        waf=_bool(get, "waf", False),
        domain_name=domain,
        certificate_arn=cert,
        tracing=_bool(get, "tracing", False),
        access_logs=_bool(get, "accessLogs", False),
        api_cloudwatch_role=_bool(get, "apiGatewayCloudWatchRole", False),
        log_level=log_level,
        public_url=public_url,
    )


def _amp_workspace(
    get: Callable[[str], Any], backend: str, region: str, account: str | None
) -> tuple[str, str]:
    """(workspace id, its account or "") of `ampWorkspaceArn` or `ampWorkspaceId`.

    The workspace must be in the stage's region: functions reach it through the stage's
    `aps-workspaces` interface endpoint (profile production), which serves its own region only.
    """
    arn, workspace = _text(get, "ampWorkspaceArn"), _text(get, "ampWorkspaceId")
    if backend != "amp":
        if arn or workspace:
            raise ConfigError("contexts 'ampWorkspaceArn'/'ampWorkspaceId' need metricsBackend=amp")
        return "", ""
    if bool(arn) == bool(workspace):
        raise ConfigError(
            "metricsBackend=amp needs exactly one of the contexts 'ampWorkspaceArn' "
            "(arn:aws:aps:<region>:<account>:workspace/ws-...) or 'ampWorkspaceId' (ws-...)"
        )
    workspace_account = ""
    if arn:
        match = _AMP_WORKSPACE_ARN_RE.match(arn)
        if match is None:
            raise ConfigError(
                f"context 'ampWorkspaceArn'={arn!r} is not an AMP workspace ARN "
                "(arn:aws:aps:<region>:<account>:workspace/ws-...)"
            )
        if match["region"] != region:
            raise ConfigError(
                f"context 'ampWorkspaceArn' is in {match['region']}, the stage in {region}: "
                "the workspace must be in the stage's region"
            )
        if account is not None and match["account"] != account:
            raise ConfigError(
                f"context 'ampWorkspaceArn' is in account {match['account']}, the stage in "
                f"{account}: the functions' role can only be granted its own account's workspace"
            )
        workspace, workspace_account = match["id"], match["account"]
    if not _AMP_WORKSPACE_ID_RE.match(workspace):
        key = "ampWorkspaceArn" if arn else "ampWorkspaceId"
        raise ConfigError(f"context {key!r}: {workspace!r} is not a workspace id (ws-...)")
    return workspace, workspace_account


def _public_url(get: Callable[[str], Any], domain: str) -> str:
    """`publicUrl`, else the custom domain. The stage's own execute-api URL cannot be the
    default: functions passing it in their environment would depend on the API that
    depends on them, a cycle CloudFormation rejects."""
    url = _text(get, "publicUrl").rstrip("/")
    if not url:
        return f"https://{domain}" if domain else ""
    if not url.startswith(("https://", "http://")) or any(c in url for c in "?# "):
        raise ConfigError(
            f"context 'publicUrl'={url!r} must be an http(s):// URL without query or fragment"
        )
    return url


def _text(get: Callable[[str], Any], key: str) -> str:
    value = get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"context {key!r}={value!r} must be a string")
    return value.strip()


def _int(get: Callable[[str], Any], key: str, default: int, low: int, high: int) -> int:
    raw = get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise ConfigError(f"context {key!r}={raw!r} must be a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"context {key!r}={value} must be between {low} and {high}")
    return value


def _acu(get: Callable[[str], Any], key: str, default: float) -> float:
    raw = get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(str(raw))
    except ValueError:
        raise ConfigError(f"context {key!r}={raw!r} must be a number of ACUs") from None
    # Aurora Serverless v2 capacities are half-steps between 0 (auto-pause) and 256.
    if not 0 <= value <= 256 or (value * 2) != int(value * 2):
        raise ConfigError(f"context {key!r}={value} must be 0-256 in steps of 0.5")
    return value


def _bool(get: Callable[[str], Any], key: str, default: bool) -> bool:
    raw = get(key)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ConfigError(f"context {key!r}={raw!r} must be true or false")
