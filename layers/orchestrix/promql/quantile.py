"""histogram_quantile over classic histograms (series with an ``le`` bucket label)."""

from __future__ import annotations

import bisect
import math

from . import ast
from .evaluator import Evaluator, EvSeries
from .gomath import NAN
from .values import Labels, label_get, labels_without, quote_go

SMALL_DELTA_TOLERANCE = 1e-12
_MONOTONICITY = (
    "input to histogram_quantile needed to be fixed for monotonicity (see "
    "https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)"
)


def almost_equal(a: float, b: float, epsilon: float) -> bool:
    """Prometheus' util/almost.Equal."""
    min_normal = 2.2250738585072014e-308
    if a != a and b != b:
        return True
    if a == b:
        return True
    abs_sum = abs(a) + abs(b)
    diff = abs(a - b)
    if a == 0 or b == 0 or abs_sum < min_normal:
        return diff < epsilon * min_normal
    return diff / min(abs_sum, 1.7976931348623157e308) < epsilon


def parse_le(text: str) -> float | None:
    """Go's strconv.ParseFloat for bucket bounds; ``None`` if malformed."""
    if not text or text != text.strip() or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> tuple[float, bool]:
    """Quantile of (upper bound, cumulative count) buckets; also says if counts were fixed."""
    if q != q:
        return NAN, False
    if q < 0:
        return -math.inf, False
    if q > 1:
        return math.inf, False
    buckets = sorted(buckets, key=lambda b: b[0])
    if not math.isinf(buckets[-1][0]) or buckets[-1][0] < 0:
        return NAN, False
    merged: list[list[float]] = []
    for ub, count in buckets:
        if merged and merged[-1][0] == ub:
            merged[-1][1] += count
        else:
            merged.append([ub, count])
    forced = False
    prev = merged[0][1]
    for b in merged[1:]:
        cur = b[1]
        if cur == prev:
            continue
        if almost_equal(prev, cur, SMALL_DELTA_TOLERANCE):
            b[1] = prev
            continue
        if cur < prev:
            b[1] = prev
            forced = True
            continue
        prev = cur
    if len(merged) < 2:
        return NAN, forced
    observations = merged[-1][1]
    if observations == 0:
        return NAN, forced
    rank = q * observations
    counts = [b[1] for b in merged[:-1]]
    idx = bisect.bisect_left(counts, rank)
    if idx == len(merged) - 1:
        return merged[-2][0], forced
    if idx == 0 and merged[0][0] <= 0:
        return merged[0][0], forced
    start = 0.0
    end = merged[idx][0]
    count = merged[idx][1]
    if idx > 0:
        start = merged[idx - 1][0]
        count -= merged[idx - 1][1]
        rank -= merged[idx - 1][1]
    return start + (end - start) * (rank / count), forced


def histogram_quantile(ev: Evaluator, node: ast.Call) -> list[EvSeries]:
    qs = ev.eval_scalar(node.args[0])
    vec = ev.eval_vector(node.args[1])
    annos = ev.ctx.annotations
    for q in dict.fromkeys(qs):
        if q != q or q < 0 or q > 1:
            from .functions import _g

            annos.warn(f"quantile value should be between 0 and 1, got {_g(q)}", node.args[0].pos)
    groups: dict[Labels, int] = {}
    members: list[list[tuple[float, int]]] = []
    group_labels: list[Labels] = []
    for idx, s in enumerate(vec):
        le_text = label_get(s.labels, "le")
        le = parse_le(le_text)
        if le is None:
            name = label_get(s.labels, "__name__")
            suffix = f" for metric name {quote_go(name)}" if name else ""
            annos.warn(
                'bucket label "le" is missing or has a malformed value of '
                f"{quote_go(le_text)}{suffix}",
                node.args[1].pos,
            )
            continue
        key = labels_without(s.labels, ("le",))
        g = groups.get(key)
        if g is None:
            g = groups[key] = len(members)
            members.append([])
            group_labels.append(key)
        members[g].append((le, idx))
    out = []
    for g, items in enumerate(members):
        res: list[float | None] = [None] * ev.n
        for i in range(ev.n):
            buckets = [(le, v) for le, idx in items if (v := vec[idx].vals[i]) is not None]
            if not buckets:
                continue
            value, forced = bucket_quantile(qs[i], buckets)
            if forced:
                name = label_get(group_labels[g], "__name__")
                suffix = f" for metric name {quote_go(name)}" if name else ""
                annos.info(_MONOTONICITY + suffix, node.args[1].pos)
            res[i] = value
        if any(v is not None for v in res):
            out.append(EvSeries(group_labels[g], res, True))
    return out


def histogram_fraction(ev: Evaluator, node: ast.Call) -> list[EvSeries]:
    """Only native histograms carry what histogram_fraction needs: floats give no output."""
    ev.eval_vector(node.args[2])
    return []
