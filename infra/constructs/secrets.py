"""The customer-managed KMS key that seals tenants' channel secrets (Slack tokens, webhook
signing keys, ...) by envelope encryption, under `alias/orchestrix-<stage>-secrets` — the
alias `orchestrix.adapters.notify.components` asks KMS for, so no setting carries it."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.config import StageConfig

# What KmsSecretBox calls: a fresh data key per seal, an unwrap per open. It never calls
# Encrypt (the data key encrypts locally with AES-GCM) and only calls DescribeKey locally.
SECRET_BOX_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
TENANT_CONTEXT_KEY = "tenant_id"


class Secrets(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self.alias_name = f"alias/{config.prefix}-secrets"
        self.key = kms.Key(
            self,
            "Key",
            description=f"Orchestrix {config.stage}: envelope key of tenants' channel secrets",
            enable_key_rotation=True,
            # Without the key every sealed secret in the database is lost: keep it unless the
            # stage is explicitly a throwaway one.
            removal_policy=(
                cdk.RemovalPolicy.RETAIN
                if config.deletion_protection
                else cdk.RemovalPolicy.DESTROY
            ),
            pending_window=cdk.Duration.days(30 if config.deletion_protection else 7),
        )
        self.alias = self.key.add_alias(self.alias_name)

    def grant_secret_box(self, grantee: iam.IGrantable) -> None:
        """GenerateDataKey/Decrypt on this key only, and only for data keys bound to a tenant
        (the encryption context KmsSecretBox always sends)."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(SECRET_BOX_ACTIONS),
                resources=[self.key.key_arn],
                conditions={"Null": {f"kms:EncryptionContext:{TENANT_CONTEXT_KEY}": "false"}},
            )
        )
