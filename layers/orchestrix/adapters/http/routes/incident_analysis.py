"""/api/v1/incidents/{id}/analysis — ranked candidate causes, evidence, cited summary."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.postgres.intelligence_components import analysis_service
from orchestrix.services.incident_analysis import AnalysisView

router = Router()
IncidentId = Annotated[str, Path(max_length=64)]


class CandidateOut(BaseModel):
    rank: int
    service: str
    cause_id: str = Field(description="The change or alert naming the cause")
    kind: str = Field(description="change | anomaly | error | alert | inferred")
    score: float
    first_sign_at: datetime
    evidence_ids: list[str]
    reason: str


class EvidenceOut(BaseModel):
    id: str
    type: str = Field(description="alert | anomaly | error | change")
    service: str | None
    name: str
    at: datetime
    linked: bool = Field(default=False, description="One of the incident's own alerts")
    severity: str | None = None
    kind: str | None = None
    source: str | None = None


class ClaimOut(BaseModel):
    text: str
    cites: list[str]


class DroppedOut(BaseModel):
    text: str
    reason: str


class SummaryOut(BaseModel):
    text: str
    analyser: str = Field(description="bedrock | offline")
    model_id: str | None
    claims: list[ClaimOut]
    dropped: list[DroppedOut] = Field(description="Model sentences refused: uncited or mis-cited")
    note: str | None = Field(description="Why the offline analyser wrote it, if it did")
    input_tokens: int
    output_tokens: int
    created_by: str
    created_at: datetime


class AnalysisOut(BaseModel):
    incident_id: str
    candidates: list[CandidateOut]
    evidence: list[EvidenceOut]
    summary: SummaryOut | None = Field(description="The last analysis written (POST writes one)")

    @classmethod
    def of(cls, view: AnalysisView) -> AnalysisOut:
        s = view.stored
        summary: dict[str, Any] | None = None
        if s is not None:
            summary = {
                "text": s.summary,
                "analyser": s.analyser,
                "model_id": s.model_id,
                "claims": s.claims,
                "dropped": s.dropped,
                "note": s.note,
                "input_tokens": s.input_tokens,
                "output_tokens": s.output_tokens,
                "created_by": s.created_by,
                "created_at": s.created_at,
            }
        return cls(
            incident_id=view.incident.id,
            candidates=[
                CandidateOut(**c.as_dict(rank)) for rank, c in enumerate(view.candidates, 1)
            ],
            evidence=[EvidenceOut(**e) for e in view.evidence],
            summary=SummaryOut(**summary) if summary else None,
        )


@router.get(
    "/api/v1/incidents/<incident_id>/analysis",
    tags=["incidents"],
    summary="Root cause: ranked candidate causes with their evidence, and the stored summary",
)
def get_analysis(incident_id: IncidentId) -> AnalysisOut:
    return AnalysisOut.of(analysis_service().view(current_principal(router), incident_id))


@router.post(
    "/api/v1/incidents/<incident_id>/analysis",
    tags=["incidents"],
    summary="Analyse again and store the summary on the incident (responder)",
)
def run_analysis(incident_id: IncidentId) -> AnalysisOut:
    view = analysis_service().analyse(
        current_principal(router), incident_id, current_request_id(router)
    )
    return AnalysisOut.of(view)
