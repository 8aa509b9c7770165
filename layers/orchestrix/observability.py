"""Logging, metrics and (opt-in) tracing for every function.

X-Ray costs ~110 ms of cold start just to import, so the Tracer is only loaded when
ORCHESTRIX_TRACING=1; otherwise `traced` is the identity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger

from orchestrix import bootstrap

logger = Logger(service="orchestrix")

F = TypeVar("F", bound=Callable[..., Any])


def traced(handler: F) -> F:
    if not bootstrap.settings().tracing:
        return handler
    from aws_lambda_powertools import Tracer

    return cast(F, Tracer(service="orchestrix").capture_lambda_handler(handler))
