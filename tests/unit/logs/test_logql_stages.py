"""LogQL pipeline stages: parsers, label filters and formatting, and what is refused."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrix.logql.evaluate import LogQLEvaluationError, evaluate
from orchestrix.logql.model import LogSelector, StreamTimes
from orchestrix.logql.parse import LogQLError, parse
from orchestrix.logql.stages import go_duration_seconds, parse_bytes, parse_logfmt

STREAM = (("app", "api"),)


def run(text: str, line: str, labels: tuple[tuple[str, str], ...] = STREAM):  # type: ignore[no-untyped-def]
    query = parse(text)
    assert isinstance(query, LogSelector)
    found = query.process(labels, line)
    return None if found is None else (dict(found[0]), found[1])


def test_json_flattens_nested_keys_and_keeps_number_spelling() -> None:
    line = json.dumps({"level": "error", "req": {"status": 503, "t": 1.50}, "ok": True,
                       "tags": ["a"], "nil": None, "app": "x", "bad-key": "v"})  # fmt: skip

    labels, text = run('{app="api"} | json', line)

    assert text == line
    assert labels == {"app": "api", "level": "error", "req_status": "503", "req_t": "1.5",
                      "ok": "true", "app_extracted": "x", "bad_key": "v"}  # fmt: skip


def test_json_extraction_expressions() -> None:
    line = '{"servers": ["a", "b"], "request": {"headers": {"User-Agent": "curl"}}, "n": {"x": 1}}'
    query = (
        '{app="api"} | json first="servers[1]", ua=`request.headers["User-Agent"]`, n, gone="x.y"'
    )

    labels, _ = run(query, line)

    assert labels == {"app": "api", "first": "b", "ua": "curl", "n": '{"x":1}'}


def test_a_line_that_does_not_parse_is_kept_marked_and_error_filter_drops_it() -> None:
    marked, _ = run('{app="api"} | json', "not json")
    bad_logfmt, _ = run('{app="api"} | logfmt', 'a="unterminated')

    assert marked["__error__"] == "JSONParserErr" and marked["__error_details__"]
    assert bad_logfmt["__error__"] == "LogfmtParserErr"
    assert run('{app="api"} | json | __error__=""', "not json") is None
    assert run('{app="api"} | json | __error__=""', '{"a": 1}') == (
        {"app": "api", "a": "1"},
        '{"a": 1}',
    )


def test_logfmt_regexp_and_label_filters() -> None:
    line = 'level=info status=503 took=1.5s size=2KiB msg="slow \\"db\\"" debug'
    base = '{app="api"} | logfmt'

    labels, _ = run(base, line)
    assert labels == {"app": "api", "level": "info", "status": "503", "took": "1.5s",
                      "size": "2KiB", "msg": 'slow "db"', "debug": ""}  # fmt: skip
    assert run(f"{base} | status >= 500", line) is not None
    assert run(f"{base} | status < 500", line) is None
    assert run(f"{base} | took > 1s and size > 2KB", line) is not None
    assert run(f"{base} | took > 1500ms", line) is None
    assert run(f'{base} | level="error" or (status == 503, size <= 2048)', line) is not None
    assert run(f'{base} | level="error" or status != 503', line) is None
    assert run(f'{base} | level=~"i.*" msg!~"fast.*"', line) is not None
    marked, _ = run(f"{base} | level > 5", line)
    assert marked["__error__"] == "LabelFilterErr"
    ip, _ = run(r'{app="api"} | regexp `(?P<ip>\d+\.\d+\.\d+\.\d+) (?P<missing>x)?`', "1.2.3.4 -")
    assert ip == {"app": "api", "ip": "1.2.3.4"}


def test_pattern_captures_run_to_the_next_literal_or_the_end() -> None:
    query = '{app="api"} | pattern `<ip> - <_> [<ts>] "<method> <uri> <_>" <status> <size>`'
    line = '1.2.3.4 - - [10/Oct/2000:13:55:36] "GET /x?a=b HTTP/1.0" 200 2326 extra'

    labels, _ = run(query, line)
    unmatched, _ = run(query, "nothing like it")

    assert labels == {"app": "api", "ip": "1.2.3.4", "ts": "10/Oct/2000:13:55:36",
                      "method": "GET", "uri": "/x?a=b", "status": "200",
                      "size": "2326 extra"}  # fmt: skip
    assert unmatched == {"app": "api"}


def test_line_format_and_label_format() -> None:
    line = '{"level": "warn", "msg": "disk"}'

    labels, text = run(
        '{app="api"} | json | label_format lvl=level, both="{{.app}}/{{ .lvl }}"'
        ' | line_format "{{.lvl}}: {{.msg}}{{.none}}"',
        line,
    )

    assert text == "warn: disk"
    assert labels == {"app": "api", "lvl": "warn", "both": "api/", "msg": "disk"}


def test_parsed_labels_split_one_stream_into_series() -> None:
    lines = {10: '{"level":"info"}', 20: '{"level":"error"}', 30: '{"level":"error"}'}
    query = parse('sum by (level) (count_over_time({app="api"} | json [1m]))')
    assert not isinstance(query, LogSelector)

    def fetch(selector: LogSelector, start: int, end: int) -> list[StreamTimes]:
        series: dict[tuple[tuple[str, str], ...], list[int]] = {}
        for t, line in lines.items():
            found = selector.process(STREAM, line)
            assert found is not None
            series.setdefault(found[0], []).append(t)
        return [StreamTimes(labels, stamps) for labels, stamps in series.items()]

    found = evaluate(query, [60], fetch)

    assert [(s.labels, s.points) for s in found] == [
        ((("level", "error"),), [(60, 2.0)]), ((("level", "info"),), [(60, 1.0)]),
    ]  # fmt: skip


def test_unwrap_reads_values_and_leaves_the_label_out() -> None:
    lines = ["took=1.5s n=1", "took=250ms n=2", "took=oops n=3", "took=2s n=1"]

    def fetch(selector: LogSelector, start: int, end: int) -> list[StreamTimes]:
        series: dict[tuple[tuple[str, str], ...], tuple[list[int], list[float]]] = {}
        for t, line in enumerate(lines, start=1):
            found = selector.process(STREAM, line)
            assert found is not None
            sampled = selector.value_of(*found)
            if sampled is not None:
                series.setdefault(sampled[0], ([], []))[0].append(t)
                series[sampled[0]][1].append(sampled[1])
        return [StreamTimes(labels, ts, vs) for labels, (ts, vs) in series.items()]

    def at_60(text: str) -> dict[str | None, list[tuple[int, float]]]:
        query = parse(text)
        assert not isinstance(query, LogSelector)
        return {dict(s.labels).get("n"): s.points for s in evaluate(query, [60], fetch)}

    unwrapped = '{app="api"} | logfmt | unwrap duration(took)'
    assert at_60(f'max_over_time({unwrapped} | __error__="" [1m])') == {
        "1": [(60, 2.0)], "2": [(60, 0.25)],
    }  # fmt: skip
    assert at_60(f'quantile_over_time(0.5, {unwrapped} | __error__="" [1m])')["1"] == [(60, 1.75)]
    assert at_60(f'rate({unwrapped} | __error__="" [1m])')["1"] == [(60, 3.5 / 60)]
    with pytest.raises(LogQLEvaluationError, match="pipeline error: 'SampleExtractionErr'"):
        at_60(f"sum_over_time({unwrapped} [1m])")
    assert at_60(f'avg_over_time({unwrapped} | __error__="" [1m]) by ()') == {None: [(60, 1.25)]}
    grouped = parse(f'max_over_time({unwrapped} | __error__="" [1m]) without (n)')
    assert not isinstance(grouped, LogSelector)
    [series] = evaluate(grouped, [60], fetch)
    assert (series.labels, series.points) == (STREAM, [(60, 2.0)])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{a="b"} | keep a', "position 9: the stage | keep is not supported"),
        ('{a="b"} | pattern "<_> x"', "has no named capture <name>"),
        ('{a="b"} | pattern "<a><b>"', "two captures with nothing between"),
        ('{a="b"} | level', "expected a parser, a label filter or a formatting stage"),
        ('{a="b"} | level > "x"', "> compares numbers, durations or sizes, not strings"),
        ('{a="b"} | level =~ 5', "=~ takes a string"),
        ('{a="b"} | level > 1zz', "expected a string, number, duration or size, got '1zz'"),
        ('{a="b"} | regexp "(a)"', "has no named group"),
        ('{a="b"} | regexp "(?P<a>"', "invalid regular expression"),
        ('{a="b"} | line_format "{{.a | ToUpper}}"', "only {{.label}} fields are supported"),
        ('{a="b"} | json x="a..b"', "invalid JSON expression"),
        ('{a="b"} | line_format "x" |= "y"', "a line filter after | line_format"),
        ('sum_over_time({a="b"}[1m])', "sum_over_time needs a | unwrap stage"),
        ('count_over_time({a="b"} | unwrap x [1m])', "counts lines and takes no | unwrap"),
        (
            'sum_over_time({a="b"} | unwrap x | json [1m])',
            "position 34: only label filters may follow | unwrap",
        ),
        ('{a="b"} | unwrap x', "unwrap is only allowed in a range aggregation"),
        ('count_over_time({a="b"}[1m]) by (a)', "position 30: count_over_time takes no by"),
        ('quantile_over_time({a="b"} | unwrap x [1m])', "position 20: unsupported '{'"),
    ],
)
def test_malformed_stages_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(LogQLError, match=re.escape(message)):
        parse(text)


def test_durations_and_sizes_as_go_and_humanize_read_them() -> None:
    assert go_duration_seconds("1h30m") == 5400 and go_duration_seconds("250ms") == 0.25
    assert go_duration_seconds("-1.5s") == -1.5 and go_duration_seconds("3us") == 3e-6
    # whole nanoseconds first, as Go: not 700 * 0.001 = 0.7000000000000001
    assert go_duration_seconds("700ms") == 0.7 and go_duration_seconds("1.1s") == 1.1
    assert parse_bytes("1KB") == 1000 and parse_bytes("1KiB") == 1024
    assert parse_bytes("1.5 mb") == 1.5e6 and parse_bytes("42") == 42
    for bad in ("", "s", "1x", "1.5"):
        with pytest.raises(ValueError):
            go_duration_seconds(bad)
    with pytest.raises(ValueError):
        parse_bytes("1x")


KEYS = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_.-]{0,8}", fullmatch=True)
VALUES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


def _logfmt(pairs: list[tuple[str, str]]) -> str:
    return " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in pairs)


@given(st.lists(st.tuples(KEYS, VALUES), max_size=6))
def test_logfmt_round_trip(pairs: list[tuple[str, str]]) -> None:
    assert parse_logfmt(_logfmt(pairs)) == pairs
