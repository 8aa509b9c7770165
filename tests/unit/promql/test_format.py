"""Results render exactly like Prometheus' HTTP API."""

from __future__ import annotations

import json
import math

import pytest

from orchestrix.promql import Engine, MemoryStorage, format_result, render_json
from orchestrix.promql.gomath import format_float
from orchestrix.promql.values import labels_of


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.1, "0.1"),
        (-2.5, "-2.5"),
        (1e21, "1000000000000000000000"),
        (1.5e-7, "0.00000015"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
    ],
)
def test_sample_values_are_formatted_like_go(value: float, text: str) -> None:
    assert format_float(value) == text


@pytest.fixture
def engine() -> Engine:
    storage = MemoryStorage()
    for t in range(0, 120_001, 30_000):
        storage.add(labels_of({"__name__": "up", "job": "api"}), t, t / 30_000)
    return Engine(storage)


def test_instant_vector_has_the_api_shape(engine: Engine) -> None:
    result = engine.instant("up", 90_500)

    assert format_result(result) == {
        "resultType": "vector",
        "result": [{"metric": {"__name__": "up", "job": "api"}, "value": [90.5, "3"]}],
    }


def test_range_query_is_a_matrix_of_string_values(engine: Engine) -> None:
    result = engine.range("up * 2", 0, 60_000, 30_000)

    assert format_result(result) == {
        "resultType": "matrix",
        "result": [{"metric": {"job": "api"}, "values": [[0, "0"], [30, "2"], [60, "4"]]}],
    }


def test_scalar_and_string_results(engine: Engine) -> None:
    assert format_result(engine.instant("1 / 0", 1_000)) == {
        "resultType": "scalar",
        "result": [1, "+Inf"],
    }
    assert format_result(engine.instant('"hello"', 1_000))["result"] == [1, "hello"]


def test_render_json_writes_prometheus_bytes(engine: Engine) -> None:
    text = render_json(engine.instant("up", 90_500))

    assert text == (
        '{"status":"success","data":{"resultType":"vector","result":'
        '[{"metric":{"__name__":"up","job":"api"},"value":[90.500,"3"]}]}}'
    )
    assert json.loads(text)["data"]["result"][0]["value"] == [90.5, "3"]


def test_annotations_are_rendered_as_infos(engine: Engine) -> None:
    body = json.loads(render_json(engine.instant("rate(up[2m])", 120_000)))

    assert body["infos"] == [
        "PromQL info: metric might not be a counter, name does not end in "
        '_total/_sum/_count/_bucket: "up" (1:6)'
    ]
