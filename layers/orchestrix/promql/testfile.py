"""Parser of Prometheus' promqltest script format (``load``, ``clear``, ``eval``, ``expect``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .gostr import unquote
from .values import STALE_NAN, Labels

_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_UNITS_MS = (365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1)
# In series values "x" means repetition, so there are no hexadecimal numbers here.
_NUM = r"(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI]nf|[nN]a[nN])"
_ITEM = re.compile(rf"^([+-]?{_NUM})(?:([+-])({_NUM}))?(?:x(\d+))?$")
_EVAL_INSTANT = re.compile(
    r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$"
)
_EVAL_RANGE = re.compile(
    r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$"
)
_EXPECT = re.compile(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$")
_EXPECT_RANGE = re.compile(r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

# One position of a value sequence: a float, None (omitted) or HISTOGRAM.
HISTOGRAM = "histogram"
Point = float | None | str


class TestFileError(ValueError):
    """The script itself is malformed."""


def parse_duration(text: str) -> int:
    """Prometheus model.ParseDuration, in milliseconds (``0`` is allowed)."""
    text = text.strip()
    if text == "0":
        return 0
    neg = text.startswith("-")
    m = _DURATION.match(text.lstrip("-"))
    if not m or not text.lstrip("-"):
        raise TestFileError(f"invalid duration {text!r}")
    total = sum(int(g) * u for g, u in zip(m.groups(), _UNITS_MS, strict=True) if g)
    return -total if neg else total


def parse_number(text: str) -> float:
    t = text.strip()
    sign = -1.0 if t.startswith("-") else 1.0
    body = t.lstrip("+-")
    if body[:2].lower() == "0x":
        return sign * int(body, 16)
    if body.lower() in ("inf", "infinity"):
        return sign * float("inf")
    if "_" in body or not body:
        raise ValueError(text)
    return float(t)


@dataclass
class SeriesDef:
    labels: Labels
    points: list[Point]
    line: int


@dataclass
class Load:
    interval: int
    series: list[SeriesDef]
    with_nhcb: bool = False


@dataclass
class Clear:
    pass


@dataclass
class Expect:
    kind: str  # ordered, fail, warn, no_warn, info, no_info
    message: str | None = None
    regex: re.Pattern[str] | None = None

    def matches(self, text: str) -> bool:
        if self.regex is not None:
            return self.regex.search(text) is not None
        if self.message is not None:
            return self.message == text
        return True


@dataclass
class Eval:
    query: str
    line: int
    is_range: bool
    start: int
    end: int = 0
    step: int = 0
    expects: list[Expect] = field(default_factory=list)
    expected: list[SeriesDef] = field(default_factory=list)
    expected_scalar: float | None = None
    expected_string: str | None = None
    range_vector: bool = False

    @property
    def eval_time(self) -> int:
        return self.end if self.range_vector else self.start

    def has(self, kind: str) -> bool:
        return any(e.kind == kind for e in self.expects)


Command = Load | Clear | Eval


def parse_series_line(text: str, line: int) -> SeriesDef:
    """``metric{a="b"} 1 2+3x4 _ stale {{...}}`` -> labels and expanded points."""
    i, labels = _parse_metric(text)
    return SeriesDef(labels, parse_values(text[i:]), line)


def _parse_metric(text: str) -> tuple[int, Labels]:
    pairs: dict[str, str] = {}
    i = 0
    m = _NAME.match(text)
    if m:
        pairs["__name__"] = m.group(0)
        i = m.end()
    if i < len(text) and text[i] == "{":
        i += 1
        while True:
            while i < len(text) and text[i] in " \t,":
                i += 1
            if i >= len(text):
                raise TestFileError(f"unterminated label set in {text!r}")
            if text[i] == "}":
                i += 1
                break
            if text[i] in "\"'`":
                end = _string_end(text, i)
                name = unquote(text[i:end])
                i = end
            else:
                lm = _LABEL_NAME.match(text, i)
                if lm is None:
                    raise TestFileError(f"invalid label name in {text!r}")
                name = lm.group(0)
                i = lm.end()
            while i < len(text) and text[i] in " \t":
                i += 1
            if i < len(text) and text[i] == "=":
                i += 1
                while i < len(text) and text[i] in " \t":
                    i += 1
                end = _string_end(text, i)
                pairs[name] = unquote(text[i:end])
                i = end
            else:  # a quoted metric name: {"my.metric", a="b"}
                pairs["__name__"] = name
    return i, tuple(sorted((n, v) for n, v in pairs.items() if v != ""))


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        if text[i] == "\\" and quote != "`":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    raise TestFileError(f"unterminated string in {text!r}")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch.isspace() and depth == 0:
            if cur:
                out.append("".join(cur))
                cur = []
            continue
        cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def parse_values(text: str) -> list[Point]:
    points: list[Point] = []
    for tok in _tokens(text):
        if "{{" in tok:
            m = re.search(r"x(\d+)$", tok[tok.rfind("}}") :])
            points.extend([HISTOGRAM] * (int(m.group(1)) + 1 if m else 1))
        elif tok == "_":
            points.append(None)
        elif re.fullmatch(r"_x\d+", tok):
            points.extend([None] * int(tok[2:]))
        elif tok == "stale":
            points.append(STALE_NAN)
        else:
            m = _ITEM.match(tok)
            if m is None:
                raise TestFileError(f"invalid series value {tok!r}")
            value = parse_number(m.group(1))
            if m.group(4) is None:
                points.append(value)
                continue
            inc = 0.0
            if m.group(2):
                inc = parse_number(m.group(3)) * (-1 if m.group(2) == "-" else 1)
            for _ in range(int(m.group(4)) + 1):
                points.append(value)
                value += inc
    return points


def parse_script(text: str) -> list[Command]:
    lines = [("" if ln.strip().startswith("#") else ln.strip()) for ln in text.split("\n")]
    cmds: list[Command] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        if not ln:
            i += 1
            continue
        word = ln.split()[0].lower()
        if word == "clear":
            cmds.append(Clear())
            i += 1
        elif word.startswith("load"):
            i = _parse_load(lines, i, cmds)
        elif word.startswith("eval"):
            i = _parse_eval(lines, i, cmds)
        else:
            raise TestFileError(f"line {i + 1}: invalid command {ln!r}")
    return cmds


def _parse_load(lines: list[str], i: int, cmds: list[Command]) -> int:
    m = re.match(r"^load(?:_(with_nhcb))?\s+(.+?)$", lines[i])
    if m is None:
        raise TestFileError(f"line {i + 1}: invalid load command")
    load = Load(parse_duration(m.group(2)), [], m.group(1) == "with_nhcb")
    i += 1
    while i < len(lines) and lines[i]:
        load.series.append(parse_series_line(lines[i], i + 1))
        i += 1
    cmds.append(load)
    return i


def _parse_eval(lines: list[str], i: int, cmds: list[Command]) -> int:
    text = lines[i]
    mi, mr = _EVAL_INSTANT.match(text), _EVAL_RANGE.match(text)
    if mi:
        mod, query = mi.group(1), mi.group(3)
        ev = Eval(query, i + 1, False, parse_duration(mi.group(2) or "0"))
    elif mr:
        mod, query = mr.group(1), mr.group(5)
        ev = Eval(
            query,
            i + 1,
            True,
            parse_duration(mr.group(2)),
            parse_duration(mr.group(3)),
            parse_duration(mr.group(4)),
        )
    else:
        raise TestFileError(f"line {i + 1}: invalid eval command")
    if mod:
        ev.expects.append(Expect("fail" if mod == "fail" else mod))
    i += 1
    while i < len(lines) and lines[i]:
        ln = lines[i]
        i += 1
        if ln.startswith("expected_fail_message"):
            ev.expects = [e for e in ev.expects if e.kind != "fail"]
            ev.expects.append(Expect("fail", ln[len("expected_fail_message") :].strip()))
            continue
        if ln.startswith("expected_fail_regexp"):
            ev.expects = [e for e in ev.expects if e.kind != "fail"]
            pattern = ln[len("expected_fail_regexp") :].strip()
            ev.expects.append(Expect("fail", regex=re.compile(pattern)))
            continue
        if ln.startswith("expect range vector"):
            m = _EXPECT_RANGE.match(ln)
            if m is None:
                raise TestFileError(f"line {i}: invalid range vector definition")
            ev.start, ev.end = parse_duration(m.group(1)), parse_duration(m.group(2))
            ev.step, ev.range_vector = parse_duration(m.group(3)), True
            continue
        if ln.startswith("expect string"):
            ev.expected_string = unquote(ln[len("expect string") :].strip())
            continue
        if ln.split(" ")[0] == "expect":
            m = _EXPECT.match(ln)
            if m is None:
                raise TestFileError(f"line {i}: invalid expect statement")
            exp = Expect(m.group(1))
            if m.group(2) == "msg":
                exp.message = m.group(3).strip()
            elif m.group(2) == "regex":
                exp.regex = re.compile(m.group(3).strip())
            ev.expects.append(exp)
            continue
        try:
            ev.expected_scalar = parse_number(ln)
            continue
        except ValueError:
            pass
        ev.expected.append(parse_series_line(ln, i))
    cmds.append(ev)
    return i
