"""Outbound notifications: the SNS topic (SMS / fan-out), the SES sender identity and the
secret holding tenants' Slack / webhook credentials."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import StageConfig


class Notifications(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=f"{config.prefix}-notify",
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
            enforce_ssl=True,
        )
        self.integrations_secret = secretsmanager.Secret(
            self,
            "Integrations",
            secret_name=f"{config.prefix}/integrations",
            description="Slack / Teams / webhook credentials, JSON object keyed by integration",
        )
        self.ses_from_address = config.ses_from_address
        self.identity: ses.EmailIdentity | None = None
        if config.ses_from_address:
            self.identity = ses.EmailIdentity(
                self, "SesIdentity", identity=ses.Identity.email(config.ses_from_address)
            )

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        self.topic.grant_publish(grantee)

    def grant_send_email(self, grantee: iam.IGrantable) -> None:
        if self.identity is None:
            return  # no sender configured: email notifications are off
        self.identity.grant_send_email(grantee)
