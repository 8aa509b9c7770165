"""Errors raised by the PromQL engine, each carrying the Prometheus API ``errorType``."""

from __future__ import annotations


class PromQLError(Exception):
    """Base class; ``error_type`` is the value of the HTTP API's ``errorType`` field."""

    error_type = "execution"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadQuery(PromQLError):
    """The query does not parse or is not valid for the requested evaluation."""

    error_type = "bad_data"


class ExecutionError(PromQLError):
    """Evaluation failed (e.g. many-to-many matching, duplicate label sets)."""

    error_type = "execution"


class Timeout(PromQLError):
    """The query ran longer than the engine's timeout."""

    error_type = "timeout"

    def __init__(self, where: str = "expression evaluation") -> None:
        super().__init__(f"query timed out in {where}")


class TooManySamples(PromQLError):
    """The query would hold more samples in memory than the engine allows."""

    error_type = "execution"

    def __init__(self) -> None:
        super().__init__(
            "query processing would load too many samples into memory in query execution"
        )


class ResolutionTooHigh(BadQuery):
    """A range query or subquery with more evaluation steps per series than allowed."""
