"""Errors carry Prometheus' messages and API error types."""

from __future__ import annotations

import pytest

from orchestrix.promql import (
    BadQuery,
    Engine,
    ExecutionError,
    MemoryStorage,
    Timeout,
    TooManySamples,
)
from orchestrix.promql.format import format_error
from orchestrix.promql.values import labels_of


@pytest.fixture
def storage() -> MemoryStorage:
    s = MemoryStorage()
    for i in range(3):
        for t in range(0, 600_001, 15_000):
            s.add(labels_of({"__name__": "m", "i": str(i)}), t, float(t))
    s.add(labels_of({"__name__": "one"}), 0, 1.0)
    return s


def test_syntax_error_is_bad_data(storage: MemoryStorage) -> None:
    with pytest.raises(BadQuery) as exc:
        Engine(storage).instant("sum(", 0)

    assert format_error(exc.value)["errorType"] == "bad_data"
    assert "unclosed left parenthesis" in exc.value.message


def test_range_query_over_a_range_vector_is_rejected(storage: MemoryStorage) -> None:
    with pytest.raises(BadQuery, match='invalid expression type "range vector" for range query'):
        Engine(storage).range("m[5m]", 0, 60_000, 15_000)


def test_many_to_many_matching_is_an_execution_error(storage: MemoryStorage) -> None:
    with pytest.raises(ExecutionError) as exc:
        Engine(storage).instant("one + on() m", 0)

    assert exc.value.message == (
        "found duplicate series for the match group {} on the right hand-side of the "
        'operation: [{__name__="m", i="0"}, {__name__="m", i="1"}];many-to-many matching '
        "not allowed: matching labels must be unique on one side"
    )
    assert format_error(exc.value) == {
        "status": "error",
        "errorType": "execution",
        "error": exc.value.message,
    }


def test_too_many_samples(storage: MemoryStorage) -> None:
    with pytest.raises(TooManySamples) as exc:
        Engine(storage, max_samples=10).range("m", 0, 600_000, 15_000)

    assert exc.value.message == (
        "query processing would load too many samples into memory in query execution"
    )


def test_timeout(storage: MemoryStorage) -> None:
    with pytest.raises(Timeout) as exc:
        Engine(storage, timeout_s=-1).instant("m", 0)

    assert exc.value.message == "query timed out in expression evaluation"
    assert format_error(exc.value)["errorType"] == "timeout"
