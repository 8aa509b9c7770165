"""The one place that reads settings, opens connections and picks adapters.

Everything is built lazily on first use and cached for the life of the container, so a warm
Lambda reuses its connection pool and JWKS cache, and a cold one pays only for what the
request in hand needs. The local runtime and tests call `configure()` to swap the clock or
settings before first use.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Any

from orchestrix.settings import Settings

if TYPE_CHECKING:
    from orchestrix.adapters.auth.credentials import CredentialVerifier, KeyRevocationCheck
    from orchestrix.adapters.auth.oidc import JwtVerifier
    from orchestrix.adapters.postgres.database import Database
    from orchestrix.adapters.postgres.metric_store import PostgresMetricStore
    from orchestrix.ports.clock import Clock
    from orchestrix.ports.events import EventPublisher
    from orchestrix.ports.scheduler import OneTimeScheduler
    from orchestrix.ports.unit_of_work import UnitOfWork
    from orchestrix.ports.workflow_engine import WorkflowEngine
    from orchestrix.services.api_keys import ApiKeyService
    from orchestrix.services.audit import AuditService
    from orchestrix.services.metrics import MetricsService
    from orchestrix.services.workflow_executions import ExecutionService
    from orchestrix.services.workflow_steps import StepTools
    from orchestrix.services.workflows import WorkflowService

_lock = threading.RLock()
_overrides: dict[str, Any] = {}


def configure(**overrides: Any) -> None:
    """Replace built components (settings=, clock=, database=) and forget cached ones."""
    with _lock:
        _overrides.update(overrides)
        reset()


def reset() -> None:
    for fn in (
        settings,
        clock,
        database,
        jwt_verifier,
        credential_verifier,
        key_revocation_check,
        api_key_service,
        audit_service,
        boto3_client,
        event_publisher,
        one_time_scheduler,
        metrics_service,
        metric_store,
    ):
        fn.cache_clear()


@cache
def settings() -> Settings:
    return _overrides.get("settings") or Settings.from_env()


@cache
def clock() -> Clock:
    if "clock" in _overrides:
        return _overrides["clock"]  # type: ignore[no-any-return]
    from orchestrix.adapters.clock import SystemClock

    return SystemClock()


@cache
def boto3_client(service: str) -> Any:
    # boto3 costs ~150 ms to import: only functions that talk to AWS pay for it. The lock:
    # creating clients from several threads at once races inside boto3's default session.
    with _lock:
        import boto3

        return boto3.client(service)  # type: ignore[call-overload]


def _dsn(s: Settings) -> str:
    if s.database_url:
        return s.database_url
    if not (s.db_secret_arn and s.db_host):
        raise RuntimeError("set DATABASE_URL, or DB_SECRET_ARN and DB_HOST")
    import json
    from urllib.parse import quote

    secret = json.loads(
        boto3_client("secretsmanager").get_secret_value(SecretId=s.db_secret_arn)["SecretString"]
    )
    user, password = quote(secret["username"]), quote(secret["password"])
    return f"postgresql://{user}:{password}@{s.db_host}:5432/{s.db_name}?sslmode=require"


@cache
def database() -> Database:
    if "database" in _overrides:
        return _overrides["database"]  # type: ignore[no-any-return]
    from orchestrix.adapters.postgres.database import Database

    s = settings()
    return Database(_dsn(s), max_size=s.db_pool_size)


def unit_of_work(tenant_id: str, actor: str, request_id: str | None = None) -> UnitOfWork:
    from orchestrix.adapters.postgres.unit_of_work import PostgresUnitOfWork

    uow: UnitOfWork = PostgresUnitOfWork(database(), clock(), tenant_id, actor, request_id)  # type: ignore[assignment]
    return uow


@cache
def jwt_verifier() -> JwtVerifier:
    from orchestrix.adapters.auth.oidc import JwtVerifier

    s = settings()
    if not s.oidc_issuer:
        raise RuntimeError("OIDC_ISSUER is not set")
    return JwtVerifier(
        issuer=s.oidc_issuer,
        audience=s.oidc_audience,
        jwks_url=s.oidc_jwks_url,
        tenant_claim=s.tenant_claim,
        role_claims=s.role_claims,
    )


@cache
def credential_verifier() -> CredentialVerifier:
    from orchestrix.adapters.auth.credentials import CredentialVerifier
    from orchestrix.adapters.postgres.key_resolver import PostgresKeyResolver

    resolver = PostgresKeyResolver(database())
    return CredentialVerifier(jwt_verifier, resolver.resolve, clock().now)


@cache
def key_revocation_check() -> KeyRevocationCheck:
    from orchestrix.adapters.auth.credentials import KeyRevocationCheck
    from orchestrix.adapters.postgres.key_resolver import PostgresKeyResolver

    return KeyRevocationCheck(PostgresKeyResolver(database()).lifetime, clock().now)


@cache
def api_key_service() -> ApiKeyService:
    from orchestrix.services.api_keys import ApiKeyService

    return ApiKeyService(unit_of_work, clock())


@cache
def audit_service() -> AuditService:
    from orchestrix.services.audit import AuditService

    return AuditService(unit_of_work)


def tenant_ids() -> list[str]:
    """Every tenant, for scheduled jobs that then work inside each tenant's scope."""
    with database().connection() as conn:
        rows = conn.execute("SELECT orchestrix_tenant_ids()").fetchall()
        conn.rollback()
    return [str(r[0]) for r in rows]


LOCAL_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:{name}"


def function_arn(name: str) -> str:
    """The ARN that invokes the wiring function `name` (schedules, state machines)."""
    s = settings()
    if s.local or not s.scheduler_target_prefix:
        return LOCAL_FUNCTION_ARN.format(name=name)
    return f"{s.scheduler_target_prefix}{name}"


@cache
def event_publisher() -> EventPublisher:
    from orchestrix.adapters.aws.eventbridge import EventBridgePublisher

    s = settings()
    publisher = EventBridgePublisher(boto3_client("events"), s.event_bus_name)
    dispatch = _overrides.get("event_dispatch")
    if dispatch is None:
        return publisher
    from orchestrix.adapters.aws.local_events import LocalEventPublisher

    return LocalEventPublisher(publisher, s.event_bus_name, dispatch, clock().now)


@cache
def one_time_scheduler() -> OneTimeScheduler:
    from orchestrix.adapters.aws.scheduler import EventBridgeOneTimeScheduler

    s = settings()
    role = s.scheduler_role_arn or "arn:aws:iam::123456789012:role/orchestrix-local-scheduler"
    return EventBridgeOneTimeScheduler(
        boto3_client("scheduler"), s.schedule_group_name, role, function_arn
    )


# --- workflows and executions ---------------------------------------------------------
def workflow_engine() -> WorkflowEngine:
    from orchestrix.adapters.aws.stepfunctions import StepFunctionsEngine

    s = settings()
    role = s.state_machine_role_arn or "arn:aws:iam::123456789012:role/orchestrix-local-states"
    return StepFunctionsEngine(
        boto3_client("stepfunctions"), s.state_machine_prefix, role, local=s.local
    )


def _workflow_uow(tenant_id: str, actor: str, request_id: str | None = None) -> Any:
    from orchestrix.adapters.postgres.workflow_store import PostgresWorkflowUnitOfWork

    return PostgresWorkflowUnitOfWork(database(), clock(), tenant_id, actor, request_id)


def workflow_service() -> WorkflowService:
    from orchestrix.domain.egress import EgressPolicy
    from orchestrix.services.workflows import WorkflowService

    s = settings()
    egress = EgressPolicy.for_stage(local=s.local, allow=s.egress_allow)
    return WorkflowService(
        _workflow_uow, workflow_engine(), clock(), egress, function_arn("workflow_step")
    )


def execution_service() -> ExecutionService:
    from orchestrix.services.workflow_executions import ExecutionService

    s = settings()
    return ExecutionService(
        _workflow_uow, workflow_engine(), clock(), event_publisher(), refresh_lists=s.local
    )


def workflow_step_tools() -> StepTools:
    from orchestrix.adapters.aws.workflow_tools import step_tools

    s = settings()
    return step_tools(
        boto3_client, local=s.local, egress_allow=s.egress_allow, ses_from=s.ses_from_address
    )


@cache
def metric_store() -> PostgresMetricStore:
    from orchestrix.adapters.postgres.metric_store import PostgresMetricStore

    return PostgresMetricStore(database())


@cache
def metrics_service() -> MetricsService:
    from orchestrix.services.metrics import MetricsService

    return MetricsService(metric_store())
