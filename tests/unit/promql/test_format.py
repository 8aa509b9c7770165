"""Results render exactly like Prometheus' HTTP API."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrix.promql import Engine, MemoryStorage, PromQLError, format_result, render_json
from orchestrix.promql.gomath import format_float, format_float_e
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


# Vector and matrix values as Prometheus' util/jsonutil.MarshalValue writes them: Go's 'f'
# format, switching to 'e' below 1e-6 and from 1e21 on (checked against Prometheus 2.42).
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-7, "1e-07"),
        (-2.5e-9, "-2.5e-09"),
        (1e-6, "0.000001"),
        (1.5e-5, "0.000015"),
        (0.1, "0.1"),
        (100000.0, "100000"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.2345678901234569e23, "1.2345678901234569e+23"),
        (5e-324, "5e-324"),
        (0.0, "0"),
        (math.nan, "NaN"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
    ],
)
def test_vector_values_switch_to_e_format_like_prometheus(value: float, text: str) -> None:
    result = Engine(MemoryStorage()).instant(f"vector({value!r})", 1000)

    [sample] = json.loads(render_json(result))["data"]["result"]
    assert sample["value"] == [1, text]
    assert format_result(result)["result"][0]["value"][1] == text


def test_scalar_values_keep_the_f_format(engine: Engine) -> None:
    result = engine.instant("1e-7", 1000)

    assert json.loads(render_json(result))["data"]["result"] == [1, "0.0000001"]


@pytest.mark.parametrize(
    ("value", "text"),
    [(130.0, "1.3e+02"), (0.0, "0e+00"), (1e-7, "1e-07"), (-12345.678, "-1.2345678e+04")],
)
def test_alert_values_use_go_e_format(value: float, text: str) -> None:
    assert format_float_e(value) == text


@pytest.mark.parametrize(
    ("query", "steps"), [("x", 1), ("x", 4), ("-x", 3), ("x * 1e-9", 2), ("x * 1e20", 2)]
)
def test_rendered_json_carries_the_formatted_values_and_timestamps(query: str, steps: int) -> None:
    # Given series with values of every magnitude and special values
    store = MemoryStorage()
    specials = [0.0, -0.0, 1.5, 3.0, 1e-4, 9.9e-5, 1e16, 9999999999999998.0, 123456.789, 1e21]
    specials += [float("nan"), float("inf"), -float("inf"), 0.1 + 0.2, 2.5e-7]
    for i, v in enumerate(specials):
        store.add_series(
            labels_of({"__name__": "x", "i": str(i), "q": 'a"\\\n'}), [0, 1_500], [v, v]
        )
    engine = Engine(store)
    result = engine.range(query, 0, 1_500, 500) if steps > 1 else engine.instant(query, 1_500)

    # Then the JSON body holds exactly format_result's values (Prometheus' text) and times
    body = json.loads(render_json(result))
    assert body["status"] == "success"
    assert body["data"] == format_result(result)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.floats(allow_nan=True, allow_infinity=True),
                st.integers(-(10**17), 10**17).map(float),
                st.floats(1e-7, 1e-3),  # around 1e-5, where the plain notation starts
                st.floats(1e15, 1e22),  # around 1e16 and 1e21
                st.sampled_from([1e-4, 1e-5, 9.9e-6, 1e16, 1e21, 0.0, 1.0, 100.05, -0.0]),
            ),
            min_size=1,
            max_size=6,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_matrix_json_equals_format_result_for_any_values(series: list[list[float]]) -> None:
    # Given series whose points mix every kind of value, and labels that look like values
    store = MemoryStorage()
    for i, values in enumerate(series):
        stamps = [k * 1_000 + 500 * (k % 2) for k in range(len(values))]
        labels = labels_of({"__name__": "x", "i": str(i), "v": '1.0"', "w": "2.0"})
        store.add_series(labels, stamps, values)
    result = Engine(store).instant("x[1h]", 10_000)

    # Then the body holds exactly what format_result says, point for point
    assert json.loads(render_json(result))["data"] == format_result(result)


KERNEL_SERIES = 40  # enough series for the numpy kernels (evaluator.KERNEL_MIN_SERIES)


PLAIN = st.one_of(  # values Go writes without an exponent, whole numbers among them
    st.integers(-(10**15), 10**15).map(float),
    st.floats(-1e15, 1e15).filter(lambda v: v == 0 or abs(v) >= 1e-4),
)
SPECIAL = st.sampled_from([math.nan, math.inf, -math.inf, 1e-7, 9.9e-6, 1e16, 1e21, -0.0])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(st.none(), PLAIN), min_size=KERNEL_SERIES * 4, max_size=KERNEL_SERIES * 4),
    st.one_of(st.none(), st.tuples(st.integers(0, KERNEL_SERIES * 4 - 1), SPECIAL)),
    st.sampled_from(["max_over_time(x[1m])", "last_over_time(x[1m])", "rate(x[2m])"]),
)
def test_kernel_matrix_renders_what_format_result_says(
    cells: list[float | None], special: tuple[int, float] | None, query: str
) -> None:
    # Given enough series for the kernels, five scrapes each, after the first some missing,
    # plain values and maybe one that Go writes otherwise (NaN, infinities, exponents)
    if special is not None:
        cells[special[0]] = special[1]
    store = MemoryStorage()
    for i in range(KERNEL_SERIES):
        row = [float(i), *cells[i * 4 : (i + 1) * 4]]
        stamps = [k * 60_000 for k, v in enumerate(row) if v is not None]
        labels = labels_of({"__name__": "x", "i": f"{i:02d}", "v": '1.0"'})
        store.add_series(labels, stamps, [v for v in row if v is not None])

    # When a range query is answered from the kernels' arrays
    result = Engine(store).range(query, 0, 300_000, 30_000)
    assert result.columns is not None
    body = json.loads(render_json(result))

    # Then the body holds exactly the matrix format_result writes point by point
    assert body["data"] == format_result(result)
    assert [s["metric"]["i"] for s in body["data"]["result"]] == sorted(
        s["metric"]["i"] for s in body["data"]["result"]
    )


def test_kernel_matrix_whose_rows_lose_their_names_into_one_label_set_still_fails() -> None:
    # Given `x` and `y` series with the same labels otherwise, overlapping in time
    store = MemoryStorage()
    for name in ("x", "y"):
        for i in range(KERNEL_SERIES):
            store.add_series(labels_of({"__name__": name, "i": str(i)}), [0, 60_000], [1.0, 2.0])

    # Then dropping the names leaves two series per label set, as Prometheus refuses
    with pytest.raises(PromQLError, match="same labelset"):
        Engine(store).range('max_over_time({__name__=~"x|y"}[1m])', 0, 60_000, 30_000)
