"""Settings, read from the environment once, by bootstrap only. Every variable is in README."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    stage: str = "local"
    local: bool = False
    database_url: str | None = None
    db_secret_arn: str | None = None
    db_host: str | None = None
    db_name: str = "orchestrix"
    db_pool_size: int = 2
    event_bus_name: str = "orchestrix-local"
    schedule_group_name: str = "orchestrix-local"
    scheduler_role_arn: str | None = None
    scheduler_target_prefix: str | None = None
    state_machine_role_arn: str | None = None
    state_machine_prefix: str = "orchestrix-local"
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    tenant_claim: str = "tenant_id"
    role_claims: tuple[str, ...] = ("realm_access.roles", "cognito:groups", "roles")
    metrics_backend: str = "postgres"  # or "amp": series in a managed Prometheus workspace
    amp_workspace_id: str | None = None
    amp_region: str | None = None
    amp_endpoint_url: str | None = None  # a stand-in for the AMP endpoint (tests, local)
    metrics_retention_days: int = 15
    traces_retention_days: int = 7
    logs_retention_days: int = 7  # days of log lines kept (whole day partitions dropped)
    notify_topic_arn: str | None = None
    ses_from_address: str | None = None
    egress_allow: tuple[str, ...] = field(default_factory=tuple)
    bedrock_model_id: str | None = None
    # Incident analysis on the model: per-tenant daily limits, list prices, and the read
    # timeout of one answer (README "Incident analysis").
    llm_daily_tokens: int = 200_000
    llm_daily_cost_usd: float = 5.0
    llm_usd_per_1k_input: float = 0.003
    llm_usd_per_1k_output: float = 0.015
    llm_timeout_s: float = 10.0
    tracing: bool = False
    public_url: str | None = None  # base of absolute links in notifications
    # Query cost bounds (see README "Limits"): samples one query may load, its time budget,
    # and the budgets of rule evaluation (per rule query, per tenant and tick).
    query_max_samples: int = 5_000_000
    query_timeout_s: float = 25.0
    rule_query_timeout_s: float = 5.0
    rule_tick_budget_s: float = 15.0
    aws_endpoint_url: str | None = None  # the local AWS emulator; tenant egress may not reach it
    # The role `aws` steps assume per tenant (session tag orchestrix:tenant); unset locally.
    remediation_role_arn: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = dict(os.environ) if env is None else env
        stage = e.get("ORCHESTRIX_STAGE", "local")
        local = e.get("ORCHESTRIX_LOCAL", "") == "1"
        return cls(
            stage=stage,
            local=local,
            database_url=e.get("DATABASE_URL") or None,
            db_secret_arn=e.get("DB_SECRET_ARN") or None,
            db_host=e.get("DB_HOST") or None,
            db_name=e.get("DB_NAME", "orchestrix"),
            db_pool_size=int(e.get("DB_POOL_SIZE", "8" if local else "2")),
            event_bus_name=e.get("EVENT_BUS_NAME", f"orchestrix-{stage}"),
            schedule_group_name=e.get("SCHEDULE_GROUP_NAME", f"orchestrix-{stage}"),
            scheduler_role_arn=e.get("SCHEDULER_ROLE_ARN") or None,
            scheduler_target_prefix=e.get("SCHEDULER_TARGET_PREFIX") or None,
            state_machine_role_arn=e.get("STATE_MACHINE_ROLE_ARN") or None,
            state_machine_prefix=e.get("STATE_MACHINE_PREFIX", f"orchestrix-{stage}"),
            oidc_issuer=e.get("OIDC_ISSUER") or None,
            oidc_audience=e.get("OIDC_AUDIENCE") or None,
            oidc_jwks_url=e.get("OIDC_JWKS_URL") or None,
            tenant_claim=e.get("TENANT_CLAIM", "tenant_id"),
            role_claims=_list(e.get("ROLE_CLAIMS", "realm_access.roles,cognito:groups,roles")),
            metrics_backend=e.get("METRICS_BACKEND", "postgres"),
            amp_workspace_id=e.get("AMP_WORKSPACE_ID") or None,
            amp_region=e.get("AMP_REGION") or e.get("AWS_REGION") or None,
            amp_endpoint_url=e.get("AMP_ENDPOINT_URL") or None,
            metrics_retention_days=int(e.get("METRICS_RETENTION_DAYS", "15")),
            traces_retention_days=int(e.get("TRACES_RETENTION_DAYS", "7")),
            logs_retention_days=int(e.get("LOGS_RETENTION_DAYS", "7")),
            notify_topic_arn=e.get("NOTIFY_TOPIC_ARN") or None,
            ses_from_address=e.get("SES_FROM_ADDRESS") or None,
            egress_allow=_list(e.get("EGRESS_ALLOW", "")),
            bedrock_model_id=e.get("BEDROCK_MODEL_ID") or None,
            llm_daily_tokens=int(e.get("LLM_DAILY_TOKENS", "200000")),
            llm_daily_cost_usd=float(e.get("LLM_DAILY_COST_USD", "5")),
            llm_usd_per_1k_input=float(e.get("LLM_USD_PER_1K_INPUT", "0.003")),
            llm_usd_per_1k_output=float(e.get("LLM_USD_PER_1K_OUTPUT", "0.015")),
            llm_timeout_s=float(e.get("LLM_TIMEOUT_S", "10")),
            tracing=e.get("ORCHESTRIX_TRACING", "") == "1",
            public_url=e.get("PUBLIC_URL", "").strip().rstrip("/") or None,
            query_max_samples=int(e.get("QUERY_MAX_SAMPLES", "5000000")),
            query_timeout_s=float(e.get("QUERY_TIMEOUT_S", "25")),
            rule_query_timeout_s=float(e.get("RULE_QUERY_TIMEOUT_S", "5")),
            rule_tick_budget_s=float(e.get("RULE_TICK_BUDGET_S", "15")),
            aws_endpoint_url=e.get("AWS_ENDPOINT_URL") or None,
            remediation_role_arn=e.get("REMEDIATION_ROLE_ARN") or None,
        )
