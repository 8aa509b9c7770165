"""Incident analysis: ranked candidate causes with their evidence, and a cited summary.

`view` ranks live from what the stores hold now (alerts around the incident, changes, the
service graph); `analyse` also writes the summary — with the language model when one is
configured and the tenant's daily allowance holds the call (services/model_allowance.py),
else offline — and stores it on the incident, so its page and its notifications carry it.
The model is called outside any transaction: a slow answer holds no row lock and no
connection.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from orchestrix.domain.errors import NotFound
from orchestrix.domain.identity import Principal
from orchestrix.domain.identity import Role as AccessRole
from orchestrix.domain.incidents import Incident, TimelineKind
from orchestrix.domain.intelligence.error_spikes import spikes
from orchestrix.domain.intelligence.evidence import Change, Signal
from orchestrix.domain.intelligence.root_cause import Candidate, rank_causes
from orchestrix.ports.clock import Clock
from orchestrix.ports.language_model import LanguageModel, LanguageModelError, ModelReply
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from orchestrix.services.incident_narrative import (
    SYSTEM_PROMPT,
    Narrative,
    check_citations,
    evidence_prompt,
    offline_narrative,
)
from orchestrix.services.incident_stores import IncidentStores, timeline_entry
from orchestrix.services.intelligence_stores import IntelligenceStores, StoredAnalysis
from orchestrix.services.model_allowance import BudgetSpent, ModelAllowance, ModelBudget

log = logging.getLogger(__name__)
SYSTEM_ACTOR = "system:analysis"
# Trouble keeps unfolding a little after the incident opens; look that far past it.
AFTER_OPEN = timedelta(minutes=10)
# Error spikes count from this long before the incident opened (the root's trouble comes first).
SPIKE_LOOKBACK = timedelta(minutes=30)


class ErrorRates(Protocol):
    """Each service's error-rate series over [start, end] (services.error_rates)."""

    def series(
        self, tenant_id: str, query: str, start: datetime, end: datetime
    ) -> dict[str, list[tuple[int, float]]]: ...


@dataclass(frozen=True)
class AnalysisView:
    incident: Incident
    candidates: list[Candidate]
    evidence: list[dict[str, Any]]
    stored: StoredAnalysis | None


@dataclass(frozen=True)
class _Evidence:
    incident: Incident
    candidates: list[Candidate]
    items: list[dict[str, Any]]


class IncidentAnalysisService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        incidents: IncidentStores,
        stores: IntelligenceStores,
        clock: Clock,
        model: LanguageModel | None = None,
        budget: ModelBudget | None = None,
        error_rates: ErrorRates | None = None,
    ) -> None:
        self._error_rates = error_rates
        self._uow = uow
        self._incidents = incidents
        self._stores = stores
        self._clock = clock
        self._budget = budget or ModelBudget()
        self._model = (
            None if model is None else ModelAllowance(model, self._budget, uow, stores.usage, clock)
        )

    def view(self, principal: Principal, incident_id: str) -> AnalysisView:
        principal.require_role(AccessRole.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            found = self._collect(uow, incident_id)
            stored = self._stores.analyses(uow).get(incident_id)
        return AnalysisView(found.incident, found.candidates, found.items, stored)

    def analyse(
        self, principal: Principal, incident_id: str, request_id: str | None = None
    ) -> AnalysisView:
        principal.require_role(AccessRole.RESPONDER)
        return self._analyse(principal.tenant_id, principal.actor, incident_id, request_id)

    def summarise(self, incident: Incident) -> None:
        self._analyse(incident.tenant_id, SYSTEM_ACTOR, incident.id, None)

    # -----------------------------------------------------------------------------------------

    def _analyse(
        self, tenant_id: str, actor: str, incident_id: str, request_id: str | None
    ) -> AnalysisView:
        with self._uow(tenant_id, actor, request_id) as uow:
            found = self._collect(uow, incident_id)
        narrative, used, note = self._write(tenant_id, found)
        now = self._clock.now()
        stored = StoredAnalysis(
            incident_id=incident_id,
            # "bedrock" only when the model's own cited sentences are the summary.
            analyser="offline" if used is None or note else "bedrock",
            model_id=used.model_id if used else None,
            summary=narrative.summary,
            claims=narrative.claims,
            dropped=narrative.dropped,
            candidates=[c.as_dict(rank) for rank, c in enumerate(found.candidates, 1)],
            note=note,
            input_tokens=used.input_tokens if used else 0,
            output_tokens=used.output_tokens if used else 0,
            created_by=actor,
            created_at=now,
        )
        with self._uow(tenant_id, actor, request_id) as uow:
            incidents = self._incidents.incidents(uow)
            before = incidents.lock(incident_id)
            if before is None:
                raise NotFound("incident", incident_id)
            self._stores.analyses(uow).save(stored)
            after = replace(before, summary=narrative.summary or None, updated_at=now)
            incidents.save(after)
            if actor != SYSTEM_ACTOR:
                # Asked for by a person: a note on the timeline. The analysis written when the
                # incident opens is its summary (and the first page's), not a separate event.
                incidents.add_timeline(
                    timeline_entry(
                        incident_id,
                        TimelineKind.NOTE,
                        actor,
                        f"analysis ({stored.analyser}): {narrative.summary}",
                        now,
                        {"analysis": stored.analyser, "dropped": len(narrative.dropped)},
                    )
                )
            uow.record(
                "incident.analyse",
                "incident",
                incident_id,
                {"summary": before.summary},
                {"summary": after.summary, "analyser": stored.analyser, "note": note},
            )
            uow.commit()
        return AnalysisView(after, found.candidates, found.items, stored)

    def _write(
        self, tenant_id: str, found: _Evidence
    ) -> tuple[Narrative, ModelReply | None, str | None]:
        """(narrative, the model's reply or None, why offline)."""
        offline = offline_narrative(found.incident.title, found.candidates)
        if self._model is None:
            return offline, None, "no model configured"
        prompt = evidence_prompt(found.incident.title, found.items, found.candidates)
        try:
            reply = self._model.converse(
                tenant_id,
                system=SYSTEM_PROMPT,
                prompt=prompt,
                max_output_tokens=self._budget.max_output_tokens,
            )
        except BudgetSpent as exc:
            return offline, None, str(exc)
        except LanguageModelError as exc:
            log.warning("language model failed; offline analysis", extra={"error": str(exc)})
            return offline, None, f"model unavailable: {exc}"
        except Exception:  # an adapter bug must cost the model's text, never the summary
            log.exception("language model adapter failed; offline analysis")
            return offline, None, "model unavailable: adapter error"
        known = {str(item["id"]) for item in found.items}
        checked = check_citations(reply.text, known)
        if not checked.claims:
            # Nothing the model said could be checked: keep what it cost, show the offline
            # analysis, and the dropped sentences for whoever wants to see them.
            return (
                replace(offline, dropped=checked.dropped),
                reply,
                "model answer had no cited claim",
            )
        return checked, reply, None

    def _error_spikes(
        self, tenant_id: str, query: str | None, incident: Incident, start: datetime, end: datetime
    ) -> list[Signal]:
        if not query or self._error_rates is None:
            return []
        try:
            series = self._error_rates.series(tenant_id, query, start, end)
        except Exception as exc:  # a failing query costs the evidence, never the analysis
            log.warning("error-rate query failed", extra={"error": str(exc)})
            return []
        return spikes(series, incident.triggered_at, incident.triggered_at - SPIKE_LOOKBACK)

    def _collect(self, uow: UnitOfWork, incident_id: str) -> _Evidence:
        incident = self._incidents.incidents(uow).get(incident_id)
        if incident is None:
            raise NotFound("incident", incident_id)
        config = self._stores.correlation(uow).get()
        end = min(incident.resolved_at or self._clock.now(), incident.triggered_at + AFTER_OPEN)
        end = max(end, incident.triggered_at)
        start = incident.triggered_at - config.lookback
        signals = self._stores.signals(uow).signals(start, end, incident_id)
        signals += self._error_spikes(uow.tenant_id, config.error_query, incident, start, end)
        changes = self._stores.changes(uow).between(start, end)
        affected = {s.service for s in signals if s.linked and s.service}
        if incident.service:
            affected.add(incident.service)
        graph = self._stores.graph(uow)
        ranked = rank_causes(graph, affected, signals, changes)
        return _Evidence(incident, ranked, _items(signals, changes, ranked))


def _items(
    signals: list[Signal], changes: list[Change], ranked: list[Candidate]
) -> list[dict[str, Any]]:
    """The evidence shown and given to the model: the incident's own alerts, and everything
    the candidates cite."""
    cited = {i for c in ranked for i in c.evidence_ids}
    items = [s.as_dict() for s in signals if s.linked or s.id in cited]
    items += [c.as_dict() for c in changes if c.id in cited]
    return sorted(items, key=lambda i: (i["at"], i["id"]))
