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
    from orchestrix.adapters.amp.metric_store import AmpMetricStore
    from orchestrix.adapters.auth.credentials import CredentialVerifier, KeyRevocationCheck
    from orchestrix.adapters.auth.oidc import JwtVerifier, SignInDisabled
    from orchestrix.adapters.postgres.database import Database
    from orchestrix.adapters.postgres.log_store import PostgresLogStore
    from orchestrix.adapters.postgres.metric_store import PostgresMetricStore
    from orchestrix.adapters.secrets import DatabaseSecret
    from orchestrix.domain.egress import EgressPolicy
    from orchestrix.ports.clock import Clock
    from orchestrix.ports.events import EventPublisher
    from orchestrix.ports.language_model import LanguageModel
    from orchestrix.ports.scheduler import EvaluationSchedule, OneTimeScheduler
    from orchestrix.ports.unit_of_work import UnitOfWork
    from orchestrix.ports.workflow_engine import WorkflowEngine
    from orchestrix.services.api_keys import ApiKeyService
    from orchestrix.services.audit import AuditService
    from orchestrix.services.logs import LogService
    from orchestrix.services.metrics import MetricsService
    from orchestrix.services.traces import TraceService
    from orchestrix.services.workflow_executions import ExecutionService
    from orchestrix.services.workflow_recovery import ExecutionRecovery
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
        postgres_metric_store,
        amp_metric_store,
        trace_service,
        language_model,
        log_store,
        log_service,
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


# Aurora pauses only when no connection is open, and a frozen Lambda container keeps its
# pooled connection open: the server ends sessions idle for a minute (the pool reconnects
# on the next use), so an idle stage has no connection 60 s after its last request.
IDLE_SESSION_TIMEOUT_MS = 60_000


def _dsn(s: Settings) -> str:
    """Where the database is; on AWS without user/password, which `_login` supplies."""
    if s.database_url:
        return s.database_url
    if not (s.db_secret_arn and s.db_host):
        raise RuntimeError("set DATABASE_URL, or DB_SECRET_ARN and DB_HOST")
    options = f"-c%20idle_session_timeout%3D{IDLE_SESSION_TIMEOUT_MS}"
    return f"postgresql://{s.db_host}:5432/{s.db_name}?sslmode=require&options={options}"


def _login(s: Settings) -> DatabaseSecret | None:
    if s.database_url or not s.db_secret_arn:
        return None
    from orchestrix.adapters.secrets import DatabaseSecret

    return DatabaseSecret(boto3_client("secretsmanager"), s.db_secret_arn)


@cache
def database() -> Database:
    if "database" in _overrides:
        return _overrides["database"]  # type: ignore[no-any-return]
    from orchestrix.adapters.postgres.database import Database

    s = settings()
    return Database(_dsn(s), max_size=s.db_pool_size, login=_login(s))


def unit_of_work(tenant_id: str, actor: str, request_id: str | None = None) -> UnitOfWork:
    from orchestrix.adapters.postgres.unit_of_work import PostgresUnitOfWork

    uow: UnitOfWork = PostgresUnitOfWork(database(), clock(), tenant_id, actor, request_id)  # type: ignore[assignment]
    return uow


@cache
def jwt_verifier() -> JwtVerifier | SignInDisabled:
    from orchestrix.adapters.auth.oidc import JwtVerifier, SignInDisabled

    s = settings()
    if not s.oidc_issuer:
        return SignInDisabled()
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


def evaluation_schedule() -> EvaluationSchedule:
    """The rule evaluation schedule's switch: the local scheduler's when running locally
    (`schedule_switches` override), else the stage's EventBridge Scheduler schedule."""
    from orchestrix import wiring

    name = next(s.name for s in wiring.SCHEDULES if s.while_rules_exist)
    switches = _overrides.get("schedule_switches")
    if switches is None and settings().local:  # a local process without the local scheduler
        from orchestrix.local.scheduler import ScheduleSwitches

        switches = _overrides.setdefault("schedule_switches", ScheduleSwitches(clock()))
    if switches is not None:
        return switches.schedule(name)  # type: ignore[no-any-return]
    from orchestrix.adapters.aws.scheduler import EventBridgeRecurringSchedule

    group = settings().schedule_group_name  # the stage prefix: schedules are <prefix>-<name>
    return EventBridgeRecurringSchedule(boto3_client("scheduler"), group, f"{group}-{name}")


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


def egress_policy() -> EgressPolicy:
    """Where tenant-supplied URLs (http/notify steps, member and notification channels) may
    go: loopback only in the local runtime, and never Orchestrix's own endpoints there (the
    AWS emulator holds every tenant's data; the API serves `/_local/tick`)."""
    from orchestrix.domain.egress import EgressPolicy

    s = settings()
    own = (s.aws_endpoint_url, s.public_url, _database_endpoint(s.database_url))
    return EgressPolicy.for_stage(local=s.local, allow=s.egress_allow, own_endpoints=own)


def _database_endpoint(url: str | None) -> str | None:
    """A TCP PostgreSQL on loopback (DATABASE_URL) is as off-limits to tenants as the API."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url or "")
        port = parts.port or 5432
    except ValueError:
        return None
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
        return None  # key=value DSNs and Unix sockets (pgserver) have no port to reserve
    return f"http://{parts.hostname}:{port}"


def workflow_service() -> WorkflowService:
    from orchestrix.services.workflows import WorkflowService

    return WorkflowService(
        _workflow_uow, workflow_engine(), clock(), egress_policy(), function_arn("workflow_step")
    )


def execution_service() -> ExecutionService:
    from orchestrix.services.workflow_executions import ExecutionService

    s = settings()
    return ExecutionService(
        _workflow_uow, workflow_engine(), clock(), event_publisher(), refresh_lists=s.local
    )


def execution_recovery() -> ExecutionRecovery:
    from orchestrix.services.workflow_recovery import ExecutionRecovery

    return ExecutionRecovery(_workflow_uow, workflow_engine(), clock(), event_publisher())


def workflow_step_tools() -> StepTools:
    from orchestrix.adapters.aws.workflow_tools import step_tools

    s = settings()
    tenant_clients = None
    if s.remediation_role_arn:
        import boto3

        from orchestrix.adapters.aws.tenant_role import TenantRoleClients

        tenant_clients = TenantRoleClients(
            s.remediation_role_arn, s.stage, boto3_client("sts"), boto3.client
        )
    return step_tools(
        boto3_client,
        egress=egress_policy(),
        ses_from=s.ses_from_address,
        tenant_clients=tenant_clients,
    )


@cache
def postgres_metric_store() -> PostgresMetricStore:
    """Samples in Aurora; with the `amp` backend it still keeps the metric metadata."""
    from orchestrix.adapters.postgres.metric_store import PostgresMetricStore

    return PostgresMetricStore(database())


@cache
def metric_store() -> PostgresMetricStore | AmpMetricStore:
    """The stage's metric store (METRICS_BACKEND): rule evaluation and the metrics API read
    through the same one."""
    backend = settings().metrics_backend
    if backend == "postgres":
        return postgres_metric_store()
    if backend == "amp":
        return amp_metric_store()
    raise RuntimeError(f"METRICS_BACKEND={backend!r} is unknown: use postgres or amp")


@cache
def amp_metric_store() -> AmpMetricStore:
    s = settings()
    if not (s.amp_workspace_id and s.amp_region):
        raise RuntimeError("METRICS_BACKEND=amp needs AMP_WORKSPACE_ID and AMP_REGION")
    import botocore.session

    from orchestrix.adapters.amp.client import AmpClient, workspace_url
    from orchestrix.adapters.amp.metric_store import AmpMetricStore

    # The function role's credentials, refreshed by botocore as they expire.
    credentials = botocore.session.get_session().get_credentials()
    if credentials is None:
        raise RuntimeError("METRICS_BACKEND=amp needs AWS credentials (the function's role)")
    url = workspace_url(s.amp_region, s.amp_workspace_id, s.amp_endpoint_url)
    client = AmpClient(url, s.amp_region, credentials, timeout_s=s.query_timeout_s + 3)
    return AmpMetricStore(
        client, postgres_metric_store(), _now_ms, select_timeout_s=s.rule_query_timeout_s
    )


def _now_ms() -> int:
    return int(clock().now().timestamp() * 1000)


@cache
def metrics_service() -> MetricsService:
    from orchestrix.services.metrics import MetricsService

    limits = settings()
    return MetricsService(
        metric_store(),
        max_samples=limits.query_max_samples,
        max_timeout_s=limits.query_timeout_s,
        # A managed Prometheus evaluates whole queries itself, next to its data.
        evaluator=amp_metric_store() if limits.metrics_backend == "amp" else None,
    )


# --- traces ---
@cache
def trace_service() -> TraceService:
    from orchestrix.adapters.postgres.trace_store import PostgresTraceStore
    from orchestrix.adapters.traces.derived_series import MetricStoreSeries
    from orchestrix.services.traces import TraceService

    return TraceService(
        PostgresTraceStore(database()),
        MetricStoreSeries(metric_store()),
        clock(),
        retention_days=settings().traces_retention_days,
    )


# --- incident analysis ------------------------------------------------------------------
@cache
def language_model() -> LanguageModel | None:
    """Bedrock Converse with the stage's model; None (offline analyser) when none is set."""
    if "language_model" in _overrides:
        return _overrides["language_model"]  # type: ignore[no-any-return]
    s = settings()
    if not s.bedrock_model_id:
        return None
    from orchestrix.adapters.aws.bedrock import BedrockLanguageModel, bedrock_client

    with _lock:  # boto3's default session is not safe to build clients on from two threads
        client = bedrock_client(read_timeout_s=s.llm_timeout_s)
    return BedrockLanguageModel(s.bedrock_model_id, client)


# --- logs ---------------------------------------------------------------------------------
@cache
def log_store() -> PostgresLogStore:
    from orchestrix.adapters.postgres.log_store import PostgresLogStore

    return PostgresLogStore(database())


@cache
def log_service() -> LogService:
    from orchestrix.services.logs import LogService

    return LogService(log_store(), clock(), retention_days=settings().logs_retention_days)
