"""The language model port on Amazon Bedrock's Converse API.

One request, one answer: the caller's system prompt and evidence go out as one user turn,
the reply's text and token counts come back. The client is built with short timeouts and no
retry (the caller has an offline fallback and a page waiting), so a slow or throttled model
costs seconds, not the Lambda's whole timeout.
"""

from __future__ import annotations

from typing import Any

from orchestrix.ports.language_model import LanguageModelError, ModelReply

CONNECT_TIMEOUT_S = 3
# One attempt, no retry: the caller falls back to the offline analyser, and when an incident
# opens the page waits for this answer inside a 29 s Lambda (3 s + 10 s leaves room to page).
READ_TIMEOUT_S = 10
MAX_ATTEMPTS = 1


def bedrock_client(region: str | None = None, read_timeout_s: float = READ_TIMEOUT_S) -> Any:
    """A bedrock-runtime client with the timeouts this adapter relies on."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=read_timeout_s,
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )
    return boto3.client("bedrock-runtime", region_name=region, config=config)


class BedrockLanguageModel:
    def __init__(self, model_id: str, client: Any = None, temperature: float = 0.0) -> None:
        self._model_id = model_id
        self._client = client if client is not None else bedrock_client()
        self._temperature = temperature

    def converse(self, *, system: str, prompt: str, max_output_tokens: int) -> ModelReply:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.converse(
                modelId=self._model_id,
                system=[{"text": system}],
                messages=[{"role": "user", "content": [{"text": prompt}]}],
                inferenceConfig={"maxTokens": max_output_tokens, "temperature": self._temperature},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "ClientError")
            raise LanguageModelError(f"bedrock {code}") from exc
        except BotoCoreError as exc:  # timeouts, connection failures
            raise LanguageModelError(f"bedrock unreachable: {type(exc).__name__}") from exc
        if response.get("stopReason") in ("guardrail_intervened", "content_filtered"):
            raise LanguageModelError(f"bedrock refused: {response['stopReason']}")
        blocks = ((response.get("output") or {}).get("message") or {}).get("content") or []
        text = "".join(b.get("text", "") for b in blocks if isinstance(b, dict))
        usage = response.get("usage") or {}
        if not text.strip():
            raise LanguageModelError("bedrock returned no text")
        return ModelReply(
            text=text,
            input_tokens=int(usage.get("inputTokens", 0)),
            output_tokens=int(usage.get("outputTokens", 0)),
            model_id=self._model_id,
        )
