"""The alarms an operator of one stage needs, sent to an SNS topic that mails `alarmEmail`,
and (profile `production` only: $3 a month beyond an account's three free ones) a CloudWatch
dashboard of the same metrics."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.config import StageConfig

FIVE_MINUTES = cdk.Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        api: apigw.RestApi,
        functions: Mapping[str, lambda_.Function],
        dead_letter_queue: sqs.IQueue,
        cluster: rds.DatabaseCluster,
        state_machines: Mapping[str, sfn.StateMachine],
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        # CloudWatch cannot publish to a topic under the AWS-managed SNS key (see nag reason).
        self.topic = sns.Topic(
            self, "AlarmTopic", topic_name=f"{config.prefix}-alarms", enforce_ssl=True
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.alarms: dict[str, cw.Alarm] = {}
        self.dashboard = (
            cw.Dashboard(self, "Dashboard", dashboard_name=config.prefix)
            if config.profile == "production"
            else None
        )
        self._build_api(api)
        self._build_functions(functions)
        self._build_dead_letters(dead_letter_queue)
        self._build_database(cluster)
        self._build_state_machines(state_machines)

    def _widgets(self, *widgets: cw.IWidget) -> None:
        if self.dashboard is not None:
            self.dashboard.add_widgets(*widgets)

    def _alarm(self, name: str, metric: cw.Metric, threshold: float, periods: int = 1) -> cw.Alarm:
        alarm = metric.create_alarm(
            self,
            f"Alarm-{name}",
            alarm_name=f"{self._config.prefix}-{name}",
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        alarm.add_ok_action(cw_actions.SnsAction(self.topic))
        self.alarms[name] = alarm
        return alarm

    def _build_api(self, api: apigw.RestApi) -> None:
        errors = api.metric_server_error(period=FIVE_MINUTES, statistic="Sum")
        latency = api.metric_latency(period=FIVE_MINUTES, statistic="p99")
        self._alarm("api-5xx", errors, 5)
        self._alarm("api-p99-latency", latency, 5000, periods=3)
        self._widgets(
            cw.GraphWidget(
                title="API requests / 4xx / 5xx",
                left=[
                    api.metric_count(period=FIVE_MINUTES),
                    api.metric_client_error(period=FIVE_MINUTES),
                    errors,
                ],
            ),
            cw.GraphWidget(title="API latency p99 (ms)", left=[latency]),
        )

    def _build_functions(self, functions: Mapping[str, lambda_.Function]) -> None:
        error_metrics, throttle_metrics = [], []
        for name, fn in sorted(functions.items()):
            errors = fn.metric_errors(period=FIVE_MINUTES, label=name)
            throttles = fn.metric_throttles(period=FIVE_MINUTES, label=name)
            self._alarm(f"{name}-errors", errors, 1)
            self._alarm(f"{name}-throttles", throttles, 1)
            error_metrics.append(errors)
            throttle_metrics.append(throttles)
        self._widgets(
            cw.GraphWidget(title="Lambda errors", left=error_metrics),
            cw.GraphWidget(title="Lambda throttles", left=throttle_metrics),
        )

    def _build_dead_letters(self, queue: sqs.IQueue) -> None:
        depth = queue.metric_approximate_number_of_messages_visible(
            period=FIVE_MINUTES, statistic="Max"
        )
        self._alarm("dead-letters", depth, 1)
        self._widgets(cw.GraphWidget(title="Dead letters", left=[depth]))

    def _build_database(self, cluster: rds.DatabaseCluster) -> None:
        capacity = cluster.metric(
            "ServerlessDatabaseCapacity", period=FIVE_MINUTES, statistic="Max"
        )
        connections = cluster.metric_database_connections(period=FIVE_MINUTES, statistic="Max")
        # Near the ACU ceiling for 15 minutes: raise auroraMaxAcu before queries slow down.
        self._alarm("aurora-capacity", capacity, self._config.aurora_max_acu * 0.9, periods=3)
        self._alarm("aurora-connections", connections, 400, periods=3)
        self._widgets(
            cw.GraphWidget(title="Aurora ACU", left=[capacity]),
            cw.GraphWidget(title="Aurora connections", left=[connections]),
        )

    def _build_state_machines(self, machines: Mapping[str, sfn.StateMachine]) -> None:
        failed = []
        for name, machine in sorted(machines.items()):
            metric = machine.metric_failed(period=FIVE_MINUTES, label=name)
            self._alarm(f"{name}-failed", metric, 1)
            failed.append(metric)
        if failed:
            self._widgets(cw.GraphWidget(title="State machine failures", left=failed))
