"""Run Lambda functions in-process under moto (moto's own Lambda backend needs Docker).

`install({"function-name": handler})` replaces the one moto internal that executes a
function, `moto.awslambda.models.LambdaFunction._invoke_lambda(self, event)
-> (payload, errored, logs)`. Functions without a registered handler keep moto's behaviour.
A handler's exception becomes the error payload the Lambda runtime would produce,
`{"errorType": <class name>, "errorMessage": <message>, "stackTrace": [...]}`, flagged as a
function error, so a Step Functions task fails with error = the class name and cause = that
JSON (as on AWS) and Retry/Catch `ErrorEquals` match class names.

Thread-safe: executions run concurrently in moto's threads, so nothing per-invocation is
global (no stdout redirection, no os.environ patching); the registry is replaced whole.
Relies on moto internals: pinned moto, checked by tests/workflows/test_lambda_hook.py.
"""

from __future__ import annotations

import io
import json
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from moto.awslambda.models import LambdaFunction

Handler = Callable[[Any, Any], Any]

_lock = threading.Lock()
_registry: Mapping[str, Handler] = MappingProxyType({})
_original: Callable[..., tuple[str, bool, str]] | None = None


@dataclass
class LambdaContext:
    """The attributes of the AWS Lambda context object handlers and Powertools read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def install(registry: Mapping[str, Handler]) -> None:
    """Route invocations of the named functions to the given handlers (adds to earlier ones)."""
    global _registry, _original
    with _lock:
        if _original is None:
            _original = LambdaFunction._invoke_lambda
            LambdaFunction._invoke_lambda = _invoke_in_process  # type: ignore[method-assign]
        _registry = MappingProxyType({**_registry, **registry})


def uninstall() -> None:
    """Forget every handler and give moto its own implementation back."""
    global _registry, _original
    with _lock:
        if _original is not None:
            LambdaFunction._invoke_lambda = _original  # type: ignore[method-assign]
            _original = None
        _registry = MappingProxyType({})


@contextmanager
def installed(registry: Mapping[str, Handler]) -> Iterator[None]:
    install(registry)
    try:
        yield
    finally:
        uninstall()


def placeholder_zip() -> bytes:
    """A valid deployment package for `create_function`; the code in it never runs."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    handler = _registry.get(self.function_name)
    if handler is None:
        assert _original is not None
        return _original(self, event)
    self.logs_backend.ensure_log_group(self.logs_group_name)
    if isinstance(event, str | bytes):
        event = json.loads(event) if event else {}
    context = LambdaContext(
        function_name=self.function_name,
        function_version=str(self.version),
        invoked_function_arn=self.function_arn,
        memory_limit_in_mb=int(self.memory_size or 128),
        timeout_s=int(self.timeout or 3),
        log_group_name=self.logs_group_name,
    )
    started = time.monotonic()
    errored = False
    try:
        payload = json.dumps(handler(event, context), default=str)
    except Exception as exc:
        errored = True
        payload = json.dumps(
            {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }
        )
    elapsed = (time.monotonic() - started) * 1000
    request = context.aws_request_id
    logs = "\n".join(
        [
            f"START RequestId: {request} Version: {context.function_version}",
            *([f"ERROR {payload}"] if errored else []),
            f"END RequestId: {request}",
            f"REPORT RequestId: {request}\tDuration: {elapsed:.2f} ms",
        ]
    )
    self.save_logs(logs)
    return payload, errored, logs
