"""The language model port: one grounded question, one answer, with its cost in tokens.

Incident analysis and post-mortem narratives ask a model (Bedrock Converse in AWS) to write
prose from evidence the caller collected. Callers own the prompt and the grounding; the
adapter owns transport, timeouts and token accounting. With no model configured the
callers fall back to their deterministic writers, so nothing here is ever required.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ModelReply:
    text: str
    input_tokens: int
    output_tokens: int
    model_id: str


class LanguageModelError(RuntimeError):
    """The model could not answer (throttled, timed out, refused, misconfigured)."""


class LanguageModel(Protocol):
    def converse(self, *, system: str, prompt: str, max_output_tokens: int) -> ModelReply:
        """Ask once; raises LanguageModelError when no answer can be had."""
        ...
