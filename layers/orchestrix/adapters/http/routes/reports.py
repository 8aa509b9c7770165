"""/api/v1/reports/incidents — counts, MTTA, MTTR and SLA breaches over a period."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from orchestrix.adapters.http.context import current_principal
from orchestrix.adapters.http.types import Rfc3339
from orchestrix.adapters.postgres import incident_components as components
from orchestrix.services.incident_reports import Stats

router = Router()


class StatsOut(BaseModel):
    count: int
    acknowledged: int
    resolved: int
    mtta_seconds: float | None = Field(description="Mean time from trigger to acknowledgement")
    mttr_seconds: float | None = Field(description="Mean time from trigger to resolution")
    ack_breaches: int
    resolve_breaches: int

    @classmethod
    def of(cls, s: Stats) -> StatsOut:
        return cls(**vars(s))


class IncidentReportOut(BaseModel):
    from_: datetime = Field(alias="from")
    to: datetime
    total: StatsOut
    by_severity: dict[str, StatsOut]
    by_team: dict[str, StatsOut]
    by_service: dict[str, StatsOut]


@router.get(
    "/api/v1/reports/incidents",
    tags=["reports"],
    summary="Incidents triggered in [from, to): counts, MTTA, MTTR, SLA breaches",
)
def incident_report(
    from_: Annotated[Rfc3339, Query(alias="from")],
    to: Annotated[Rfc3339, Query()],
) -> IncidentReportOut:
    r = components.incident_report_service().report(current_principal(router), from_, to)
    return IncidentReportOut.model_validate(
        {
            "from": r.start,
            "to": r.end,
            "total": StatsOut.of(r.total),
            "by_severity": {k: StatsOut.of(v) for k, v in r.by_severity.items()},
            "by_team": {k: StatsOut.of(v) for k, v in r.by_team.items()},
            "by_service": {k: StatsOut.of(v) for k, v in r.by_service.items()},
        }
    )
