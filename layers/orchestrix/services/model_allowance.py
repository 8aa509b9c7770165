"""A tenant's daily language-model allowance, enforced as a hard limit.

Every call to the model (incident analyses, post-mortem drafts) goes through
`ModelAllowance.converse`: before the call, the most it can cost is reserved against the
tenant's day in one committed UPDATE that succeeds only while spent + reserved + this call
stays within the limits, so concurrent calls cannot together overshoot; after it, the
reservation is replaced by what the model reported. The worst case is an upper bound, not
an estimate: a model's token covers at least one byte of text, so the prompt's UTF-8 length
(plus the message framing) bounds its input tokens, and `max_output_tokens` its output. A
reservation whose settling never happens (the process died during the call) stays until the
day is over: the budget is under-used then, never exceeded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from orchestrix.ports.clock import Clock
from orchestrix.ports.language_model import LanguageModel, LanguageModelError, ModelReply
from orchestrix.ports.unit_of_work import UnitOfWorkFactory
from orchestrix.services.intelligence_stores import Usage, UsageRepositoryFactory

log = logging.getLogger(__name__)
SYSTEM_ACTOR = "system:model-allowance"
# Tokens a request spends beyond its text: roles, turn markers, the system block.
FRAMING_TOKENS = 64


class BudgetSpent(LanguageModelError):
    """The call could push the tenant's day past its token or cost limit: not made."""

    def __init__(self) -> None:
        super().__init__("model budget for today spent")


@dataclass(frozen=True)
class ModelBudget:
    """Per tenant and UTC day; prices per 1,000 tokens (the stage's model's list price)."""

    daily_tokens: int = 200_000
    daily_cost_usd: float = 5.0
    usd_per_1k_input: float = 0.003
    usd_per_1k_output: float = 0.015
    max_output_tokens: int = 600  # an incident analysis' answer

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (
            input_tokens * self.usd_per_1k_input + output_tokens * self.usd_per_1k_output
        ) / 1000

    def worst_case(self, system: str, prompt: str, max_output_tokens: int) -> Usage:
        """The most a call can cost: what is reserved before it."""
        input_bound = len(system.encode()) + len(prompt.encode()) + FRAMING_TOKENS
        return Usage(1, input_bound, max_output_tokens, self.cost(input_bound, max_output_tokens))


class ModelAllowance:
    """The model behind each tenant's daily limits (one per process is enough)."""

    def __init__(
        self,
        model: LanguageModel,
        budget: ModelBudget,
        uow: UnitOfWorkFactory,
        usage: UsageRepositoryFactory,
        clock: Clock,
    ) -> None:
        self._model = model
        self.budget = budget
        self._uow = uow
        self._usage = usage
        self._clock = clock

    def converse(
        self, tenant_id: str, *, system: str, prompt: str, max_output_tokens: int
    ) -> ModelReply:
        """Ask once on the tenant's account; BudgetSpent if the call might not fit."""
        day = self._clock.now().date()
        held = self.budget.worst_case(system, prompt, max_output_tokens)
        self._reserve(tenant_id, day, held)
        try:
            reply = self._model.converse(
                system=system, prompt=prompt, max_output_tokens=max_output_tokens
            )
        except BaseException:
            self._settle(tenant_id, day, held, None)
            raise
        self._settle(tenant_id, day, held, reply)
        return reply

    def _reserve(self, tenant_id: str, day: date, held: Usage) -> None:
        with self._uow(tenant_id, SYSTEM_ACTOR) as uow:
            granted = self._usage(uow).reserve(
                day, held, self.budget.daily_tokens, self.budget.daily_cost_usd
            )
            uow.commit()
        if not granted:
            raise BudgetSpent()

    def _settle(self, tenant_id: str, day: date, held: Usage, reply: ModelReply | None) -> None:
        used = Usage()
        if reply is not None:
            cost = self.budget.cost(reply.input_tokens, reply.output_tokens)
            used = Usage(1, reply.input_tokens, reply.output_tokens, cost)
        try:
            with self._uow(tenant_id, SYSTEM_ACTOR) as uow:
                self._usage(uow).settle(day, held, used)
                uow.commit()
        except Exception:  # the answer is had; the reservation stands in for its cost
            log.exception("model usage not recorded; its reservation stays for the day")

    def for_tenant(self, tenant_id: str) -> TenantModel:
        return TenantModel(self, tenant_id)


class TenantModel:
    """The allowance bound to one tenant: the LanguageModel port, for callers that know
    nothing of budgets (post-mortem narratives)."""

    def __init__(self, allowance: ModelAllowance, tenant_id: str) -> None:
        self._allowance = allowance
        self._tenant_id = tenant_id

    def converse(self, *, system: str, prompt: str, max_output_tokens: int) -> ModelReply:
        return self._allowance.converse(
            self._tenant_id, system=system, prompt=prompt, max_output_tokens=max_output_tokens
        )
