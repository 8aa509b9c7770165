"""One Orchestrix stage: composes the constructs, tags everything and applies cdk-nag."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.database import Database
from infra.constructs.events import Events
from infra.constructs.functions import Functions, Platform
from infra.constructs.layer import REPO_ROOT, OrchestrixLayer
from infra.constructs.migrations import Migrations
from infra.constructs.monitoring import Monitoring
from infra.constructs.network import Network
from infra.constructs.notifications import Notifications
from infra.constructs.secrets import Secrets
from infra.constructs.workflows import Workflows
from infra.stacks.api_stack import ApiStack
from infra.stacks.nag_suppressions import apply_suppressions
from orchestrix import wiring

MIGRATE_FUNCTION = "migrate"


@dataclass(frozen=True)
class Tables:
    """The wiring tables a stack is built from; tests pass variations of `orchestrix.wiring`."""

    functions: tuple[wiring.Function, ...] = wiring.FUNCTIONS
    routes: tuple[wiring.Route, ...] = wiring.ROUTES
    schedules: tuple[wiring.Schedule, ...] = wiring.SCHEDULES
    rules: tuple[wiring.EventRule, ...] = wiring.EVENT_RULES
    state_machines: tuple[wiring.StateMachine, ...] = wiring.STATE_MACHINES


_RETENTION = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS",
    30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS",
    150: "FIVE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS", 1827: "FIVE_YEARS",
    2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}  # fmt: skip


def retention_days(days: int) -> logs.RetentionDays:
    return logs.RetentionDays[_RETENTION[days]]


class OrchestrixStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        config: StageConfig,
        *,
        tables: Tables | None = None,
        repo_root: Path = REPO_ROOT,
        statemachines_dir: Path | None = None,
        nag: bool = True,
    ) -> None:
        tables = tables or Tables()
        super().__init__(
            scope,
            config.stack_name,
            env=cdk.Environment(account=config.account, region=config.region),
            description=f"Orchestrix AIOps backend, stage {config.stage}",
            termination_protection=config.deletion_protection,
        )
        self.config = config
        retention = retention_days(config.log_retention_days)
        self.network = Network(
            self, "Network", config=config, functions=tables.functions, retention=retention
        )
        self.database = Database(self, "Database", config=config, vpc=self.network.vpc)
        self.events = Events(self, "Events", config=config)
        self.workflows = Workflows(self, "Workflows", config=config, retention=retention)
        self.notifications = Notifications(self, "Notifications", config=config)
        self.secrets = Secrets(self, "Secrets", config=config)
        self.layer = OrchestrixLayer(self, "Layer", repo_root=repo_root)
        self.functions = Functions(
            self,
            "Functions",
            config=config,
            platform=Platform(
                self.network,
                self.database,
                self.events,
                self.workflows,
                self.notifications,
                self.secrets,
            ),
            layer=self.layer.layer,
            retention=retention,
            functions=tables.functions,
            repo_root=repo_root,
        )
        fns = self.functions.by_name
        self._fence_admin_function()
        self.events.connect(
            fns, self.functions.dead_letter_queue, rules=tables.rules, schedules=tables.schedules
        )
        self.workflows.deploy(
            fns,
            machines=tables.state_machines,
            definitions_dir=statemachines_dir or repo_root / "statemachines",
        )
        # A nested stack, so routes and functions each have CloudFormation's 500 resources.
        self.api_stack = ApiStack(
            self, "Api", config=config, functions=fns, retention=retention, routes=tables.routes
        )
        self.api = self.api_stack.api
        self.migrations = Migrations(
            self,
            "Migrations",
            handler=fns[MIGRATE_FUNCTION],
            execute_after=[self.database.cluster],
            execute_before=[
                self.api.rest_api.latest_deployment or self.api.rest_api,
                self.api.rest_api.deployment_stage,
            ],
            repo_root=repo_root,
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            api=self.api.rest_api,
            functions=fns,
            dead_letter_queue=self.functions.dead_letter_queue,
            cluster=self.database.cluster,
            state_machines=self.workflows.state_machines,
        )
        self._build_outputs()
        cdk.Tags.of(self).add("Project", "Orchestrix")
        cdk.Tags.of(self).add("Stage", config.stage)
        if nag:
            apply_suppressions(self)
            cdk.Validations.of(self).add_plugins(AwsSolutionsChecks(self))

    def _fence_admin_function(self) -> None:
        """The admin function mints keys for any tenant: only IAM principals the operator
        grants may invoke it. The scheduler and workflow roles may invoke
        `orchestrix-<stage>-*` (their targets are made at run time), so they are denied it."""
        admin = self.functions.by_name.get(wiring.ADMIN_FUNCTION)
        if admin is None:
            return
        deny = iam.PolicyStatement(
            effect=iam.Effect.DENY,
            actions=["lambda:InvokeFunction"],
            resources=[admin.function_arn, f"{admin.function_arn}:*"],
        )
        for role in (self.events.scheduler_role, self.workflows.role):
            role.add_to_policy(deny)

    def _build_outputs(self) -> None:
        config = self.config
        outputs = {
            "ApiUrl": self.api.rest_api.url,
            "OidcIssuer": config.oidc_issuer or "(not set: only orx_ ingestion keys are accepted)",
            "OidcAudience": config.oidc_audience,
            "TenantClaim": config.tenant_claim,
            "EventBusName": self.events.bus.event_bus_name,
            "NotifyTopicArn": self.notifications.topic.topic_arn,
            "IntegrationsSecretArn": self.notifications.integrations_secret.secret_arn,
            "SecretsKeyArn": self.secrets.key.key_arn,
            "AlarmTopicArn": self.monitoring.topic.topic_arn,
            "DatabaseSecretArn": self.database.secret.secret_arn,
        }
        admin = self.functions.by_name.get(wiring.ADMIN_FUNCTION)
        if admin is not None:  # `orchestrix api-key create --stage` invokes it (first key)
            outputs["AdminFunctionName"] = admin.function_name
        if self.monitoring.dashboard is not None:
            outputs["DashboardName"] = self.monitoring.dashboard.dashboard_name
        if config.domain_name:
            outputs["CustomDomainTarget"] = self.api.domain.domain_name_alias_domain_name
        for key, value in outputs.items():
            cdk.CfnOutput(self, key, value=value)
