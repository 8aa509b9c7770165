"""Parse errors carry Prometheus' `line:column` and, where it can be told, its wording.

Each expected message is what Prometheus answered for the same query (a position and the
text after it; where Prometheus adds a context such as "in aggregation", only the start).
"""

from __future__ import annotations

import pytest

from orchestrix.promql.parse import ParseError, parse


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sum(rate(x[5m])", "1:16: parse error: unclosed left parenthesis"),
        ('foo{a="b"} +', "1:13: parse error: unexpected end of input"),
        ("1 +", "1:4: parse error: unexpected end of input"),
        ("foo{", "1:5: parse error: unexpected end of input inside braces"),
        ("x offset", "1:9: parse error: unexpected end of input in offset, expected duration"),
        ("foo +* bar", "1:6: parse error: unexpected <op:*>"),
        ("sum by(a) x", '1:11: parse error: unexpected identifier "x"'),
        ('foo{a="b" c="d"}', '1:11: parse error: unexpected identifier "c"'),
        ("foo bar", '1:5: parse error: unexpected identifier "bar"'),
        ("1 + \n foo bar", '2:6: parse error: unexpected identifier "bar"'),
        ("sum(rate(x[5m])) by (a) b", '1:25: parse error: unexpected identifier "b"'),
        ("rate(x[5m] foo)", '1:12: parse error: unexpected identifier "foo"'),
        ("x 1", '1:3: parse error: unexpected number "1"'),
        ("x by", "1:3: parse error: unexpected <by>"),
        ("x @ foo", '1:5: parse error: unexpected identifier "foo"'),
        ("foo)", "1:5: parse error: unexpected right parenthesis ')'"),
        (")", "1:2: parse error: unexpected right parenthesis ')'"),
        ("unknownfn(x)", '1:1: parse error: unknown function with name "unknownfn"'),
        ("abs(1,2)", '1:1: parse error: expected 1 argument(s) in call to "abs", got 2'),
        (
            "sum(x) + rate(y)",
            '1:15: parse error: expected type range vector in call to function "rate", '
            "got instant vector",
        ),
        (
            "a\n + rate(b)",
            '2:9: parse error: expected type range vector in call to function "rate", '
            "got instant vector",
        ),
        ('"abc', "1:1: parse error: unterminated quoted string"),
        ('foo{a=~"("}', "1:5: parse error: "),
    ],
)
def test_parse_errors_have_prometheus_positions(query: str, expected: str) -> None:
    with pytest.raises(ParseError) as exc:
        parse(query)

    assert exc.value.message.startswith(expected)


def test_a_huge_bad_query_is_refused_quickly_without_a_position_search() -> None:
    query = "x{" + 'a="b",' * 200 + "} y"  # 800 tokens: past the search's bound

    with pytest.raises(ParseError) as exc:
        parse(query)

    assert exc.value.message.startswith("1:1: parse error: ")
