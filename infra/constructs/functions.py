"""Every Lambda function of `wiring.FUNCTIONS`: Python 3.12 on ARM64, the shared layer, the
runtime settings in its environment and one least-privilege IAM grant per capability."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.database import Database
from infra.constructs.events import Events
from infra.constructs.layer import REPO_ROOT
from infra.constructs.network import Network
from infra.constructs.notifications import Notifications
from infra.constructs.secrets import Secrets
from infra.constructs.workflows import Workflows
from infra.nag import acknowledge_wildcards
from orchestrix import wiring
from orchestrix.domain.workflow.aws_actions import STEP_IAM_ACTIONS, TENANT_TAG

# What a workflow `aws` step may do, on resources tagged for the step's own tenant only: the
# step allow-list's own table, so the grant and the validator cannot drift apart.
REMEDIATION_ACTIONS = STEP_IAM_ACTIONS
_GEO_PROFILE = re.compile(r"^(us|eu|apac|us-gov|jp|au|ca|global)\.(.+)$")


@dataclass(frozen=True)
class Platform:
    """The shared resources functions are configured with and granted access to."""

    network: Network
    database: Database
    events: Events
    workflows: Workflows
    notifications: Notifications
    secrets: Secrets


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        platform: Platform,
        layer: lambda_.ILayerVersion,
        retention: logs.RetentionDays,
        functions: Iterable[wiring.Function] = wiring.FUNCTIONS,
        repo_root: Path = REPO_ROOT,
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        self._platform = platform
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=f"{config.prefix}-dead-letters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        self.by_name: dict[str, lambda_.Function] = {}
        self.specs: dict[str, wiring.Function] = {}
        environment = self._environment()
        for spec in functions:
            fn = self._build_function(spec, layer, retention, environment, repo_root)
            if config.tracing:
                acknowledge_wildcards(
                    fn, ["*"], "X-Ray PutTraceSegments/PutTelemetryRecords take no resource."
                )
            for capability in spec.capabilities:
                self._grants[capability](self, fn)
            self.by_name[spec.name] = fn
            self.specs[spec.name] = spec

    def _environment(self) -> dict[str, str]:
        config, p = self._config, self._platform
        env = {
            "ORCHESTRIX_STAGE": config.stage,
            "DB_SECRET_ARN": p.database.secret.secret_arn,
            "DB_HOST": p.database.host,
            "DB_NAME": p.database.name,
            "EVENT_BUS_NAME": p.events.bus.event_bus_name,
            "SCHEDULE_GROUP_NAME": p.events.schedule_group.schedule_group_name,
            "SCHEDULER_ROLE_ARN": p.events.scheduler_role.role_arn,
            "SCHEDULER_TARGET_PREFIX": p.events.target_prefix,
            "STATE_MACHINE_ROLE_ARN": p.workflows.role.role_arn,
            "STATE_MACHINE_PREFIX": p.workflows.name_prefix,
            "OIDC_ISSUER": config.oidc_issuer,
            "OIDC_AUDIENCE": config.oidc_audience,
            "TENANT_CLAIM": config.tenant_claim,
            "ROLE_CLAIMS": config.role_claims,
            "METRICS_BACKEND": config.metrics_backend,
            "NOTIFY_TOPIC_ARN": p.notifications.topic.topic_arn,
            "INTEGRATIONS_SECRET_ARN": p.notifications.integrations_secret.secret_arn,
            "SES_FROM_ADDRESS": config.ses_from_address,
            "EGRESS_ALLOW": config.egress_allow,
            "BEDROCK_MODEL_ID": config.bedrock_model_id,
            "ORCHESTRIX_TRACING": "1" if config.tracing else "0",
            "POWERTOOLS_TRACE_DISABLED": "false" if config.tracing else "true",
            "LOG_LEVEL": config.log_level,
            "POWERTOOLS_METRICS_NAMESPACE": "Orchestrix",
        }
        if config.public_url:
            env["PUBLIC_URL"] = config.public_url
        if config.metrics_backend == "amp":
            env["AMP_WORKSPACE_ID"] = config.amp_workspace_id
            env["AMP_REGION"] = config.region
        return env

    def _build_function(
        self,
        spec: wiring.Function,
        layer: lambda_.ILayerVersion,
        retention: logs.RetentionDays,
        environment: dict[str, str],
        repo_root: Path,
    ) -> lambda_.Function:
        source = repo_root / spec.source_dir
        if not (source / "handler.py").is_file():
            raise FileNotFoundError(
                f"wiring function {spec.name!r} has no {spec.source_dir}/handler.py"
            )
        name = f"{self._config.prefix}-{spec.name}"
        log_group = logs.LogGroup(
            self,
            f"Logs-{spec.name}",
            log_group_name=f"/aws/lambda/{name}",
            retention=retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        network = self._platform.network
        return lambda_.Function(
            self,
            f"Fn-{spec.name}",
            function_name=name,
            description=spec.description[:256],
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler=spec.handler,
            code=lambda_.Code.from_asset(str(source), exclude=["__pycache__", "*.pyc"]),
            layers=[layer],
            memory_size=spec.memory_mb,
            timeout=cdk.Duration.seconds(spec.timeout_s),
            environment={**environment, "POWERTOOLS_SERVICE_NAME": spec.name},
            log_group=log_group,
            vpc=network.vpc,
            vpc_subnets=network.function_subnets(spec),
            security_groups=[self._platform.database.client_security_group],
            # Async invocations keep Lambda's default of two retries, then go to the queue;
            # setting it explicitly would add an EventInvokeConfig resource per function.
            dead_letter_queue=self.dead_letter_queue,
            tracing=lambda_.Tracing.ACTIVE if self._config.tracing else lambda_.Tracing.DISABLED,
        )

    # --- capability grants: one small method each -----------------------------------------

    @staticmethod
    def _allow(
        fn: lambda_.Function,
        actions: list[str],
        resources: list[str],
        reason: str,
        conditions: dict[str, dict[str, str]] | None = None,
    ) -> None:
        _add_statement(
            fn, iam.PolicyStatement(actions=actions, resources=resources, conditions=conditions)
        )
        acknowledge_wildcards(fn, resources, reason)

    def _grant_database(self, fn: lambda_.Function) -> None:
        self._platform.database.grant_access(fn)

    def _grant_events_put(self, fn: lambda_.Function) -> None:
        self._platform.events.bus.grant_put_events_to(fn)

    def _grant_scheduler_manage(self, fn: lambda_.Function) -> None:
        stack = cdk.Stack.of(self)
        arn = f"arn:{stack.partition}:scheduler:{stack.region}:{stack.account}"
        self._allow(
            fn,
            [
                "scheduler:CreateSchedule",
                "scheduler:UpdateSchedule",
                "scheduler:DeleteSchedule",
                "scheduler:GetSchedule",
            ],
            [f"{arn}:schedule/{self._config.prefix}/*"],
            "Escalation schedules are created at run time, one per incident level; the grant is "
            "limited to the stage's own schedule group.",
        )
        _add_statement(
            fn, _pass_role(self._platform.events.scheduler_role, "scheduler.amazonaws.com")
        )

    def _grant_scheduler_toggle(self, fn: lambda_.Function) -> None:
        """Get/UpdateSchedule on the schedules that run only while rules exist, nothing else;
        UpdateSchedule re-passes the schedule's role."""
        stack = cdk.Stack.of(self)
        prefix = self._config.prefix
        arn = f"arn:{stack.partition}:scheduler:{stack.region}:{stack.account}"
        names = [s.name for s in wiring.SCHEDULES if s.while_rules_exist]
        _add_statement(
            fn,
            iam.PolicyStatement(
                actions=["scheduler:GetSchedule", "scheduler:UpdateSchedule"],
                resources=[f"{arn}:schedule/{prefix}/{prefix}-{name}" for name in names],
            ),
        )
        _add_statement(
            fn, _pass_role(self._platform.events.scheduler_role, "scheduler.amazonaws.com")
        )

    def _grant_states_start(self, fn: lambda_.Function) -> None:
        stack = cdk.Stack.of(self)
        prefix = self._platform.workflows.name_prefix
        arn = f"arn:{stack.partition}:states:{stack.region}:{stack.account}"
        reason = (
            "Workflow versions compile to state machines created at run time; the grant is "
            "limited to the stage's name prefix."
        )
        self._allow(
            fn,
            [
                "states:CreateStateMachine",
                "states:UpdateStateMachine",
                "states:DescribeStateMachine",
                "states:StartExecution",
                "states:ListExecutions",
                "states:TagResource",
            ],
            [f"{arn}:stateMachine:{prefix}*"],
            reason,
        )
        self._allow(
            fn,
            ["states:StopExecution", "states:DescribeExecution", "states:GetExecutionHistory"],
            [f"{arn}:execution:{prefix}*:*"],
            reason,
        )
        # Re-compiling an existing version finds its machine's ARN by listing the machines.
        self._allow(
            fn,
            ["states:ListStateMachines"],
            ["*"],
            "ListStateMachines has no resource-level permission; it only returns names and "
            "ARNs, and every call on a machine is limited to the stage's name prefix.",
        )
        _add_statement(fn, _pass_role(self._platform.workflows.role, "states.amazonaws.com"))

    def _grant_states_callback(self, fn: lambda_.Function) -> None:
        self._allow(
            fn,
            ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
            ["*"],
            "SendTask* act on a task token, not a resource: IAM accepts only '*' for them.",
        )

    def _grant_ses_send(self, fn: lambda_.Function) -> None:
        self._platform.notifications.grant_send_email(fn)

    def _grant_sns_publish(self, fn: lambda_.Function) -> None:
        self._platform.notifications.grant_publish(fn)
        # Direct SMS goes to a phone number, not a topic: allow that and no other topic.
        _add_statement(
            fn, iam.PolicyStatement(actions=["sns:Publish"], not_resources=["arn:*:sns:*:*:*"])
        )

    def _grant_bedrock_invoke(self, fn: lambda_.Function) -> None:
        model = self._config.bedrock_model_id
        if not model:
            return  # the offline analyser needs no permission
        self._allow(
            fn,
            ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            bedrock_resources(cdk.Stack.of(self), model),
            "A cross-region inference profile routes to the same model in any of its regions.",
        )

    def _amp_workspace_arn(self) -> str:
        stack = cdk.Stack.of(self)
        config = self._config
        account = config.amp_account or stack.account
        workspace = config.amp_workspace_id
        return f"arn:{stack.partition}:aps:{config.region}:{account}:workspace/{workspace}"

    def _grant_metrics_write(self, fn: lambda_.Function) -> None:
        if self._config.metrics_backend != "amp":
            return  # samples go to Aurora: the database grant covers them
        _add_statement(
            fn,
            iam.PolicyStatement(actions=["aps:RemoteWrite"], resources=[self._amp_workspace_arn()]),
        )

    def _grant_metrics_read(self, fn: lambda_.Function) -> None:
        """Queries and the listing calls. No aps:GetMetricMetadata: metadata stays in Aurora,
        since AMP keeps it per workspace and could not keep it apart per tenant."""
        if self._config.metrics_backend != "amp":
            return
        _add_statement(
            fn,
            iam.PolicyStatement(
                actions=["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels"],
                resources=[self._amp_workspace_arn()],
            ),
        )

    def _grant_kms_secrets(self, fn: lambda_.Function) -> None:
        self._platform.secrets.grant_secret_box(fn)

    def _grant_remediation_act(self, fn: lambda_.Function) -> None:
        """The function itself gets no remediation action: it assumes a role per step with
        the session tag `orchestrix:tenant=<stage>/<tenant>`, and that role may act only on
        resources whose same tag has the same value, so one tenant's runbook cannot touch
        another tenant's resources (nor any untagged one)."""
        assert fn.role is not None
        stage_tenants = f"{self._config.stage}/*"
        role = iam.Role(
            self,
            f"{fn.node.id}RemediationRole",
            description=f"Runs {self._config.prefix} workflow aws steps as one tenant",
            assumed_by=iam.SessionTagsPrincipal(fn.role).with_conditions(
                {
                    # every session names a tenant of this stage, and carries no other tag
                    "StringLike": {f"aws:RequestTag/{TENANT_TAG}": stage_tenants},
                    "ForAllValues:StringEquals": {"aws:TagKeys": [TENANT_TAG]},
                }
            ),
            max_session_duration=cdk.Duration.hours(1),
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=list(REMEDIATION_ACTIONS),
                resources=["*"],
                conditions={
                    "StringEquals": {
                        f"aws:ResourceTag/{TENANT_TAG}": f"${{aws:PrincipalTag/{TENANT_TAG}}}"
                    }
                },
            )
        )
        acknowledge_wildcards(
            role,
            ["*"],
            "Remediation targets are the tenant's own resources, unknown at deploy time; the "
            f"actions are allow-listed and apply only where the resource's {TENANT_TAG} tag "
            "equals the session's (the tenant the step runs for).",
        )
        self._allow(
            fn,
            ["sts:AssumeRole", "sts:TagSession"],
            [role.role_arn],
            "The function's own remediation role.",
        )
        fn.add_environment("REMEDIATION_ROLE_ARN", role.role_arn)

    _grants: dict[str, Callable[[Functions, lambda_.Function], None]] = {
        "database": _grant_database,
        "events:put": _grant_events_put,
        "scheduler:manage": _grant_scheduler_manage,
        "scheduler:toggle": _grant_scheduler_toggle,
        "states:start": _grant_states_start,
        "states:callback": _grant_states_callback,
        "ses:send": _grant_ses_send,
        "sns:publish": _grant_sns_publish,
        "bedrock:invoke": _grant_bedrock_invoke,
        "remediation:act": _grant_remediation_act,
        "kms:secrets": _grant_kms_secrets,
        "metrics:write": _grant_metrics_write,
        "metrics:read": _grant_metrics_read,
    }


def _add_statement(fn: lambda_.Function, statement: iam.PolicyStatement) -> None:
    """Into the role's one default policy. `fn.add_to_role_policy` makes a new AWS::IAM::Policy
    per call under the createNewPoliciesWithAddToRolePolicy flag (cdk.json), which would cost
    the stack dozens of resources against CloudFormation's 500-resource limit."""
    assert fn.role is not None  # every function here gets the role Lambda creates for it
    fn.role.add_to_principal_policy(statement)


def _pass_role(role: iam.IRole, service: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=["iam:PassRole"],
        resources=[role.role_arn],
        conditions={"StringEquals": {"iam:PassedToService": service}},
    )


def bedrock_resources(stack: cdk.Stack, model: str) -> list[str]:
    """A foundation model, or a cross-region inference profile and the models it routes to."""
    profile = _GEO_PROFILE.match(model)
    if profile is None:
        return [f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{model}"]
    return [
        f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:inference-profile/{model}",
        f"arn:{stack.partition}:bedrock:*::foundation-model/{profile.group(2)}",
    ]
