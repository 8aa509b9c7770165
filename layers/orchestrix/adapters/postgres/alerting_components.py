"""Builds the alerting services from bootstrap's components (database, clock, event bus).

Built per call (they are cheap) so they always see what bootstrap currently holds; the
metric store is kept per database because it caches partitions and series.
"""

from __future__ import annotations

from typing import Any

import psycopg

from orchestrix import bootstrap
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.promql import Queryable
from orchestrix.services.alert_ports import AlertingRepos
from orchestrix.services.alert_service import AlertService
from orchestrix.services.anomaly_evaluation import AnomalyEvaluator, AnomalyModelRepository
from orchestrix.services.log_rules import LogRuleEvaluator
from orchestrix.services.rule_evaluation import EvaluationBudget, EvaluationService
from orchestrix.services.rule_schedule import RuleScheduleService
from orchestrix.services.rule_service import RuleService
from orchestrix.services.silences import SilenceService


def repos(uow: UnitOfWork) -> AlertingRepos:
    from orchestrix.adapters.postgres.alert_rules import PostgresAlertRuleRepository
    from orchestrix.adapters.postgres.alerts import PostgresAlertRepository
    from orchestrix.adapters.postgres.rule_references import PostgresRuleReferences
    from orchestrix.adapters.postgres.silences import PostgresSilenceRepository

    conn: psycopg.Connection[Any] = uow.conn  # type: ignore[attr-defined]
    return AlertingRepos(
        alerts=PostgresAlertRepository(conn),
        rules=PostgresAlertRuleRepository(conn),
        silences=PostgresSilenceRepository(conn),
        references=PostgresRuleReferences(conn),
    )


def metric_reader(tenant_id: str) -> Queryable:
    """One tenant's metrics, read through the stage's process-wide metric store (PostgreSQL,
    or the managed Prometheus workspace with the `amp` backend)."""
    reader: Queryable = bootstrap.metric_store().reader(tenant_id)
    return reader


def alert_service() -> AlertService:
    return AlertService(
        bootstrap.unit_of_work, repos, bootstrap.event_publisher(), bootstrap.clock()
    )


def rule_schedule_service() -> RuleScheduleService:
    return RuleScheduleService(bootstrap.unit_of_work, repos, bootstrap.evaluation_schedule())


def rule_service() -> RuleService:
    return RuleService(
        bootstrap.unit_of_work, repos, bootstrap.clock(), schedule=rule_schedule_service
    )


def silence_service() -> SilenceService:
    return SilenceService(bootstrap.unit_of_work, repos, bootstrap.clock())


def anomaly_models(uow: UnitOfWork) -> AnomalyModelRepository:
    from orchestrix.adapters.postgres.anomaly_models import PostgresAnomalyModels

    return PostgresAnomalyModels(uow.conn)  # type: ignore[attr-defined]


def anomaly_evaluator() -> AnomalyEvaluator:
    from orchestrix.adapters.postgres.anomaly_models import MetricStoreBands

    limits = bootstrap.settings()
    return AnomalyEvaluator(
        anomaly_models,
        MetricStoreBands(bootstrap.metric_store),
        metric_reader,
        max_samples=limits.query_max_samples,
        timeout_s=limits.rule_query_timeout_s,
    )


def evaluation_service() -> EvaluationService:
    # auto-remediation: firing alerts whose rule names a workflow start the remediation machine
    from orchestrix.adapters.postgres.remediation_components import remediation_service

    limits = bootstrap.settings()
    return EvaluationService(
        bootstrap.unit_of_work,
        repos,
        metric_reader,
        bootstrap.event_publisher(),
        remediation=remediation_service(),
        logs=_log_rules(),
        budget=EvaluationBudget(
            query_timeout_s=limits.rule_query_timeout_s,
            tick_s=limits.rule_tick_budget_s,
            max_samples=limits.query_max_samples,
        ),
        anomaly=anomaly_evaluator(),
    )


def _log_rules() -> LogRuleEvaluator:
    return LogRuleEvaluator(bootstrap.log_service())
