"""The Bedrock adapter on a real boto3 bedrock-runtime client, answered by botocore's Stubber."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from orchestrix.adapters.aws.bedrock import BedrockLanguageModel, bedrock_client
from orchestrix.ports.language_model import LanguageModelError

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_converse_sends_the_grounded_turn_and_reads_text_and_token_usage(client):  # type: ignore[no-untyped-def]
    stub = Stubber(client)
    stub.add_response(
        "converse",
        {
            "output": {
                "message": {"role": "assistant", "content": [{"text": "db broke [chg_1]."}]}
            },
            "stopReason": "end_turn",
            "usage": {"inputTokens": 321, "outputTokens": 12, "totalTokens": 333},
            "metrics": {"latencyMs": 40},
        },
        {
            "modelId": MODEL,
            "system": [{"text": "only the evidence"}],
            "messages": [{"role": "user", "content": [{"text": "evidence..."}]}],
            "inferenceConfig": {"maxTokens": 200, "temperature": 0.0},
        },
    )
    with stub:
        reply = BedrockLanguageModel(MODEL, client).converse(
            system="only the evidence", prompt="evidence...", max_output_tokens=200
        )
    assert (reply.text, reply.input_tokens, reply.output_tokens) == ("db broke [chg_1].", 321, 12)
    assert reply.model_id == MODEL


@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDeniedException"])
def test_service_errors_become_language_model_errors(client, code):  # type: ignore[no-untyped-def]
    stub = Stubber(client)
    stub.add_client_error("converse", service_error_code=code, http_status_code=429)
    with stub, pytest.raises(LanguageModelError, match=code):
        BedrockLanguageModel(MODEL, client).converse(system="s", prompt="p", max_output_tokens=10)


def test_a_guardrail_refusal_is_an_error_not_an_answer(client):  # type: ignore[no-untyped-def]
    stub = Stubber(client)
    stub.add_response(
        "converse",
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "blocked"}]}},
            "stopReason": "guardrail_intervened",
            "usage": {"inputTokens": 5, "outputTokens": 1, "totalTokens": 6},
            "metrics": {"latencyMs": 1},
        },
    )
    with stub, pytest.raises(LanguageModelError, match="guardrail"):
        BedrockLanguageModel(MODEL, client).converse(system="s", prompt="p", max_output_tokens=10)


def test_client_has_short_timeouts_and_no_retry():
    c = bedrock_client(region="us-east-1", read_timeout_s=7)
    assert c.meta.config.connect_timeout == 3
    assert c.meta.config.read_timeout == 7
    assert c.meta.config.retries["total_max_attempts"] == 1


def test_a_model_that_never_answers_is_an_error_after_the_read_timeout():
    import socket

    from botocore.config import Config

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        silent = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{listener.getsockname()[1]}",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(read_timeout=0.3, connect_timeout=1, retries={"total_max_attempts": 1}),
        )
        with pytest.raises(LanguageModelError, match="ReadTimeout"):
            BedrockLanguageModel(MODEL, silent).converse(
                system="s", prompt="p", max_output_tokens=5
            )
    finally:
        listener.close()


@pytest.mark.parametrize("model_id", [None, MODEL])
def test_bootstrap_builds_the_adapter_only_when_the_stage_names_a_model(model_id, monkeypatch):  # type: ignore[no-untyped-def]
    from orchestrix import bootstrap
    from orchestrix.settings import Settings

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    saved = dict(bootstrap._overrides)
    bootstrap._overrides.pop("language_model", None)
    bootstrap._overrides["settings"] = Settings(bedrock_model_id=model_id, llm_timeout_s=4)
    bootstrap.settings.cache_clear()
    bootstrap.language_model.cache_clear()
    try:
        model = bootstrap.language_model()
    finally:
        bootstrap._overrides.clear()
        bootstrap._overrides.update(saved)
        bootstrap.settings.cache_clear()
        bootstrap.language_model.cache_clear()

    if model_id is None:
        assert model is None
    else:
        assert isinstance(model, BedrockLanguageModel)
        assert model._client.meta.config.read_timeout == 4
        assert model._model_id == MODEL
