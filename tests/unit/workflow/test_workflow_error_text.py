"""A step's error as tenants see it: type and message, no server file paths or stack."""

from __future__ import annotations

import json
import traceback

from orchestrix.domain.workflow.error_text import error_message, without_traces


def lambda_error(exc: Exception) -> str:
    """The error payload the Lambda runtime produces for an unhandled exception."""
    try:
        raise exc
    except Exception as caught:
        return json.dumps(
            {
                "errorType": type(caught).__name__,
                "errorMessage": str(caught),
                "stackTrace": traceback.format_tb(caught.__traceback__),
            }
        )


def test_runtime_error_json_becomes_its_message() -> None:
    raw = lambda_error(ValueError("GET http://svc/health answered 503"))
    assert __file__ in raw  # the runtime's payload names our files

    assert error_message(raw) == "GET http://svc/health answered 503"


def test_file_paths_in_a_message_are_hidden_but_urls_kept() -> None:
    raw = lambda_error(OSError("cannot open /var/task/orchestrix/adapters/x.py for http://h/a.py"))

    assert error_message(raw) == "cannot open <file> for http://h/a.py"


def test_caught_errors_in_an_execution_output_lose_their_stack() -> None:
    raw = lambda_error(RuntimeError("boom"))
    output = {
        "steps": {"check": {"status": 200, "body": "/srv/app.py is fine"}},
        "errors": {"act": {"Error": "AwsActionFailed", "Cause": raw}},
        "nested": [{"Cause": traceback.format_exc() + "Traceback (most recent call last):\n"
                    '  File "/opt/python/orchestrix/x.py", line 3, in f\nKeyError: \'k\''}],
    }  # fmt: skip

    shown = without_traces(output)

    assert shown["errors"]["act"] == {"Error": "AwsActionFailed", "Cause": "boom"}
    assert shown["steps"] == output["steps"]  # a tenant's own data is left alone
    assert "/opt/python" not in json.dumps(shown) and "stackTrace" not in json.dumps(shown)


def test_plain_causes_and_non_strings_pass_through() -> None:
    assert error_message("approval rejected: not now") == "approval rejected: not now"
    assert error_message(None) is None
    assert without_traces({"a": [1, None, "x"]}) == {"a": [1, None, "x"]}
