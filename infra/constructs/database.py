"""Aurora PostgreSQL 16 Serverless v2, reached directly at the cluster endpoint (no RDS Proxy:
every connection runs `SET ROLE orchestrix_app`, which pins proxy sessions and makes a proxy
pure cost). Credentials in Secrets Manager, rotated; functions re-read the secret when the
password they hold stops working. In the default profile the cluster scales to 0 ACU and
pauses after AUTO_PAUSE of inactivity."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.network import EGRESS, ISOLATED

DB_NAME = "orchestrix"
# 16.3+ can scale to 0 ACU and auto-pause; 16.6 and older can no longer create clusters.
ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_16_13
# The shortest pause Aurora accepts: after 5 minutes without a connection the cluster pauses.
AUTO_PAUSE = cdk.Duration.minutes(5)


class Database(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, vpc: ec2.IVpc) -> None:
        super().__init__(scope, id)
        self._config = config
        self.client_security_group = ec2.SecurityGroup(
            self, "ClientSg", vpc=vpc, description="Functions that talk to Aurora"
        )
        self.cluster = self._build_cluster(vpc)
        self.cluster.connections.allow_default_port_from(
            self.client_security_group, "functions to Aurora"
        )
        self.secret: secretsmanager.ISecret = self.cluster.secret  # type: ignore[assignment]
        self._build_rotation()
        self.host = self.cluster.cluster_endpoint.hostname
        self.name = DB_NAME

    def _build_cluster(self, vpc: ec2.IVpc) -> rds.DatabaseCluster:
        config = self._config
        return rds.DatabaseCluster(
            self,
            "Cluster",
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=ENGINE_VERSION),
            writer=rds.ClusterInstance.serverless_v2("writer", publicly_accessible=False),
            serverless_v2_min_capacity=config.aurora_min_acu,
            serverless_v2_max_capacity=config.aurora_max_acu,
            # Only meaningful (and only accepted) when the floor is 0 ACU.
            serverless_v2_auto_pause_duration=AUTO_PAUSE if config.aurora_min_acu == 0 else None,
            credentials=rds.Credentials.from_generated_secret(
                "orchestrix", secret_name=f"{config.prefix}/db/owner"
            ),
            default_database_name=DB_NAME,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_group_name=ISOLATED),
            storage_encrypted=True,
            deletion_protection=config.deletion_protection,
            backup=rds.BackupProps(retention=cdk.Duration.days(7)),
            cloudwatch_logs_exports=["postgresql"],
            removal_policy=(
                cdk.RemovalPolicy.SNAPSHOT
                if config.deletion_protection
                else cdk.RemovalPolicy.DESTROY
            ),
            copy_tags_to_snapshot=True,
        )

    def _build_rotation(self) -> None:
        # Warm functions keep the old password until a login fails, then re-read the secret
        # and retry once (orchestrix.adapters.secrets.DatabaseCredentials). The rotation
        # function calls Secrets Manager, so it sits where the NAT (or endpoints) reach it.
        self.cluster.add_rotation_single_user(
            automatically_after=cdk.Duration.days(30),
            vpc_subnets=ec2.SubnetSelection(subnet_group_name=EGRESS),
        )

    def grant_access(self, grantee: iam.IGrantable) -> None:
        """What the `database` capability means: read the secret."""
        self.secret.grant_read(grantee)
