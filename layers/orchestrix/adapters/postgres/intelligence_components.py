"""Builds the correlation, change and analysis services from bootstrap's components."""

from __future__ import annotations

from typing import Any

from orchestrix import bootstrap
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.incident_analysis import IncidentAnalysisService
from orchestrix.services.intelligence_config import IntelligenceConfigService
from orchestrix.services.intelligence_stores import IntelligenceStores
from orchestrix.services.model_allowance import ModelAllowance, ModelBudget


def _conn(uow: UnitOfWork) -> Any:
    return uow.conn  # type: ignore[attr-defined]


def _services(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.service_graph import PostgresServiceRepository

    return PostgresServiceRepository(_conn(uow), uow.tenant_id)


def _correlation(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.service_graph import PostgresCorrelationSettingsRepository

    return PostgresCorrelationSettingsRepository(_conn(uow), uow.tenant_id)


def _changes(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.service_graph import PostgresChangeRepository

    return PostgresChangeRepository(_conn(uow), uow.tenant_id)


def _signals(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.analysis_store import PostgresSignalReader

    return PostgresSignalReader(_conn(uow))


def _analyses(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.analysis_store import PostgresAnalysisRepository

    return PostgresAnalysisRepository(_conn(uow), uow.tenant_id)


def _usage(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.analysis_store import PostgresUsageRepository

    return PostgresUsageRepository(_conn(uow), uow.tenant_id)


def _observed_graph(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.traces.observed_graph import observed_graph

    return observed_graph(uow)


# The service graph is the declared dependencies plus those observed in traces.
STORES = IntelligenceStores(
    services=_services,
    correlation=_correlation,
    changes=_changes,
    signals=_signals,
    analyses=_analyses,
    usage=_usage,
    observed_graph=_observed_graph,
)


def analysis_service() -> IncidentAnalysisService:
    from orchestrix.adapters.postgres.incident_components import STORES as INCIDENT_STORES
    from orchestrix.services.error_rates import PromqlErrorRates

    budget = model_budget()

    return IncidentAnalysisService(
        bootstrap.unit_of_work,
        INCIDENT_STORES,
        STORES,
        bootstrap.clock(),
        bootstrap.language_model(),
        budget,
        PromqlErrorRates(lambda tenant: bootstrap.metric_store().reader(tenant)),
    )


def model_budget() -> ModelBudget:
    s = bootstrap.settings()
    return ModelBudget(
        daily_tokens=s.llm_daily_tokens,
        daily_cost_usd=s.llm_daily_cost_usd,
        usd_per_1k_input=s.llm_usd_per_1k_input,
        usd_per_1k_output=s.llm_usd_per_1k_output,
    )


def model_allowance() -> ModelAllowance | None:
    """The stage's model behind each tenant's daily limits; None without a model."""
    model = bootstrap.language_model()
    if model is None:
        return None
    return ModelAllowance(
        model, model_budget(), bootstrap.unit_of_work, STORES.usage, bootstrap.clock()
    )


def config_service() -> IntelligenceConfigService:
    return IntelligenceConfigService(bootstrap.unit_of_work, STORES, bootstrap.clock())
