"""A tenant's daily model allowance is a hard limit, however many calls run at once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from orchestrix.adapters.postgres.intelligence_components import STORES as INTEL
from orchestrix.ports.language_model import LanguageModelError, ModelReply
from orchestrix.services.model_allowance import BudgetSpent, ModelAllowance, ModelBudget

SYSTEM = "You write incident summaries."
PROMPT = "evidence: " + "x" * 990  # 1,000 bytes


class WorstCaseModel:
    """Answers slowly and bills the most a call can cost: every byte a token, every output
    token used. Calls overlap, so only a reservation taken before the call keeps them in."""

    def __init__(self, delay_s: float = 0.05, error: Exception | None = None) -> None:
        self.delay_s = delay_s
        self.error = error
        self.calls = 0
        self._lock = threading.Lock()

    def converse(self, *, system: str, prompt: str, max_output_tokens: int) -> ModelReply:
        with self._lock:
            self.calls += 1
        time.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        tokens = len(system.encode()) + len(prompt.encode())
        return ModelReply("ok", tokens, max_output_tokens, "m-test")


def _allowance(uow, clock, model, budget):  # type: ignore[no-untyped-def]
    return ModelAllowance(model, budget, uow, INTEL.usage, clock)


def _spent(uow, tenant, clock):  # type: ignore[no-untyped-def]
    with uow(tenant) as u:
        return INTEL.usage(u).on(clock.now().date())


def _ask(allowance, tenant):  # type: ignore[no-untyped-def]
    return allowance.converse(tenant, system=SYSTEM, prompt=PROMPT, max_output_tokens=100)


def test_concurrent_calls_never_spend_past_the_daily_tokens(uow, tenant, clock):  # type: ignore[no-untyped-def]
    # Given a budget with room for three calls at their worst case (~1,200 tokens each)
    budget = ModelBudget(daily_tokens=3_700, daily_cost_usd=100.0, max_output_tokens=100)
    model = WorstCaseModel()
    allowance = _allowance(uow, clock, model, budget)
    outcomes: list[str] = []

    # When eight analyses ask at the same moment
    def ask() -> None:
        try:
            _ask(allowance, tenant)
            outcomes.append("answered")
        except BudgetSpent:
            outcomes.append("refused")

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then three are answered, five refused, and the day's tokens stay within the limit
    spent = _spent(uow, tenant, clock)
    assert sorted(outcomes) == ["answered"] * 3 + ["refused"] * 5
    assert model.calls == 3 and spent.calls == 3
    assert spent.tokens <= budget.daily_tokens


def test_the_cost_limit_holds_as_well(uow, tenant, clock):  # type: ignore[no-untyped-def]
    budget = ModelBudget(
        daily_tokens=10**9, daily_cost_usd=0.01, usd_per_1k_input=3.0, max_output_tokens=100
    )
    allowance = _allowance(uow, clock, WorstCaseModel(delay_s=0), budget)

    with pytest.raises(BudgetSpent):  # one call could cost ~$3.2
        _ask(allowance, tenant)

    assert _spent(uow, tenant, clock).calls == 0


def test_a_failed_call_gives_its_reservation_back(uow, tenant, clock):  # type: ignore[no-untyped-def]
    budget = ModelBudget(daily_tokens=1_300, max_output_tokens=100)  # room for one call
    failing = WorstCaseModel(delay_s=0, error=LanguageModelError("throttled"))

    with pytest.raises(LanguageModelError, match="throttled"):
        _ask(_allowance(uow, clock, failing, budget), tenant)
    reply = _ask(_allowance(uow, clock, WorstCaseModel(delay_s=0), budget), tenant)

    assert reply.text == "ok"
    assert _spent(uow, tenant, clock).calls == 1


def test_a_new_day_has_the_whole_allowance_again(uow, tenant, clock):  # type: ignore[no-untyped-def]
    budget = ModelBudget(daily_tokens=1_300, max_output_tokens=100)
    allowance = _allowance(uow, clock, WorstCaseModel(delay_s=0), budget)
    _ask(allowance, tenant)
    with pytest.raises(BudgetSpent):
        _ask(allowance, tenant)

    clock.advance(timedelta(days=1))

    assert _ask(allowance, tenant).text == "ok"


def test_one_tenants_spending_leaves_anothers_allowance_alone(uow, tenant, clock):  # type: ignore[no-untyped-def]
    budget = ModelBudget(daily_tokens=1_300, max_output_tokens=100)
    allowance = _allowance(uow, clock, WorstCaseModel(delay_s=0), budget)
    _ask(allowance, tenant)

    assert _ask(allowance, f"{tenant}-b").text == "ok"


def test_post_mortem_drafts_spend_the_same_allowance(uow, tenant, clock):  # type: ignore[no-untyped-def]
    from orchestrix.adapters.postgres.incident_components import STORES as INCIDENTS
    from orchestrix.adapters.postgres.postmortem_components import STORES as POSTMORTEMS
    from orchestrix.domain.identity import Principal, Role
    from orchestrix.domain.incidents import Severity
    from orchestrix.domain.postmortems import NarrativeSource
    from orchestrix.services.escalation import EscalationService
    from orchestrix.services.incidents import IncidentService, NewIncident
    from orchestrix.services.postmortem_narrative import NarrativeWriter
    from orchestrix.services.postmortems import PostmortemService
    from orchestrix.services.sla import SlaService

    from .test_incident_escalation import Events, Pager, Scheduler

    # Given post-mortems drafted through the tenant's allowance
    events, scheduler = Events(), Scheduler()
    escalation = EscalationService(uow, INCIDENTS, Pager(), scheduler, events, clock)
    sla = SlaService(uow, INCIDENTS, scheduler, events, clock)
    incidents = IncidentService(uow, INCIDENTS, escalation, sla, events, clock)
    model = WorstCaseModel(delay_s=0)
    allowance = [_allowance(uow, clock, model, ModelBudget())]
    postmortems = PostmortemService(
        uow, INCIDENTS, POSTMORTEMS,
        lambda t: NarrativeWriter(allowance[0].for_tenant(t)), events, clock,
    )  # fmt: skip
    boss = Principal(tenant, "ada", frozenset({Role.ADMIN}))

    def draft(title: str) -> NarrativeSource:
        incident = incidents.create(boss, NewIncident(title=title, severity=Severity.SEV2))
        return postmortems.draft(boss, incident.id)[0].narrative_source

    # When one is drafted, and another once the day has less left than a draft may cost
    first = draft("db down")
    spent = _spent(uow, tenant, clock)
    allowance[0] = _allowance(uow, clock, model, ModelBudget(daily_tokens=spent.tokens + 100))
    second = draft("queue stuck")

    # Then the first is the model's and counted in the day's usage; the second is our own
    assert (first, second) == (NarrativeSource.MODEL, NarrativeSource.DETERMINISTIC)
    assert spent.calls == 1 and spent.tokens > 0
    assert model.calls == 1 and _spent(uow, tenant, clock) == spent
