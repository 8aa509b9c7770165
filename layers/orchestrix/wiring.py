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
_GET: tuple[HttpMethod, ...] = ("GET",)
_GET_POST: tuple[HttpMethod, ...] = ("GET", "POST")

# What a function may do beyond reading the database; the functions construct turns each
# capability into a least-privilege IAM statement.
Capability = Literal[
    "database",  # connect to the Aurora cluster endpoint (secret read)
    "events:put",  # PutEvents on the orchestrix bus
    "scheduler:manage",  # create/delete one-time schedules in the orchestrix group
    "scheduler:toggle",  # enable/disable the rule evaluation schedule (while_rules_exist)
    "states:start",  # start/stop/describe executions of orchestrix state machines
    "states:callback",  # SendTaskSuccess/Failure for approvals
    "ses:send",
    "sns:publish",
    "bedrock:invoke",
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
    # Enabled only while some tenant has alert rules: the rule service enables it when rules
    # are added, the evaluator disables it when it finds none, so an idle stage lets Aurora
    # pause instead of waking it every minute.
    while_rules_exist: bool = False


# Placeholders in EventRule patterns, filled per stage by `EventRule.pattern_for`: rules on
# the account's default bus see every stage's (and everyone else's) events, so each names
# what belongs to its own stage. The CDK fills them with the stage and CloudFormation tokens,
# the local runtime with its settings and the emulator's ARNs.
STAGE = "<stage>"
STATE_MACHINE_ARN_PREFIX = "<state-machine-arn-prefix>"  # arn:…:stateMachine:orchestrix-<stage>-
# A CloudWatch alarm reaches a tenant only when its name is `orchestrix.<stage>.<tenant>.<name>`:
# alarm state change events carry no tags, and the name is the one field whose author is
# whoever may create alarms in the account, on purpose. Stage and tenant ids contain no '.'.
ALARM_NAME_PREFIX = f"orchestrix.{STAGE}."


@dataclass(frozen=True)
class EventRule:
    name: str
    pattern: dict[str, Any]
    function: str
    bus: Literal["default", "orchestrix"] = "default"
    description: str = ""

    def pattern_for(self, stage: str, state_machine_arn_prefix: str) -> dict[str, Any]:
        """The pattern with STAGE and STATE_MACHINE_ARN_PREFIX filled in."""
        values = {STAGE: stage, STATE_MACHINE_ARN_PREFIX: state_machine_arn_prefix}

        def fill(value: Any) -> Any:
            if isinstance(value, str):
                for placeholder, text in values.items():
                    value = value.replace(placeholder, text)
                return value
            if isinstance(value, dict):
                return {key: fill(item) for key, item in value.items()}
            if isinstance(value, list):
                return [fill(item) for item in value]
            return value

        filled: dict[str, Any] = fill(self.pattern)
        return filled


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
        internet=True,  # fetches the IdP's JWKS (https://<issuer>/...) to verify JWTs
    ),
    Function("api", "The management REST API (health, api-keys, audit-logs, ...)"),
    # Not routed: invoked with IAM credentials (`orchestrix api-key create --stage ...`).
    Function("admin", "Operator actions with IAM credentials: the first admin API key"),
    Function(
        "migrate",
        "Applies the SQL migrations; run by a CDK Trigger on every deploy, before the API",
        timeout_s=300,
    ),
    # metrics
    Function("metrics_write", "Prometheus remote write and metric imports", memory_mb=1024),
    Function("metrics_query", "The Prometheus-compatible query API", memory_mb=1024),
    Function(
        "housekeeping",
        "Daily clean-up: purges API keys revoked or expired more than 30 days ago",
        timeout_s=120,
        capabilities=("database", "scheduler:toggle"),
    ),
    # --- workflows ---
    Function(
        "workflows",
        "Workflows REST API: definitions, executions, approvals",
        capabilities=("database", "events:put", "states:start", "states:callback"),
    ),
    Function(
        "workflow_step",
        "Runs one workflow step (http, notify, aws action, condition, approval token)",
        # an http step may take 300 s; the Lambda must outlive it to report the error
        timeout_s=310,
        capabilities=("database", "ses:send", "sns:publish", "remediation:act"),
        internet=True,
    ),
    Function(
        "execution_tracker",
        "Stores the end of each workflow execution and publishes workflow.execution.*",
        capabilities=("database", "events:put", "states:start"),
    ),
    # --- people, on-call and notifications ---
    Function(
        "people",
        "REST API for members, teams, on-call schedules and the notification log",
        capabilities=("database", "scheduler:manage", "kms:secrets"),
    ),
    Function(
        "notify",
        "Delivers one notification attempt (Slack, Teams, webhook, SES, SNS); delayed sends "
        "and retries arrive through one-time schedules",
        timeout_s=30,
        capabilities=("database", "scheduler:manage", "ses:send", "sns:publish", "kms:secrets"),
        internet=True,
    ),
    # --- incidents and escalation ---
    Function(
        "incidents",
        "REST API for incidents, escalation policies, incident settings and reports",
        # acknowledging/opening pages and cancels pages: it delivers notifications itself
        capabilities=(
            *("database", "events:put", "scheduler:manage"),
            *("ses:send", "sns:publish", "kms:secrets"),
        ),
        internet=True,
    ),
    Function(
        "escalate",
        "Runs one escalation step of one incident (one-time schedule target); idempotent",
        capabilities=(
            *("database", "events:put", "scheduler:manage"),
            *("ses:send", "sns:publish", "kms:secrets"),
        ),
        internet=True,
    ),
    Function(
        "incident_events",
        "Turns alert.fired / alert.resolved events into incidents (alert grouping)",
        capabilities=(
            *("database", "events:put", "scheduler:manage"),
            *("ses:send", "sns:publish", "kms:secrets"),
        ),
        internet=True,
    ),
    Function(
        "sla_check",
        "Records an SLA breach when an incident misses its ack/resolve deadline",
        capabilities=("database", "events:put"),
    ),
    # --- alerting ---
    Function(
        "alerts",
        "Alert rules, alerts, silences and the Alertmanager v2 silence API",
        capabilities=("database", "events:put", "scheduler:toggle"),
    ),
    Function(
        "alert_intake",
        "Alerts in: Alertmanager/PagerDuty/webhook integrations, Prometheus push, CloudWatch",
        capabilities=("database", "events:put"),
    ),
    Function(
        "evaluate_rules",
        "Evaluates every tenant's due alert rule groups once a minute",
        memory_mb=1769,  # one full vCPU: the PromQL evaluation is CPU-bound
        timeout_s=55,
        capabilities=("database", "events:put", "states:start", "scheduler:toggle"),
    ),
    # --- auto-remediation ---
    Function(
        "remediation",
        "The remediation state machine's steps: start the rule's workflow for an alert, poll "
        "it, re-check the alert, resolve it or hand it to escalation",
        capabilities=("database", "events:put", "states:start"),
    ),
    # --- logs ---
    Function(
        "logs",
        "Logs in (OTLP/HTTP, Loki push, JSON lines) and out (search, live tail, Loki API)",
        memory_mb=1024,
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
    *(
        Route(method, f"{prefix}/{path}", "metrics_query")
        for prefix in ("/api/v1/metrics", "/prometheus/api/v1")
        for path, methods in (
            ("status/buildinfo", _GET),
            ("status/runtimeinfo", _GET),
            ("status/flags", _GET),
            ("status/config", _GET),
            ("status/tsdb", _GET),
            ("query_exemplars", _GET_POST),
            ("format_query", _GET_POST),
            ("rules", _GET),
            ("alerts", _GET),
        )
        for method in methods
    ),
    # --- workflows ---
    Route("GET", "/api/v1/workflows", "workflows"),
    Route("POST", "/api/v1/workflows", "workflows"),
    Route("GET", "/api/v1/workflows/{workflow_id}", "workflows"),
    Route("PUT", "/api/v1/workflows/{workflow_id}", "workflows"),
    Route("DELETE", "/api/v1/workflows/{workflow_id}", "workflows"),
    Route("POST", "/api/v1/workflows/{workflow_id}/execute", "workflows"),
    Route("GET", "/api/v1/executions", "workflows"),
    Route("GET", "/api/v1/executions/{execution_id}", "workflows"),
    Route("POST", "/api/v1/executions/{execution_id}/cancel", "workflows"),
    Route("POST", "/api/v1/executions/{execution_id}/approve", "workflows"),
    Route("POST", "/api/v1/executions/{execution_id}/reject", "workflows"),
    # --- people, on-call and notifications ---
    Route("GET", "/api/v1/members", "people"),
    Route("POST", "/api/v1/members", "people"),
    Route("GET", "/api/v1/members/{member_id}", "people"),
    Route("PUT", "/api/v1/members/{member_id}", "people"),
    Route("DELETE", "/api/v1/members/{member_id}", "people"),
    Route("GET", "/api/v1/teams", "people"),
    Route("POST", "/api/v1/teams", "people"),
    Route("GET", "/api/v1/teams/{team_id}", "people"),
    Route("PUT", "/api/v1/teams/{team_id}", "people"),
    Route("DELETE", "/api/v1/teams/{team_id}", "people"),
    Route("GET", "/api/v1/oncall/schedules", "people"),
    Route("POST", "/api/v1/oncall/schedules", "people"),
    Route("GET", "/api/v1/oncall/schedules/{schedule_id}", "people"),
    Route("PUT", "/api/v1/oncall/schedules/{schedule_id}", "people"),
    Route("DELETE", "/api/v1/oncall/schedules/{schedule_id}", "people"),
    Route("GET", "/api/v1/oncall/schedules/{schedule_id}/overrides", "people"),
    Route("POST", "/api/v1/oncall/schedules/{schedule_id}/overrides", "people"),
    Route("DELETE", "/api/v1/oncall/schedules/{schedule_id}/overrides/{override_id}", "people"),
    Route("GET", "/api/v1/oncall/schedules/{schedule_id}/shifts", "people"),
    Route("GET", "/api/v1/oncall/schedules/{schedule_id}/ical", "people"),
    Route("GET", "/api/v1/oncall/current", "people"),
    Route("GET", "/api/v1/notifications", "people"),
    Route("GET", "/api/v1/notifications/{notification_id}", "people"),
    # --- incidents and escalation ---
    Route("GET", "/api/v1/incidents", "incidents"),
    Route("POST", "/api/v1/incidents", "incidents"),
    Route("GET", "/api/v1/incidents/{incident_id}", "incidents"),
    Route("PATCH", "/api/v1/incidents/{incident_id}", "incidents"),
    Route("POST", "/api/v1/incidents/{incident_id}/acknowledge", "incidents"),
    Route("POST", "/api/v1/incidents/{incident_id}/resolve", "incidents"),
    Route("GET", "/api/v1/incidents/{incident_id}/timeline", "incidents"),
    Route("POST", "/api/v1/incidents/{incident_id}/notes", "incidents"),
    Route("GET", "/api/v1/escalation-policies", "incidents"),
    Route("POST", "/api/v1/escalation-policies", "incidents"),
    Route("GET", "/api/v1/escalation-policies/{policy_id}", "incidents"),
    Route("PUT", "/api/v1/escalation-policies/{policy_id}", "incidents"),
    Route("DELETE", "/api/v1/escalation-policies/{policy_id}", "incidents"),
    Route("GET", "/api/v1/incident-settings", "incidents"),
    Route("PUT", "/api/v1/incident-settings", "incidents"),
    Route("GET", "/api/v1/reports/incidents", "incidents"),
    # --- alerting ---
    Route("GET", "/api/v1/alert-rules", "alerts"),
    Route("POST", "/api/v1/alert-rules", "alerts"),
    Route("POST", "/api/v1/alert-rules/import", "alerts"),
    Route("GET", "/api/v1/alert-rules/export", "alerts"),
    Route("GET", "/api/v1/alert-rules/{rule_id}", "alerts"),
    Route("PUT", "/api/v1/alert-rules/{rule_id}", "alerts"),
    Route("DELETE", "/api/v1/alert-rules/{rule_id}", "alerts"),
    Route("GET", "/api/v1/alerts", "alerts"),
    Route("POST", "/api/v1/alerts", "alerts"),
    Route("GET", "/api/v1/alerts/{alert_id}", "alerts"),
    Route("POST", "/api/v1/alerts/{alert_id}/acknowledge", "alerts"),
    Route("POST", "/api/v1/alerts/{alert_id}/resolve", "alerts"),
    Route("GET", "/api/v1/silences", "alerts"),
    Route("POST", "/api/v1/silences", "alerts"),
    Route("GET", "/api/v1/silences/{silence_id}", "alerts"),
    Route("DELETE", "/api/v1/silences/{silence_id}", "alerts"),
    Route("GET", "/api/v2/silences", "alerts"),
    Route("POST", "/api/v2/silences", "alerts"),
    Route("GET", "/api/v2/silence/{silence_id}", "alerts"),
    Route("DELETE", "/api/v2/silence/{silence_id}", "alerts"),
    Route("GET", "/api/v2/status", "alerts"),
    Route("POST", "/api/v2/alerts", "alert_intake"),
    Route("POST", "/api/v1/integrations/alertmanager", "alert_intake"),
    Route("POST", "/api/v1/integrations/events", "alert_intake"),
    Route("POST", "/api/v1/integrations/webhook", "alert_intake"),
    # --- logs ---
    Route("POST", "/v1/logs", "logs"),
    Route("POST", "/loki/api/v1/push", "logs"),
    Route("POST", "/api/v1/logs/ingest", "logs"),
    Route("GET", "/api/v1/logs/query", "logs"),
    Route("GET", "/loki/api/v1/query_range", "logs"),
    Route("GET", "/loki/api/v1/query", "logs"),
    Route("GET", "/loki/api/v1/labels", "logs"),
    Route("GET", "/loki/api/v1/label/{name}/values", "logs"),
)

SCHEDULES: tuple[Schedule, ...] = (
    # Daily, not hourly: each run wakes a paused Aurora for ~6 minutes (docs/deploy.md).
    Schedule(
        "housekeeping",
        "rate(1 day)",
        "housekeeping",
        "Purge long-dead API keys, drop metric and log days past retention",
    ),
    # --- alerting ---
    Schedule(
        "evaluate-rules",
        "rate(1 minute)",
        "evaluate_rules",
        "Evaluate alert rule groups (each group's own interval is honoured)",
        while_rules_exist=True,
    ),
)

EVENT_RULES: tuple[EventRule, ...] = (
    # --- workflows ---
    EventRule(
        "execution-status",
        {
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {
                "status": ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"],
                # only this stage's machines, not every state machine in the account
                "stateMachineArn": [{"prefix": STATE_MACHINE_ARN_PREFIX}],
            },
        },
        "execution_tracker",
        description="Keep this stage's workflow executions current",
    ),
    # --- incidents and escalation ---
    EventRule(
        "alerts-to-incidents",
        {"source": ["orchestrix"], "detail-type": ["alert.fired", "alert.resolved"]},
        "incident_events",
        bus="orchestrix",
        description="Firing alerts open or join incidents; resolved ones are noted",
    ),
    # --- alerting ---
    EventRule(
        "cloudwatch-alarms",
        {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"alarmName": [{"prefix": ALARM_NAME_PREFIX}]},
        },
        "alert_intake",
        description="Alarms named orchestrix.<stage>.<tenant>.<name> become the tenant's alerts",
    ),
)

STATE_MACHINES: tuple[StateMachine, ...] = (
    # --- auto-remediation ---
    StateMachine("remediation", "remediation.asl.json", {"RemediationFunctionArn": "remediation"}),
)

# Request bodies API Gateway hands to Lambda base64-encoded (remote write, OTLP protobuf).
BINARY_MEDIA_TYPES: tuple[str, ...] = (
    "application/x-protobuf",
    "application/protobuf",
    "application/octet-stream",
)

# The authorizer's identity source and result cache; the local gateway honours both.
AUTHORIZER_FUNCTION = "authorizer"
ADMIN_FUNCTION = "admin"
AUTHORIZER_CACHE_SECONDS = 300


def function(name: str) -> Function:
    for fn in FUNCTIONS:
        if fn.name == name:
            return fn
    raise KeyError(f"no function named {name!r} in wiring.FUNCTIONS")
