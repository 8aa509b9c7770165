"""Functions over range vectors (``rate``, ``*_over_time``, ...), one window at a time.

Each function receives the window as indices into a series' sample lists:
``fn(ts, vs, lo, hi, range_start, range_end, step_ts, params, monotonic)`` and returns the
value or ``None`` (no output for this step). ``lo < hi`` always holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from .errors import ExecutionError
from .gomath import NAN, div, kahan_inc, kahan_mean

RangeFn = Callable[
    [Sequence[int], Sequence[float], int, int, int, int, int, Sequence[float], bool],
    float | None,
]


def quantile(q: float, values: list[float]) -> float:
    """Prometheus' quantile(): linear interpolation between closest ranks, NaNs sort first."""
    if not values or q != q:
        return NAN
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    values = sorted(values, key=lambda v: (0, 0.0) if v != v else (1, v))
    n = len(values)
    rank = q * (n - 1)
    lower = max(0, math.floor(rank))
    upper = min(n - 1, lower + 1)
    weight = rank - math.floor(rank)
    return values[lower] * (1 - weight) + values[upper] * weight


def _extrapolated(
    ts: Sequence[int],
    vs: Sequence[float],
    lo: int,
    hi: int,
    rstart: int,
    rend: int,
    is_counter: bool,
    is_rate: bool,
    monotonic: bool,
) -> float | None:
    n = hi - lo
    if n < 2:
        return None
    first_t, last_t = ts[lo], ts[hi - 1]
    result = vs[hi - 1] - vs[lo]
    if is_counter and not monotonic:
        prev = vs[lo]
        for i in range(lo + 1, hi):
            cur = vs[i]
            if cur < prev:
                result += prev
            prev = cur
    to_start = (first_t - rstart) / 1000
    to_end = (rend - last_t) / 1000
    sampled = (last_t - first_t) / 1000
    average = sampled / (n - 1)
    threshold = average * 1.1
    if to_start >= threshold:
        to_start = average / 2
    if is_counter:
        to_zero = to_start
        if result > 0 and vs[lo] >= 0:
            to_zero = sampled * (vs[lo] / result)
        if to_zero < to_start:
            to_start = to_zero
    if to_end >= threshold:
        to_end = average / 2
    factor = (sampled + to_start + to_end) / sampled
    if is_rate:
        factor /= (rend - rstart) / 1000
    return result * factor


def rate(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return _extrapolated(ts, vs, lo, hi, rs, re_, True, True, mono)


def increase(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return _extrapolated(ts, vs, lo, hi, rs, re_, True, False, mono)


def delta(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return _extrapolated(ts, vs, lo, hi, rs, re_, False, False, mono)


def _instant(
    ts: Sequence[int], vs: Sequence[float], lo: int, hi: int, is_rate: bool
) -> float | None:
    if hi - lo < 2:
        return None
    t0, t1 = ts[hi - 2], ts[hi - 1]
    v0, v1 = vs[hi - 2], vs[hi - 1]
    interval = t1 - t0
    if interval == 0:
        return None
    result = v1 if is_rate and v1 < v0 else v1 - v0
    if is_rate:
        result /= interval / 1000
    return result


def irate(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return _instant(ts, vs, lo, hi, True)


def idelta(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return _instant(ts, vs, lo, hi, False)


def _linear_regression(
    ts: Sequence[int], vs: Sequence[float], lo: int, hi: int, intercept_t: int
) -> tuple[float, float]:
    n = 0.0
    sum_x = c_x = sum_y = c_y = sum_xy = c_xy = sum_x2 = c_x2 = 0.0
    init_y = vs[lo]
    const_y = True
    for i in range(lo, hi):
        y = vs[i]
        if const_y and i > lo and y != init_y:
            const_y = False
        n += 1.0
        x = (ts[i] - intercept_t) / 1e3
        sum_x, c_x = kahan_inc(x, sum_x, c_x)
        sum_y, c_y = kahan_inc(y, sum_y, c_y)
        sum_xy, c_xy = kahan_inc(x * y, sum_xy, c_xy)
        sum_x2, c_x2 = kahan_inc(x * x, sum_x2, c_x2)
    if const_y:
        if math.isinf(init_y):
            return NAN, NAN
        return 0.0, init_y
    sum_x += c_x
    sum_y += c_y
    sum_xy += c_xy
    sum_x2 += c_x2
    cov_xy = sum_xy - sum_x * sum_y / n
    var_x = sum_x2 - sum_x * sum_x / n
    slope = div(cov_xy, var_x)
    intercept = sum_y / n - slope * sum_x / n
    return slope, intercept


def deriv(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    if hi - lo < 2:
        return None
    return _linear_regression(ts, vs, lo, hi, ts[lo])[0]


def predict_linear(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    if hi - lo < 2:
        return None
    slope, intercept = _linear_regression(ts, vs, lo, hi, t)
    return slope * p[0] + intercept


def resets(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    if mono:
        return 0.0
    count = 0
    prev = vs[lo]
    for i in range(lo + 1, hi):
        cur = vs[i]
        if cur < prev:
            count += 1
        prev = cur
    return float(count)


def changes(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    count = 0
    prev = vs[lo]
    for i in range(lo + 1, hi):
        cur = vs[i]
        if cur != prev and not (cur != cur and prev != prev):
            count += 1
        prev = cur
    return float(count)


def avg_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return kahan_mean(vs[lo:hi])


def sum_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    total = c = 0.0
    for i in range(lo, hi):
        total, c = kahan_inc(vs[i], total, c)
    return total if math.isinf(total) else total + c


def count_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return float(hi - lo)


def _compare(vs: Sequence[float], ts: Sequence[int], lo: int, hi: int, better, stamp: bool):  # type: ignore[no-untyped-def]
    best, best_t = vs[lo], ts[lo]
    for i in range(lo, hi):
        f = vs[i]
        if better(f, best) or best != best:
            best, best_t = f, ts[i]
    return best_t / 1000 if stamp else best


def max_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return _compare(vs, ts, lo, hi, lambda a, b: a > b, False)


def min_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return _compare(vs, ts, lo, hi, lambda a, b: a < b, False)


def ts_of_max_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return _compare(vs, ts, lo, hi, lambda a, b: a >= b, True)


def ts_of_min_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return _compare(vs, ts, lo, hi, lambda a, b: a <= b, True)


def last_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return vs[hi - 1]


def first_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return vs[lo]


def ts_of_last_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return ts[hi - 1] / 1000


def ts_of_first_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return ts[lo] / 1000


def present_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return 1.0


def _variance(vs: Sequence[float], lo: int, hi: int) -> float:
    count = mean = c_mean = aux = c_aux = 0.0
    for i in range(lo, hi):
        f = vs[i]
        count += 1
        d = f - (mean + c_mean)
        mean, c_mean = kahan_inc(d / count, mean, c_mean)
        aux, c_aux = kahan_inc(d * (f - (mean + c_mean)), aux, c_aux)
    return (aux + c_aux) / count


def stdvar_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return _variance(vs, lo, hi)


def stddev_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    v = _variance(vs, lo, hi)
    return math.sqrt(v) if v >= 0 else NAN


def quantile_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    return quantile(p[0], list(vs[lo:hi]))


def mad_over_time(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    window = list(vs[lo:hi])
    if any(v != v for v in window):
        return NAN
    median = quantile(0.5, window)
    return quantile(0.5, [abs(v - median) for v in window])


def double_exponential_smoothing(ts, vs, lo, hi, rs, re_, t, p, mono):  # type: ignore[no-untyped-def]
    sf, tf = p[0], p[1]
    if sf <= 0 or sf >= 1 or sf != sf:
        raise ExecutionError(f"invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:f}")
    if tf <= 0 or tf >= 1 or tf != tf:
        raise ExecutionError(f"invalid trend factor. Expected: 0 < tf < 1, got: {tf:f}")
    if hi - lo < 2:
        return None
    s0 = 0.0
    s1 = vs[lo]
    b = vs[lo + 1] - vs[lo]
    for k, i in enumerate(range(lo + 1, hi)):
        x = sf * vs[i]
        if k > 0:
            b = tf * (s1 - s0) + (1 - tf) * b
        y = (1 - sf) * (s1 + b)
        s0, s1 = s1, x + y
    return s1


RANGE_FUNCTIONS: dict[str, RangeFn] = {
    "rate": rate,
    "increase": increase,
    "delta": delta,
    "irate": irate,
    "idelta": idelta,
    "deriv": deriv,
    "predict_linear": predict_linear,
    "resets": resets,
    "changes": changes,
    "avg_over_time": avg_over_time,
    "sum_over_time": sum_over_time,
    "count_over_time": count_over_time,
    "max_over_time": max_over_time,
    "min_over_time": min_over_time,
    "last_over_time": last_over_time,
    "first_over_time": first_over_time,
    "present_over_time": present_over_time,
    "stddev_over_time": stddev_over_time,
    "stdvar_over_time": stdvar_over_time,
    "quantile_over_time": quantile_over_time,
    "mad_over_time": mad_over_time,
    "ts_of_max_over_time": ts_of_max_over_time,
    "ts_of_min_over_time": ts_of_min_over_time,
    "ts_of_last_over_time": ts_of_last_over_time,
    "ts_of_first_over_time": ts_of_first_over_time,
    "double_exponential_smoothing": double_exponential_smoothing,
}
