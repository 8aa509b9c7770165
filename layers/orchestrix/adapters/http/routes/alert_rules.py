"""/api/v1/alert-rules — Prometheus alerting rules or the threshold form, and rule files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, ConfigDict, Field

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.routes.api_keys import CursorParam, Limit, page_request
from orchestrix.adapters.postgres.alerting_components import rule_service
from orchestrix.domain.alerting.durations import format_duration, parse_duration
from orchestrix.domain.alerting.matchers import Matcher, MatcherError
from orchestrix.domain.alerting.rules import AlertRule, ThresholdSpec
from orchestrix.domain.anomaly.spec import AnomalySpec
from orchestrix.domain.errors import ValidationFailed
from orchestrix.domain.pagination import DEFAULT_LIMIT
from orchestrix.services.rule_validation import RuleDraft

router = Router()
M = TypeVar("M", bound=BaseModel)
Duration = Annotated[str, Field(pattern=r"^(0|(\d+(ms|y|w|d|h|m|s))+)$", examples=["5m"])]


class MatcherIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    op: Literal["=", "!=", "=~", "!~"] = "="
    value: str = Field(max_length=1000)


class AlertRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["HighErrorRate"])
    expr: str | None = Field(None, max_length=10_000, examples=["rate(errors_total[5m]) > 1"])
    # The threshold form, compiled to `aggregation(metric{matchers}) operator threshold`.
    metric: str | None = Field(None, max_length=200)
    matchers: list[MatcherIn] = Field(default_factory=list, max_length=50)
    aggregation: Literal["avg", "sum", "min", "max", "count", "last"] = "last"
    by: list[str] = Field(default_factory=list, max_length=20)
    operator: Literal[">", ">=", "<", "<=", "==", "!="] | None = None
    threshold: float | None = None
    # The anomaly form: alert on the samples of `expr` outside a learnt band.
    algorithm: Literal["basic", "agile", "robust"] | None = None
    bounds: float | None = Field(None, ge=2, le=4, description="band half-width, in sigmas")
    seasonality: Literal["auto", "none", "hourly", "daily", "weekly"] | None = None
    group: str = Field("default", min_length=1, max_length=200)
    interval: Duration = "1m"
    for_: Duration = Field("0s", alias="for")
    keep_firing_for: Duration = "0s"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    severity: Literal["critical", "error", "warning", "info"] | None = None
    remediation_workflow_id: str | None = Field(None, max_length=64)
    escalation_policy_id: str | None = Field(None, max_length=64)
    enabled: bool = True
    # logql: a log rule, whose expr is a LogQL metric query over log lines.
    language: Literal["promql", "logql"] = "promql"

    def draft(self) -> RuleDraft:
        threshold = None
        if self.metric is not None or self.operator is not None or self.threshold is not None:
            if self.metric is None or self.operator is None or self.threshold is None:
                raise ValidationFailed.single(
                    ("body", "metric"), "the threshold form needs metric, operator and threshold"
                )
            try:
                matchers = tuple(Matcher(m.name, m.op, m.value) for m in self.matchers)
            except MatcherError as exc:
                raise ValidationFailed.single(("body", "matchers"), str(exc)) from None
            threshold = ThresholdSpec(
                self.metric,
                self.operator,
                self.threshold,
                self.aggregation,
                matchers,
                tuple(self.by),
            )
        return RuleDraft(
            name=self.name,
            expr=self.expr,
            threshold=threshold,
            anomaly=self._anomaly(),
            group=self.group,
            interval_s=parse_duration(self.interval),
            for_s=parse_duration(self.for_),
            keep_firing_for_s=parse_duration(self.keep_firing_for),
            labels=self.labels,
            annotations=self.annotations,
            severity=self.severity,
            remediation_workflow_id=self.remediation_workflow_id,
            escalation_policy_id=self.escalation_policy_id,
            enabled=self.enabled,
            language=self.language,
        )

    def _anomaly(self) -> AnomalySpec | None:
        given = {
            "algorithm": self.algorithm,
            "bounds": self.bounds,
            "seasonality": self.seasonality,
        }
        if all(v is None for v in given.values()):
            return None
        return AnomalySpec.from_dict({k: v for k, v in given.items() if v is not None})


class AlertRuleOut(BaseModel):
    id: str
    name: str
    expr: str
    threshold: dict[str, Any] | None
    anomaly: dict[str, Any] | None = None
    group: str
    interval: str
    for_: str = Field(alias="for")
    keep_firing_for: str
    labels: dict[str, str]
    annotations: dict[str, str]
    severity: str
    remediation_workflow_id: str | None
    escalation_policy_id: str | None
    enabled: bool
    health: str
    last_evaluated_at: datetime | None
    last_error: str | None
    created_at: datetime | None
    updated_at: datetime | None
    created_by: str
    language: str = "promql"

    @classmethod
    def of(cls, r: AlertRule) -> AlertRuleOut:
        return cls.model_validate(
            {
                "id": r.id,
                "name": r.name,
                "expr": r.expr,
                "threshold": r.threshold.as_dict() if r.threshold else None,
                "anomaly": r.anomaly.as_dict() if r.anomaly else None,
                "group": r.group,
                "interval": format_duration(r.interval_s),
                "for": format_duration(r.for_s),
                "keep_firing_for": format_duration(r.keep_firing_for_s),
                "labels": r.labels,
                "annotations": r.annotations,
                "severity": r.severity,
                "remediation_workflow_id": r.remediation_workflow_id,
                "escalation_policy_id": r.escalation_policy_id,
                "enabled": r.enabled,
                "health": r.health,
                "last_evaluated_at": r.last_evaluated_at,
                "last_error": r.last_error,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
                "created_by": r.created_by,
                "language": r.language,
            }
        )


class AlertRulePage(BaseModel):
    items: list[AlertRuleOut]
    next_cursor: str | None


class RuleFileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: str = Field(min_length=1, max_length=2_000_000, description="rule file YAML")


class RuleImportOut(BaseModel):
    items: list[AlertRuleOut]
    warnings: list[str]


RuleId = Annotated[str, Path(max_length=64)]
_TEXT: dict[str, Any] = {"type": "string"}
_LABELS: dict[str, Any] = {"type": "object", "additionalProperties": _TEXT}
# The exported YAML, as the API reference documents it: Prometheus' rule file format.
RULE_FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["groups"],
    "properties": {
        "groups": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "interval", "rules"],
                "properties": {
                    "name": _TEXT,
                    "interval": _TEXT,
                    "rules": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["alert", "expr"],
                            "properties": {
                                "alert": _TEXT,
                                "expr": _TEXT,
                                "for": _TEXT,
                                "keep_firing_for": _TEXT,
                                "labels": _LABELS,
                                "annotations": _LABELS,
                            },
                        },
                    },
                },
            },
        }
    },
}


def _created(model: M) -> Response[M]:
    # Powertools serializes the model by alias (`for`) and documents it as the 201 body.
    return Response(status_code=201, content_type="application/json", body=model)


@router.post(
    "/api/v1/alert-rules",
    tags=["alert-rules"],
    summary="Create an alert rule",
    responses={201: {"description": "created"}},
)
def create_rule(body: AlertRuleIn) -> Response[AlertRuleOut]:
    rule = rule_service().create(
        current_principal(router), body.draft(), current_request_id(router)
    )
    return _created(AlertRuleOut.of(rule))


@router.get("/api/v1/alert-rules", tags=["alert-rules"], summary="List alert rules")
def list_rules(limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None) -> AlertRulePage:
    page = rule_service().list(current_principal(router), page_request(limit, cursor))
    return AlertRulePage(
        items=[AlertRuleOut.of(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/api/v1/alert-rules/import",
    tags=["alert-rules"],
    summary="Import a Prometheus rule file (YAML groups); all rules or none",
    responses={201: {"description": "imported"}},
)
def import_rules(body: RuleFileIn) -> Response[RuleImportOut]:
    rules, warnings = rule_service().import_file(
        current_principal(router), body.content, current_request_id(router)
    )
    return _created(RuleImportOut(items=[AlertRuleOut.of(r) for r in rules], warnings=warnings))


@router.get(
    "/api/v1/alert-rules/export",
    tags=["alert-rules"],
    summary="Export enabled rules as a Prometheus rule file",
    responses={
        200: {
            "description": "the rule file",
            "content": {"application/yaml": {"schema": RULE_FILE_SCHEMA}},
        }
    },
)
def export_rules() -> Response[str]:
    text = rule_service().export_file(current_principal(router))
    return Response(status_code=200, content_type="application/yaml", body=text)


@router.get("/api/v1/alert-rules/<rule_id>", tags=["alert-rules"], summary="Get one rule")
def get_rule(rule_id: RuleId) -> AlertRuleOut:
    return AlertRuleOut.of(rule_service().get(current_principal(router), rule_id))


@router.put("/api/v1/alert-rules/<rule_id>", tags=["alert-rules"], summary="Replace a rule")
def put_rule(rule_id: RuleId, body: AlertRuleIn) -> AlertRuleOut:
    rule = rule_service().update(
        current_principal(router), rule_id, body.draft(), current_request_id(router)
    )
    return AlertRuleOut.of(rule)


@router.delete(
    "/api/v1/alert-rules/<rule_id>",
    tags=["alert-rules"],
    summary="Delete a rule",
    responses={204: {"description": "deleted"}},
)
def delete_rule(rule_id: RuleId) -> Response[None]:
    rule_service().delete(current_principal(router), rule_id, current_request_id(router))
    return Response(status_code=204)
