"""Aurora PostgreSQL 16 Serverless v2 behind RDS Proxy; credentials in Secrets Manager."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.network import ISOLATED

DB_NAME = "orchestrix"
ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_16_6  # >= 16.3: can scale to 0 ACU


class Database(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, vpc: ec2.IVpc) -> None:
        super().__init__(scope, id)
        self._config = config
        self.client_security_group = ec2.SecurityGroup(
            self, "ClientSg", vpc=vpc, description="Functions that talk to the RDS Proxy"
        )
        self.cluster = self._build_cluster(vpc)
        self.secret: secretsmanager.ISecret = self.cluster.secret  # type: ignore[assignment]
        self._build_rotation(vpc)
        self.proxy = self._build_proxy(vpc)
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
            credentials=rds.Credentials.from_generated_secret(
                "orchestrix", secret_name=f"{config.prefix}/db/owner"
            ),
            default_database_name=DB_NAME,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_group_name=ISOLATED),
            storage_encrypted=True,
            iam_authentication=True,
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

    def _build_rotation(self, vpc: ec2.IVpc) -> None:
        # The proxy reads the secret on every new pooled connection, so rotation is seamless.
        self.cluster.add_rotation_single_user(
            automatically_after=cdk.Duration.days(30),
            vpc_subnets=ec2.SubnetSelection(subnet_group_name=ISOLATED),
        )

    def _build_proxy(self, vpc: ec2.IVpc) -> rds.DatabaseProxy:
        proxy_sg = ec2.SecurityGroup(self, "ProxySg", vpc=vpc, description="RDS Proxy")
        proxy_sg.add_ingress_rule(
            self.client_security_group, ec2.Port.tcp(5432), "functions to proxy"
        )
        self.cluster.connections.allow_default_port_from(proxy_sg, "proxy to Aurora")
        return self.cluster.add_proxy(
            "Proxy",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_group_name=ISOLATED),
            secrets=[self.secret],
            security_groups=[proxy_sg],
            require_tls=True,
            iam_auth=self._config.db_iam_auth,
            db_proxy_name=self._config.prefix,
        )

    def grant_access(self, grantee: iam.IGrantable) -> None:
        """What the `database` capability means: read the secret (and IAM connect)."""
        self.secret.grant_read(grantee)
        if self._config.db_iam_auth:
            self.proxy.grant_connect(grantee, "orchestrix")
