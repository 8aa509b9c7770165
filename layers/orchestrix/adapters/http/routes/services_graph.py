"""/api/v1/services and /api/v1/correlation-settings — what correlation and root cause reason
over: the declared dependency graph and the rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, ConfigDict, Field

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.routes.silences import MatcherBody
from orchestrix.adapters.postgres.intelligence_components import config_service
from orchestrix.domain.alerting.matchers import Matcher, MatcherError
from orchestrix.domain.errors import ValidationFailed
from orchestrix.domain.intelligence.correlation import (
    CorrelationRule,
    CorrelationSettings,
    InhibitionRule,
)
from orchestrix.domain.intelligence.topology import Service

router = Router()
ServiceName = Annotated[str, Path(min_length=1, max_length=128)]
ChangeId = Annotated[str, Path(max_length=64)]
LabelName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200)]


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    depends_on: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=100, description="Services this one calls"
    )
    description: str = Field(default="", max_length=2000)
    team_id: str | None = Field(default=None, min_length=1, max_length=64)


class ServiceOut(BaseModel):
    name: str
    depends_on: list[str]
    dependents: list[str] = Field(default_factory=list, description="Services that call it")
    description: str
    team_id: str | None

    @classmethod
    def of(cls, s: Service, all_services: list[Service] | None = None) -> ServiceOut:
        callers = [o.name for o in all_services or [] if s.name in o.depends_on]
        return cls(
            name=s.name,
            depends_on=list(s.depends_on),
            dependents=callers,
            description=s.description,
            team_id=s.team_id,
        )


class ServiceList(BaseModel):
    items: list[ServiceOut]


# Numbers are strict: JSON `false` is no 0 hops, `true` no count of 1.
class CorrelationRuleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    matchers: list[MatcherBody] = Field(default_factory=list, max_length=20)
    group_by: list[LabelName] = Field(default_factory=list, max_length=20)
    window_seconds: int = Field(default=600, ge=10, le=86_400, strict=True)
    min_count: int = Field(default=1, ge=1, le=1000, strict=True)


class InhibitRuleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_matchers: list[MatcherBody] = Field(min_length=1, max_length=20)
    target_matchers: list[MatcherBody] = Field(min_length=1, max_length=20)
    equal: list[LabelName] = Field(default_factory=list, max_length=20)


class CorrelationSettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[CorrelationRuleBody] = Field(default_factory=list, max_length=100)
    inhibit_rules: list[InhibitRuleBody] = Field(default_factory=list, max_length=100)
    similarity: float = Field(default=0.6, gt=0, le=1, strict=True)
    topology_hops: int = Field(default=1, ge=0, le=6, strict=True)
    lookback_seconds: int = Field(default=3600, ge=60, le=7 * 86_400, strict=True)
    error_query: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="PromQL of each service's error rate, by a `service` label",
        examples=['sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))'],
    )

    @classmethod
    def of(cls, s: CorrelationSettings) -> CorrelationSettingsBody:
        def body(ms: tuple[Matcher, ...]) -> list[MatcherBody]:
            return [MatcherBody(name=m.name, op=m.op, value=m.value) for m in ms]

        return cls(
            rules=[
                CorrelationRuleBody(
                    name=r.name,
                    matchers=body(r.matchers),
                    group_by=list(r.group_by),
                    window_seconds=int(r.window.total_seconds()),
                    min_count=r.min_count,
                )
                for r in s.rules
            ],
            inhibit_rules=[
                InhibitRuleBody(
                    source_matchers=body(r.source),
                    target_matchers=body(r.target),
                    equal=list(r.equal),
                )
                for r in s.inhibit_rules
            ],
            similarity=s.similarity,
            topology_hops=s.topology_hops,
            lookback_seconds=int(s.lookback.total_seconds()),
            error_query=s.error_query,
        )

    def settings(self) -> CorrelationSettings:
        return CorrelationSettings(
            rules=tuple(
                CorrelationRule(
                    r.name,
                    _matchers(r.matchers, ("body", "rules", i, "matchers")),
                    tuple(r.group_by),
                    timedelta(seconds=r.window_seconds),
                    r.min_count,
                )
                for i, r in enumerate(self.rules)
            ),
            inhibit_rules=tuple(
                InhibitionRule(
                    _matchers(r.source_matchers, ("body", "inhibit_rules", i, "source_matchers")),
                    _matchers(r.target_matchers, ("body", "inhibit_rules", i, "target_matchers")),
                    tuple(r.equal),
                )
                for i, r in enumerate(self.inhibit_rules)
            ),
            similarity=self.similarity,
            topology_hops=self.topology_hops,
            lookback=timedelta(seconds=self.lookback_seconds),
            error_query=_promql(self.error_query),
        )


def _matchers(body: list[MatcherBody], loc: tuple[str | int, ...]) -> tuple[Matcher, ...]:
    try:
        return tuple(Matcher(m.name, m.op, m.value) for m in body)
    except MatcherError as exc:
        raise ValidationFailed.single(loc, str(exc)) from None


def _promql(query: str | None) -> str | None:
    from orchestrix.promql.parse import ParseError, parse

    if query is None:
        return None
    try:
        parse(query)
    except ParseError as exc:
        raise ValidationFailed.single(("body", "error_query"), exc.message) from None
    return query


@router.get("/api/v1/services", tags=["services"], summary="The declared service graph")
def list_services() -> ServiceList:
    found = config_service().services(current_principal(router))
    return ServiceList(items=[ServiceOut.of(s, found) for s in found])


@router.get("/api/v1/services/<service>", tags=["services"], summary="One service")
def get_service(service: ServiceName) -> ServiceOut:
    principal = current_principal(router)
    found = config_service().service(principal, service)
    return ServiceOut.of(found, config_service().services(principal))


@router.put(
    "/api/v1/services/<service>",
    tags=["services"],
    summary="Declare a service and what it depends on (editor)",
)
def put_service(service: ServiceName, body: ServiceIn) -> ServiceOut:
    spec = Service(service, tuple(dict.fromkeys(body.depends_on)), body.description, body.team_id)
    stored = config_service().put_service(
        current_principal(router), spec, current_request_id(router)
    )
    return ServiceOut.of(stored)


@router.delete(
    "/api/v1/services/<service>",
    tags=["services"],
    summary="Forget a service (editor)",
    responses={204: {"description": "deleted"}},
)
def delete_service(service: ServiceName) -> Response[None]:
    config_service().delete_service(current_principal(router), service, current_request_id(router))
    return Response(status_code=204)


@router.get(
    "/api/v1/correlation-settings",
    tags=["correlation"],
    summary="Correlation rules, inhibition rules and topology grouping",
)
def get_correlation_settings() -> CorrelationSettingsBody:
    return CorrelationSettingsBody.of(config_service().correlation(current_principal(router)))


@router.put(
    "/api/v1/correlation-settings",
    tags=["correlation"],
    summary="Replace the correlation settings (admin)",
)
def put_correlation_settings(body: CorrelationSettingsBody) -> CorrelationSettingsBody:
    stored = config_service().put_correlation(
        current_principal(router), body.settings(), current_request_id(router)
    )
    return CorrelationSettingsBody.of(stored)
