"""Amazon Timestream for LiveAnalytics storage — only with `-c metricsBackend=timestream`
(the service is closed to new AWS customers since 2025-06-20; Postgres is the default)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_timestream as timestream
from constructs import Construct

from infra.config import StageConfig
from infra.nag import acknowledge_wildcards

TABLE_NAME = "samples"


class Metrics(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self.enabled = config.metrics_backend == "timestream"
        self.database_name = ""
        self.table_name = ""
        self._table: timestream.CfnTable | None = None
        if self.enabled:
            self._build_timestream(config)

    def _build_timestream(self, config: StageConfig) -> None:
        database = timestream.CfnDatabase(self, "Database", database_name=config.prefix)
        database.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        table = timestream.CfnTable(
            self,
            "Table",
            database_name=config.prefix,
            table_name=TABLE_NAME,
            retention_properties={
                "MemoryStoreRetentionPeriodInHours": str(config.metrics_memory_retention_hours),
                "MagneticStoreRetentionPeriodInDays": str(config.metrics_magnetic_retention_days),
            },
        )
        table.node.add_dependency(database)
        table.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        self.database_name = config.prefix
        self.table_name = TABLE_NAME
        self._table = table

    def grant(self, grantee: iam.IGrantable, *, write: bool) -> None:
        if self._table is None:
            return  # postgres backend: nothing to grant
        actions = ["timestream:WriteRecords"] if write else ["timestream:Select"]
        iam.Grant.add_to_principal(
            grantee=grantee, actions=actions, resource_arns=[self._table.attr_arn]
        )
        # Timestream clients must discover their cell endpoint; the API takes no resource.
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["timestream:DescribeEndpoints"], resource_arns=["*"]
        )
        if isinstance(grantee, Construct):
            acknowledge_wildcards(
                grantee, ["*"], "timestream:DescribeEndpoints takes no resource; IAM needs '*'."
            )
