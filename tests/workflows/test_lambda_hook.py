"""The in-process Lambda hook leans on moto internals; these tests fail loudly when they move."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.awslambda.models import LambdaFunction

from orchestrix.local import lambda_hook

pytestmark = pytest.mark.xdist_group("moto-sfn")


class HttpStatusError(Exception):
    pass


@pytest.fixture
def lambda_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        client = boto3.client("lambda", region_name="us-east-1")
        for name in ("echo", "boom", "unregistered"):
            client.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="handler.handler",
                Code={"ZipFile": lambda_hook.placeholder_zip()},
            )
        yield client


def _boom(event: Any, context: Any) -> Any:
    raise HttpStatusError("GET http://x answered 503")


def test_moto_still_has_the_internal_the_hook_replaces() -> None:
    original = LambdaFunction._invoke_lambda
    assert list(inspect.signature(original).parameters) == ["self", "event"]
    source = inspect.getsource(LambdaFunction.invoke)
    assert "self._invoke_lambda(event=" in source
    assert 'response_headers["x-amz-function-error"]' in source


def test_registered_handler_runs_in_process_with_a_lambda_context(lambda_client: Any) -> None:
    seen: list[Any] = []

    def echo(event: Any, context: Any) -> Any:
        seen.append(context)
        return {"got": event, "fn": context.function_name}

    with lambda_hook.installed({"echo": echo}):
        response = lambda_client.invoke(FunctionName="echo", Payload=json.dumps({"a": 1}))

    assert json.loads(response["Payload"].read()) == {"got": {"a": 1}, "fn": "echo"}
    assert "FunctionError" not in response
    assert seen[0].get_remaining_time_in_millis() > 0
    assert seen[0].invoked_function_arn.endswith(":function:echo")


def test_handler_exception_is_a_function_error_named_after_its_class(lambda_client: Any) -> None:
    with lambda_hook.installed({"boom": _boom}):
        response = lambda_client.invoke(FunctionName="boom", Payload="{}")

    assert response["FunctionError"] in ("Handled", "Unhandled")
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "HttpStatusError"
    assert error["errorMessage"] == "GET http://x answered 503"


def test_uninstall_restores_moto_and_keeps_unregistered_functions_untouched(
    lambda_client: Any,
) -> None:
    original = LambdaFunction._invoke_lambda
    with lambda_hook.installed({"echo": lambda event, context: "hooked"}):
        assert LambdaFunction._invoke_lambda is not original
        untouched = lambda_client.invoke(FunctionName="unregistered", Payload="{}")
    assert LambdaFunction._invoke_lambda is original
    # moto's own path (Docker, absent here) answered, not a handler
    assert b"docker" in untouched["Payload"].read().lower()


def test_concurrent_invocations_each_get_their_own_result(lambda_client: Any) -> None:
    def echo(event: Any, context: Any) -> Any:
        return {"n": event["n"], "request": context.aws_request_id}

    with lambda_hook.installed({"echo": echo}), ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(
                lambda n: json.loads(
                    lambda_client.invoke(FunctionName="echo", Payload=json.dumps({"n": n}))[
                        "Payload"
                    ].read()
                ),
                range(40),
            )
        )

    assert [r["n"] for r in results] == list(range(40))
    assert len({r["request"] for r in results}) == 40
