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
    # With metricsBackend=amp, the stage's AMP workspace (nothing otherwise): remote write, and
    # queries plus the listing calls.
    "metrics:write",
    "metrics:read",
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
class Throttle:
    """Method throttling (API Gateway's token bucket): steady requests/s and burst."""

    rate: float
    burst: int


@dataclass(frozen=True)
class Route:
    method: HttpMethod
    path: str  # API Gateway resource path, parameters in braces: /api/v1/api-keys/{key_id}
    function: str
    auth: bool = True  # False: no authorizer (health checks, the OpenAPI document)
    # Tighter than the stage's limits, for public routes anyone may call; shared by all
    # callers of the method (a shared cache in front absorbs most page reads).
    throttle: Throttle | None = None


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
    Function(
        "metrics_write",
        "Prometheus remote write and metric imports",
        memory_mb=1024,
        capabilities=("database", "metrics:write"),
    ),
    Function(
        "metrics_query",
        "The Prometheus-compatible query API",
        memory_mb=1024,
        capabilities=("database", "metrics:read"),
    ),
    Function(
        "housekeeping",
        "Daily clean-up: purges dead API keys and settled status page deliveries, drops metric "
        "and span days past retention, publishes overdue post-mortem action items",
        timeout_s=120,
        capabilities=("database", "scheduler:toggle", "events:put"),
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
        "REST API for incidents and their analysis, escalation policies, incident settings, "
        "reports, post-mortems, the service graph, correlation settings and changes",
        # acknowledging/opening pages and cancels pages: it delivers notifications itself;
        # analyses and post-mortem drafts ask the stage's language model, if any
        capabilities=(
            *("database", "events:put", "scheduler:manage"),
            *("ses:send", "sns:publish", "kms:secrets", "bedrock:invoke"),
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
        "Turns alert.fired / alert.resolved events into incidents (correlation, analysis) "
        "and deployment events into changes",
        capabilities=(
            *("database", "events:put", "scheduler:manage"),
            *("ses:send", "sns:publish", "kms:secrets", "bedrock:invoke"),
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
        capabilities=(
            *("database", "events:put", "states:start", "scheduler:toggle"),
            *("metrics:read", "metrics:write"),  # anomaly rules write their band series
        ),
    ),
    # --- auto-remediation ---
    Function(
        "remediation",
        "The remediation state machine's steps: start the rule's workflow for an alert, poll "
        "it, re-check the alert, resolve it or hand it to escalation",
        capabilities=("database", "events:put", "states:start", "metrics:read"),
    ),
    # --- traces ---
    Function(
        "traces",
        "OTLP/HTTP trace ingest, trace search, service map and the Tempo-compatible API",
        memory_mb=1024,
        # RED metrics derived from spans go to the stage's metric store (AMP included)
        capabilities=("database", "metrics:write"),
    ),
    # --- status pages ---
    Function(
        "status_pages",
        "Status pages: REST API, public pages and feeds, incidents moving components, "
        "maintenances moving by time, subscriber updates sent behind the request",
        # API Gateway still ends a request at 29 s; the longer time is for fan-out runs,
        # which stop early and schedule the next run for the rest (status_fanout.py).
        timeout_s=300,
        # subscribers are told by SES email and signed webhooks, as members are paged
        capabilities=("database", "scheduler:manage", "ses:send", "kms:secrets"),
        internet=True,
    ),
    # --- logs ---
    Function(
        "logs",
        "Logs in (OTLP/HTTP, Loki push, JSON lines) and out (search, live tail, Loki API)",
        memory_mb=1024,
    ),
)

# Methods on one item of each status page collection.
_STATUS_ITEM_METHODS: dict[str, tuple[HttpMethod, ...]] = {
    "component-groups": ("PUT", "DELETE"),
    "components": ("PUT", "DELETE"),
    "incidents": ("GET",),
    "maintenances": ("GET", "DELETE"),
    "subscribers": ("DELETE",),
}
# Public status page routes: reads are cached (Cache-Control) by a CDN in front; each write
# (subscribe, confirm, unsubscribe) costs a database transaction and maybe an email.
STATUS_READS = Throttle(rate=50, burst=100)
STATUS_WRITES = Throttle(rate=5, burst=20)

# The Loki query API's routes: each answers GET (query string) and POST (form body) alike.
LOKI_READS: tuple[str, ...] = tuple(
    f"/loki/api/v1/{path}"
    for path in ("query_range", "query", "labels", "label/{name}/values", "series", "index/stats")
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
    # --- post-mortems ---
    Route("POST", "/api/v1/incidents/{incident_id}/postmortem", "incidents"),
    Route("GET", "/api/v1/incidents/{incident_id}/postmortem", "incidents"),
    Route("PATCH", "/api/v1/incidents/{incident_id}/postmortem", "incidents"),
    Route("GET", "/api/v1/incidents/{incident_id}/postmortem.md", "incidents"),
    Route("GET", "/api/v1/postmortem-template", "incidents"),
    Route("PUT", "/api/v1/postmortem-template", "incidents"),
    # --- correlation and root cause ---
    Route("GET", "/api/v1/incidents/{incident_id}/analysis", "incidents"),
    Route("POST", "/api/v1/incidents/{incident_id}/analysis", "incidents"),
    Route("GET", "/api/v1/services", "incidents"),
    Route("GET", "/api/v1/services/{service}", "incidents"),
    Route("PUT", "/api/v1/services/{service}", "incidents"),
    Route("DELETE", "/api/v1/services/{service}", "incidents"),
    Route("GET", "/api/v1/correlation-settings", "incidents"),
    Route("PUT", "/api/v1/correlation-settings", "incidents"),
    Route("GET", "/api/v1/changes", "incidents"),
    Route("POST", "/api/v1/changes", "incidents"),
    Route("GET", "/api/v1/changes/{change_id}", "incidents"),
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
    # --- traces ---
    Route("POST", "/v1/traces", "traces"),
    Route("GET", "/api/v1/traces", "traces"),
    Route("GET", "/api/v1/traces/service-map", "traces"),
    Route("GET", "/api/v1/traces/{trace_id}", "traces"),
    *(
        Route("GET", f"/tempo/api/{path}", "traces")
        for path in (
            "echo",
            "traces/{trace_id}",
            "v2/traces/{trace_id}",
            "search",
            "search/tags",
            "search/tag/{tag}/values",
        )
    ),
    # --- status pages ---
    Route("GET", "/api/v1/status-pages", "status_pages"),
    Route("POST", "/api/v1/status-pages", "status_pages"),
    Route("GET", "/api/v1/status-pages/{page_id}", "status_pages"),
    Route("PUT", "/api/v1/status-pages/{page_id}", "status_pages"),
    Route("DELETE", "/api/v1/status-pages/{page_id}", "status_pages"),
    Route("GET", "/api/v1/status-pages/{page_id}/uptime", "status_pages"),
    *(
        Route(method, f"/api/v1/status-pages/{{page_id}}/{path}", "status_pages")
        for collection, item in (
            ("component-groups", "group_id"),
            ("components", "component_id"),
            ("incidents", "incident_id"),
            ("maintenances", "maintenance_id"),
            ("subscribers", "subscriber_id"),
        )
        for path, methods in (
            (collection, _GET_POST),
            (f"{collection}/{{{item}}}", _STATUS_ITEM_METHODS[collection]),
        )
        for method in methods
    ),
    Route("POST", "/api/v1/status-pages/{page_id}/incidents/{incident_id}/updates", "status_pages"),
    # Public: no authorizer; throttled per method in API Gateway and in the local gateway.
    # `/status/acme.json` reaches `/status/{slug}` (a path variable matches a whole segment).
    Route("GET", "/status/{slug}", "status_pages", auth=False, throttle=STATUS_READS),
    Route("GET", "/status/{slug}/history.rss", "status_pages", auth=False, throttle=STATUS_READS),
    Route("GET", "/status/{slug}/history.atom", "status_pages", auth=False, throttle=STATUS_READS),
    Route("POST", "/status/{slug}/subscribers", "status_pages", auth=False, throttle=STATUS_WRITES),
    Route("GET", "/status/{slug}/confirm", "status_pages", auth=False, throttle=STATUS_READS),
    Route("POST", "/status/{slug}/confirm", "status_pages", auth=False, throttle=STATUS_WRITES),
    Route("GET", "/status/{slug}/unsubscribe", "status_pages", auth=False, throttle=STATUS_READS),
    Route("POST", "/status/{slug}/unsubscribe", "status_pages", auth=False, throttle=STATUS_WRITES),
    # --- logs ---
    Route("POST", "/v1/logs", "logs"),
    Route("POST", "/loki/api/v1/push", "logs"),
    Route("POST", "/api/v1/logs/ingest", "logs"),
    Route("GET", "/api/v1/logs/query", "logs"),
    # Grafana and logcli POST the same parameters as a form body (long selectors).
    *(Route(method, path, "logs") for path in LOKI_READS for method in _GET_POST),
    Route("GET", "/loki/api/v1/status/buildinfo", "logs"),
)

SCHEDULES: tuple[Schedule, ...] = (
    # Daily, not hourly: each run wakes a paused Aurora for ~6 minutes (docs/deploy.md).
    Schedule(
        "housekeeping",
        "rate(1 day)",
        "housekeeping",
        "Purge long-dead API keys, drop metric, span and log days past retention, flag overdue "
        "post-mortem action items",
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
        {
            "source": ["orchestrix"],
            "detail-type": ["alert.fired", "alert.resolved", "alert.remediation_failed"],
        },
        "incident_events",
        bus="orchestrix",
        description="Firing alerts open or join incidents (after a failed fix, for an alert "
        "with a remediation); resolved ones are noted",
    ),
    # --- status pages ---
    EventRule(
        "incidents-to-status-pages",
        {
            "source": ["orchestrix"],
            "detail-type": [
                "incident.triggered",
                "incident.acknowledged",
                "incident.mitigated",
                "incident.resolved",
            ],
        },
        "status_pages",
        bus="orchestrix",
        description="Incidents of linked services and rules move status page components",
    ),
    # --- correlation and root cause ---
    EventRule(
        "deployments-to-changes",
        {
            "source": ["aws.codedeploy", "aws.ecs", "aws.cloudformation"],
            "detail-type": [
                "CodeDeploy Deployment State-change Notification",
                "ECS Deployment State Change",
                "CloudFormation Stack Status Change",
            ],
        },
        "incident_events",
        description="Deployments of resources named for a tenant become its change events",
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
