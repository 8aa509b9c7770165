"""Run Prometheus' promqltest scripts (``*.test``) against our engine.

Every ``eval`` is reported as passed, failed (with the reason) or skipped. Skips are only for
what this engine deliberately does not do: native histograms (``{{...}}`` samples in the data
a query reads or in its expected result) and syntax that promql-parser rejects. Like
Prometheus' runner, each instant query is also re-run with ``@`` pinned to other times and as
a range query, whose middle step must give the same result.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from . import ast
from .engine import Engine, QueryResult
from .errors import BadQuery, PromQLError
from .parse import parse
from .quantile import almost_equal
from .storage import LabelMatcher, MemoryStorage, matches_all
from .testfile import HISTOGRAM, Clear, Eval, Load, SeriesDef, parse_script
from .values import Labels, RangeSeries, Sample, Scalar, Series, String, format_labels, label_get

EPSILON = 1e-6
_QUERY_CONTEXT_FUNCS = re.compile(r"(start|end|range|step)\(\)")


@dataclass
class Outcome:
    file: str
    line: int
    query: str
    status: str  # passed, failed, skipped
    reason: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def summary(self) -> str:
        return (
            f"{self.count('passed')} passed, {self.count('failed')} failed, "
            f"{self.count('skipped')} skipped"
        )


class _Skip(Exception):
    pass


class _Fail(Exception):
    pass


class TestStorage(MemoryStorage):
    """Float samples in memory; remembers where native histogram samples would have been."""

    def __init__(self) -> None:
        super().__init__()
        self.histograms: dict[Labels, list[int]] = {}
        self.touched_histograms = False

    def clear(self) -> None:
        super().clear()
        self.histograms.clear()

    def select(  # type: ignore[override]
        self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> Iterable[Series]:
        for labels, stamps in self.histograms.items():
            if matches_all(labels, matchers) and any(start_ms <= t <= end_ms for t in stamps):
                self.touched_histograms = True
        return list(super().select(matchers, start_ms, end_ms))


def _load(storage: TestStorage, cmd: Load) -> None:
    for sd in cmd.series:
        for i, p in enumerate(sd.points):
            t = i * cmd.interval
            if p is None:
                continue
            if p == HISTOGRAM:
                storage.histograms.setdefault(sd.labels, []).append(t)
            else:
                assert isinstance(p, float)
                storage.add(sd.labels, t, p)
    if cmd.with_nhcb:
        for sd in cmd.series:
            name = label_get(sd.labels, "__name__")
            for suffix in ("_bucket", "_count", "_sum"):
                if name.endswith(suffix):
                    base = tuple(
                        ("__name__", name[: -len(suffix)]) if n == "__name__" else (n, v)
                        for n, v in sd.labels
                        if n != "le"
                    )
                    stamps = [i * cmd.interval for i, p in enumerate(sd.points) if p is not None]
                    storage.histograms.setdefault(base, []).extend(stamps)


def run_file(path: str, engine_factory: type[Engine] = Engine) -> Report:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    return run_script(text, path, engine_factory)


def run_script(text: str, name: str = "<script>", engine_factory: type[Engine] = Engine) -> Report:
    report = Report()
    storage = TestStorage()
    engine = engine_factory(storage, max_samples=50_000_000, timeout_s=100.0)
    for cmd in parse_script(text):
        if isinstance(cmd, Clear):
            storage.clear()
        elif isinstance(cmd, Load):
            _load(storage, cmd)
        else:
            report.outcomes.append(_run_eval(engine, storage, cmd, name))
    return report


def _run_eval(engine: Engine, storage: TestStorage, cmd: Eval, name: str) -> Outcome:
    out = Outcome(name, cmd.line, cmd.query, "passed")
    if any(HISTOGRAM in sd.points for sd in cmd.expected):
        out.status, out.reason = "skipped", "expects native histogram samples"
        return out
    try:
        tree = parse(cmd.query)
    except BadQuery as exc:
        out.status, out.reason = "skipped", f"promql-parser rejects the query: {exc.message}"
        return out
    storage.touched_histograms = False
    try:
        if cmd.is_range:
            _check_range(engine, cmd, tree)
        else:
            _check_instant(engine, cmd, tree)
    except _Skip as exc:
        out.status, out.reason = "skipped", str(exc)
    except _Fail as exc:
        if storage.touched_histograms:
            out.status = "skipped"
            out.reason = f"query reads native histogram samples (float-only result: {exc})"
        else:
            out.status, out.reason = "failed", str(exc)
    return out


def _execute(run: object) -> tuple[QueryResult | None, PromQLError | None]:
    try:
        return run(), None  # type: ignore[operator]
    except PromQLError as exc:
        return None, exc


def _check_failure(cmd: Eval, err: PromQLError | None) -> bool:
    """True if the query was expected to fail (and did, with a matching message)."""
    fails = [e for e in cmd.expects if e.kind == "fail"]
    if not fails:
        if err is not None:
            raise _Fail(f"unexpected error: {err.message}")
        return False
    if err is None:
        raise _Fail("expected an error but the query succeeded")
    for e in fails:
        if not e.matches(err.message):
            raise _Fail(f"expected error matching {e.message or e.regex}, got: {err.message}")
    return True


def _check_annotations(cmd: Eval, res: QueryResult) -> None:
    for kind, actual in (("warn", res.warnings), ("info", res.infos)):
        expected = [e for e in cmd.expects if e.kind == kind]
        if cmd.has("no_" + kind) and actual:
            raise _Fail(f"unexpected {kind} annotations: {actual}")
        if not expected:
            continue
        if not actual:
            raise _Fail(f"expected {kind} annotations but none were found")
        for e in expected:
            if not any(e.matches(a) for a in actual):
                raise _Fail(f"no {kind} annotation matches {e.message or e.regex}: {actual}")
        for a in actual:
            if not any(e.matches(a) for e in expected):
                raise _Fail(f"unexpected {kind} annotation {a!r}")


def _check_range(engine: Engine, cmd: Eval, tree: ast.Node) -> None:
    res, err = _execute(lambda: engine.range_tree(tree, cmd.query, cmd.start, cmd.end, cmd.step))
    if _check_failure(cmd, err):
        return
    assert res is not None
    _check_annotations(cmd, res)
    _compare(cmd, res, cmd.start, cmd.end, cmd.step)


def _check_instant(engine: Engine, cmd: Eval, tree: ast.Node) -> None:
    cases = [(tree, cmd.eval_time)]
    if not _QUERY_CONTEXT_FUNCS.search(cmd.query):
        cases += at_modifier_cases(tree, cmd.eval_time)
    for variant, t in cases:
        res, err = _execute(lambda v=variant, t=t: engine.instant_tree(v, cmd.query, t))
        if _check_failure(cmd, err):
            continue
        assert res is not None
        _check_annotations(cmd, res)
        if cmd.range_vector:
            _compare(cmd, res, cmd.start, cmd.end, cmd.step)
        else:
            _compare(cmd, res, t, t, 0)
        if cmd.range_vector or cmd.expected_string is not None:
            continue
        if _QUERY_CONTEXT_FUNCS.search(cmd.query) or cmd.has("ordered"):
            continue
        rres, rerr = _execute(
            lambda v=variant, t=t: engine.range_tree(v, cmd.query, t - 60_000, t + 60_000, 60_000)
        )
        if rerr is not None:
            raise _Fail(f"error in range mode: {rerr.message}")
        assert rres is not None and isinstance(rres.value, list)
        mid: list[Sample] = [
            Sample(s.labels, t, v)
            for s in rres.value
            if isinstance(s, RangeSeries)
            for pt, v in s.points
            if pt == t
        ]
        if isinstance(res.value, Scalar):
            if not mid:
                raise _Fail("range mode returned no scalar value")
            _compare(cmd, QueryResult("scalar", Scalar(t, mid[0].v)), t, t, 0, "range mode: ")
        else:
            _compare(cmd, QueryResult("vector", mid), t, t, 0, "range mode: ")


def at_modifier_cases(tree: ast.Node, t: int) -> list[tuple[ast.Node, int]]:
    """Prometheus' atModifierTestCases: pin every selector to ``t``, evaluate elsewhere."""
    pinned = ast.copy_tree(tree)
    unsafe = False

    def visit(node: ast.Node, in_pinned_subquery: bool) -> None:
        nonlocal unsafe
        if in_pinned_subquery:
            return
        if isinstance(node, ast.Call) and node.func in ast.AT_UNSAFE_FUNCTIONS:
            unsafe = True
        if isinstance(node, ast.VectorSel) and node.at is None and node.at_kind is None:
            node.at = t
        if isinstance(node, ast.Subquery) and node.at is None and node.at_kind is None:
            node.at = t
        pinned_sq = isinstance(node, ast.Subquery)
        for child in ast.children(node):
            visit(child, pinned_sq)

    visit(pinned, False)
    if unsafe:
        return []
    times = [-1000, 0, 1000] if t == 0 else [-10 * t, 0, t // 5, t, 10 * t]
    return [(copy.deepcopy(pinned), et) for et in times]


def _compare(
    cmd: Eval, res: QueryResult, start: int, end: int, step: int, prefix: str = ""
) -> None:
    try:
        _compare_value(cmd, res, start, end, step)
    except _Fail as exc:
        raise _Fail(prefix + str(exc)) from None


def _compare_value(cmd: Eval, res: QueryResult, start: int, end: int, step: int) -> None:
    value = res.value
    if isinstance(value, String):
        if cmd.expected_string != value.v:
            raise _Fail(f'expected string "{cmd.expected_string}" but got "{value.v}"')
        return
    if isinstance(value, Scalar):
        if cmd.expected_scalar is None:
            raise _Fail(f"expected vector or matrix result, but got scalar {value.v}")
        if not almost_equal(cmd.expected_scalar, value.v, EPSILON):
            raise _Fail(f"expected scalar {cmd.expected_scalar} but got {value.v}")
        return
    if cmd.expected_scalar is not None:
        raise _Fail(f"expected scalar result, but got {res.result_type}")
    expected = {sd.labels: sd for sd in cmd.expected}
    if res.result_type == "matrix":
        _compare_matrix(
            cmd, [s for s in value if isinstance(s, RangeSeries)], expected, start, end, step
        )
        return
    seen: set[Labels] = set()
    for pos, s in enumerate(v for v in value if isinstance(v, Sample)):
        exp = expected.get(s.labels)
        if exp is None:
            raise _Fail(f"unexpected metric {format_labels(s.labels)} in result, has value {s.v}")
        if cmd.has("ordered") and cmd.expected.index(exp) != pos:
            where = cmd.expected.index(exp) + 1
            raise _Fail(
                f"expected metric {format_labels(s.labels)} at position {where} "
                f"but was at {pos + 1}"
            )
        want = exp.points[0] if exp.points else None
        if not isinstance(want, float) or not almost_equal(want, s.v, EPSILON):
            raise _Fail(f"expected {want} for {format_labels(s.labels)} but got {s.v}")
        seen.add(s.labels)
    for labels in expected:
        if labels not in seen:
            raise _Fail(f"expected metric {format_labels(labels)} not found")


def _compare_matrix(
    cmd: Eval,
    value: list[RangeSeries],
    expected: dict[Labels, SeriesDef],
    start: int,
    end: int,
    step: int,
) -> None:
    for a, b in zip(value, value[1:], strict=False):
        if a.labels > b.labels:
            raise _Fail("matrix results should always be sorted by labels")
    seen: set[Labels] = set()
    for s in value:
        exp = expected.get(s.labels)
        if exp is None:
            raise _Fail(f"unexpected metric {format_labels(s.labels)} in result, has {s.points}")
        want = []
        for i, p in enumerate(exp.points):
            t = start + i * step
            if t > end:
                raise _Fail(
                    f"expected {len(exp.points)} points for {format_labels(s.labels)}, "
                    "but the query time range cannot return this many points"
                )
            if isinstance(p, float):
                want.append((t, p))
        if len(want) != len(s.points):
            raise _Fail(
                f"expected {len(want)} points for {format_labels(s.labels)}, got {s.points}"
            )
        for (wt, wv), (gt, gv) in zip(want, s.points, strict=True):
            if wt != gt or not almost_equal(wv, gv, EPSILON):
                raise _Fail(f"expected {wv}@{wt} for {format_labels(s.labels)}, got {gv}@{gt}")
        seen.add(s.labels)
    for labels in expected:
        if labels not in seen:
            raise _Fail(f"expected metric {format_labels(labels)} not found")
