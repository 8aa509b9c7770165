"""Tenant regexes run on RE2 (linear time): catastrophic ones finish, Perl-only syntax is refused.

No timings are asserted: the proof is the engine each path compiles with (RE2 never backtracks,
so its work is bounded by pattern size x input length) and that the attack returns at all.
"""

from __future__ import annotations

import pytest
import re2

from orchestrix.domain.alerting.matchers import Matcher, MatcherError, parse_matchers
from orchestrix.domain.alerting.templates import expand
from orchestrix.domain.regex import MAX_PATTERN_LENGTH, RegexError, compile_re2, fullmatch
from orchestrix.promql import BadQuery, Engine, ExecutionError, LabelMatcher, MemoryStorage
from orchestrix.promql.values import labels_of

EVIL = "(a+)+b"
VICTIM = "a" * 26  # ~2.5-4.6 s with Python's backtracking re, microseconds with RE2


@pytest.fixture
def storage() -> MemoryStorage:
    s = MemoryStorage()
    s.add(labels_of({"__name__": "up", "v": VICTIM}), 1_000, 1.0)
    s.add(labels_of({"__name__": "up", "v": "aab"}), 1_000, 2.0)
    return s


def test_query_matchers_compile_with_re2() -> None:
    matcher = LabelMatcher.of("v", "=~", EVIL)

    assert isinstance(matcher.regex, re2._Regexp)


def test_catastrophic_query_regex_finishes_and_matches_like_prometheus(
    storage: MemoryStorage,
) -> None:
    result = Engine(storage).instant('{v=~"(a+)+b"}', 2_000)

    assert [dict(s.labels)["v"] for s in result.value] == ["aab"]  # type: ignore[union-attr]


def test_matchers_are_fully_anchored_and_dot_matches_newline() -> None:
    assert LabelMatcher.of("v", "=~", "a.c").matches("a\nc")
    assert not LabelMatcher.of("v", "=~", "b").matches("abc")
    assert LabelMatcher.of("v", "=~", "(?i)ABC").matches("abc")


@pytest.mark.parametrize("pattern", [r"(a)\\1", "(?=a)a", "(?!a)b", "(?<=a)b"])
def test_perl_only_syntax_is_an_invalid_regular_expression(
    storage: MemoryStorage, pattern: str
) -> None:
    with pytest.raises(BadQuery, match="invalid regular expression"):
        Engine(storage).instant(f'up{{v=~"{pattern}"}}', 2_000)


def test_label_replace_uses_re2(storage: MemoryStorage) -> None:
    result = Engine(storage).instant(f'label_replace(up, "w", "$1", "v", "{EVIL}|(a)ab")', 2_000)

    values = sorted(dict(s.labels).get("w", "") for s in result.value)  # type: ignore[union-attr]
    assert values == ["", "aa"]  # RE2 leftmost-first, like Go: (a+)+ takes "aa"


def test_label_replace_refuses_a_backreference(storage: MemoryStorage) -> None:
    with pytest.raises(ExecutionError, match="invalid regular expression in label_replace"):
        Engine(storage).instant(r'label_replace(up, "w", "$1", "v", "(a)\\1")', 2_000)


def test_silence_matcher_with_catastrophic_regex_finishes() -> None:
    (matcher,) = parse_matchers(f'{{v=~"{EVIL}"}}')

    assert not matcher.matches({"v": VICTIM})
    assert matcher.matches({"v": "aab"})


def test_silence_matcher_refuses_lookahead() -> None:
    with pytest.raises(MatcherError, match="invalid regular expression"):
        Matcher("v", "=~", "(?=a)a")


def test_template_match_and_replace_finish_on_catastrophic_regex() -> None:
    text = (
        '{{ if match "(a+)+b" $labels.v }}hit{{ else }}miss{{ end }} '
        '{{ reReplaceAll "(a+)+b" "x" $labels.v | len }}'
    )

    assert expand("t", text, {"v": VICTIM}, 1.0) == "miss 26"


def test_template_regex_with_backreference_renders_an_error() -> None:
    out = expand("t", '{{ match "(a)\\\\1" "aa" }}', {}, 1.0)

    assert out.startswith("<error expanding template:")
    assert "error parsing regexp" in out


def test_template_replace_expands_go_style_groups() -> None:
    text = '{{ reReplaceAll "(?P<host>[^:]+):(\\\\d+)" "${host}/$2$$" "web:80" }}'

    assert expand("t", text, {}, 1.0) == "web/80$"


def test_overlong_pattern_is_refused() -> None:
    with pytest.raises(RegexError, match="pattern longer than"):
        compile_re2("a" * (MAX_PATTERN_LENGTH + 1))


SIMPLE_PATTERNS = ["i1.*", ".*x", ".*ab.*", ".*", ".*.*", "abc", "", "é.*", "a\nb"]
AWKWARD_VALUES = ["", "i1", "i12", "ai1", "x", "ab", "xabx", "abc", "a\nb", "A", "é", "i1\n"]


@pytest.mark.parametrize("pattern", SIMPLE_PATTERNS)
def test_simple_regex_matchers_answer_like_re2(pattern: str) -> None:
    # Given a regex simple enough to be tested as a string operation
    for op in ("=~", "!~"):
        matcher = LabelMatcher.of("l", op, pattern)
        assert matcher.simple is not None
        exact = compile_re2(pattern, dot_all=True)

        # Then it selects exactly what the anchored RE2 regex selects
        for value in AWKWARD_VALUES:
            want = (fullmatch(exact, value) is not None) == (op == "=~")
            assert matcher.matches(value) == want, (pattern, value)


@pytest.mark.parametrize("pattern", ["a.b", "a|b", "(?i)a.*", "a\\.b.*", ".+", "a*"])
def test_regexes_with_syntax_are_left_to_re2(pattern: str) -> None:
    assert LabelMatcher.of("l", "=~", pattern).simple is None
