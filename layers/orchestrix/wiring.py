"""The single source of truth for what runs where.

Every Lambda function, API route, schedule, EventBridge rule and state machine is declared
here as plain data. The CDK constructs (`infra/constructs/*`) build AWS resources from these
tables and the local runtime (`orchestrix.local`) emulates the same routes, schedules, rules
and state machines from them; `tests/infra` asserts the synthesized template and this module
agree. Adding a route is one line here plus the handler code behind it.

This module imports nothing heavy: CDK synth, the gateway emulator and cold Lambdas read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]

# What a function may do beyond reading the database; the functions construct turns each
# capability into a least-privilege IAM statement.
Capability = Literal[
    "database",  # connect to Aurora through RDS Proxy (secret read)
    "events:put",  # PutEvents on the orchestrix bus
    "scheduler:manage",  # create/delete one-time schedules in the orchestrix group
    "states:start",  # start/stop/describe executions of orchestrix state machines
    "states:callback",  # SendTaskSuccess/Failure for approvals
    "ses:send",
    "sns:publish",
    "bedrock:invoke",
    "timestream:write",
    "timestream:query",
    "remediation:act",  # the allow-listed remediation actions of workflow `aws` steps
    "kms:secrets",  # GenerateDataKey/Decrypt on alias/orchestrix-<stage>-secrets (channel secrets)
]


@dataclass(frozen=True)
class Function:
    name: str
    description: str
    memory_mb: int = 512
    timeout_s: int = 29
    capabilities: tuple[Capability, ...] = ("database",)
    # Calls tenant-supplied URLs (webhooks, http steps): deployed in subnets with egress.
    internet: bool = False
    # Caps concurrent executions where they would exhaust database connections.
    reserved_concurrency: int | None = None

    @property
    def source_dir(self) -> str:
        """Folder under the repository root holding `handler.py`."""
        return f"functions/{self.name}"

    @property
    def handler(self) -> str:
        return "handler.handler"


@dataclass(frozen=True)
class Route:
    method: HttpMethod
    path: str  # API Gateway resource path, parameters in braces: /api/v1/api-keys/{key_id}
    function: str
    auth: bool = True  # False: no authorizer (health checks, the OpenAPI document)


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str  # EventBridge Scheduler expression: rate(1 minute) | cron(...)
    function: str
    description: str = ""


@dataclass(frozen=True)
class EventRule:
    name: str
    pattern: dict[str, Any]
    function: str
    bus: Literal["default", "orchestrix"] = "default"
    description: str = ""


@dataclass(frozen=True)
class StateMachine:
    name: str
    definition: str  # path of the ASL file under statemachines/
    # ASL ${Placeholder} -> name of the function whose ARN fills it
    functions: dict[str, str] = field(default_factory=dict)


FUNCTIONS: tuple[Function, ...] = (
    Function(
        "authorizer",
        "Verifies OIDC JWTs and orx_ ingestion keys for API Gateway",
        memory_mb=256,
        timeout_s=10,
    ),
    Function("api", "The management REST API (health, api-keys, audit-logs, ...)"),
    Function(
        "migrate",
        "Applies the SQL migrations; run by a CDK Trigger on every deploy, before the API",
        timeout_s=300,
        reserved_concurrency=1,
    ),
    # metrics
    Function("metrics_write", "Prometheus remote write and metric imports", memory_mb=1024),
    Function("metrics_query", "The Prometheus-compatible query API", memory_mb=1024),
    Function(
        "housekeeping",
        "Hourly clean-up: purges API keys revoked or expired more than 30 days ago",
        timeout_s=120,
        reserved_concurrency=1,
    ),
)

ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "api", auth=False),
    Route("GET", "/health/live", "api", auth=False),
    Route("GET", "/health/ready", "api", auth=False),
    Route("GET", "/api/v1/openapi.json", "api", auth=False),
    Route("GET", "/api/v1/docs", "api", auth=False),
    Route("GET", "/api/v1/api-keys", "api"),
    Route("POST", "/api/v1/api-keys", "api"),
    Route("GET", "/api/v1/api-keys/{key_id}", "api"),
    Route("DELETE", "/api/v1/api-keys/{key_id}", "api"),
    Route("GET", "/api/v1/audit-logs", "api"),
    Route("GET", "/api/v1/audit-logs/{audit_id}", "api"),
    # --- metrics: remote write in, the Prometheus HTTP API out (again under /prometheus) ---
    Route("POST", "/api/v1/metrics/write", "metrics_write"),
    Route("POST", "/api/v1/metrics/import", "metrics_write"),
    *(
        Route(method, f"{prefix}/{path}", "metrics_query")
        for prefix in ("/api/v1/metrics", "/prometheus/api/v1")
        for path in ("query", "query_range", "labels", "label/{name}/values", "series", "metadata")
        for method in ("GET", "POST")
    ),
)

SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        "housekeeping",
        "rate(1 hour)",
        "housekeeping",
        "Purge long-dead API keys",
    ),
)

EVENT_RULES: tuple[EventRule, ...] = ()

STATE_MACHINES: tuple[StateMachine, ...] = ()

# Request bodies API Gateway hands to Lambda base64-encoded (remote write, OTLP protobuf).
BINARY_MEDIA_TYPES: tuple[str, ...] = (
    "application/x-protobuf",
    "application/protobuf",
    "application/octet-stream",
)

# The authorizer's identity source and result cache; the local gateway honours both.
AUTHORIZER_FUNCTION = "authorizer"
AUTHORIZER_CACHE_SECONDS = 300


def function(name: str) -> Function:
    for fn in FUNCTIONS:
        if fn.name == name:
            return fn
    raise KeyError(f"no function named {name!r} in wiring.FUNCTIONS")
