"""Float arithmetic with Go's semantics (Python raises where Go returns Inf or NaN)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

INF = math.inf
NAN = math.nan


def div(a: float, b: float) -> float:
    if b == 0:
        if a != a or a == 0:
            return NAN
        return INF if (a > 0) == (math.copysign(1.0, b) > 0) else -INF
    return a / b


def mod(a: float, b: float) -> float:
    if b == 0 or math.isinf(a) or a != a or b != b:
        return NAN
    return math.fmod(a, b)


def _odd_int(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2) != 0


def pow_(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except ValueError:
        if a == 0:
            return math.copysign(INF, a) if _odd_int(b) else INF
        return NAN
    except OverflowError:
        return -INF if a < 0 and _odd_int(b) else INF


def gmax(a: float, b: float) -> float:
    if math.isinf(a) and a > 0 or math.isinf(b) and b > 0:
        return INF
    if a != a or b != b:
        return NAN
    return a if a > b else b


def gmin(a: float, b: float) -> float:
    if math.isinf(a) and a < 0 or math.isinf(b) and b < 0:
        return -INF
    if a != a or b != b:
        return NAN
    return a if a < b else b


def floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x


def ceil(x: float) -> float:
    return float(math.ceil(x)) if math.isfinite(x) else x


def _log(f: Callable[[float], float]) -> Callable[[float], float]:
    def g(x: float) -> float:
        if x == 0:
            return -INF
        if x < 0:
            return NAN
        return f(x)

    return g


def _nan_on_error(f: Callable[[float], float], overflow: float = INF) -> Callable[[float], float]:
    def g(x: float) -> float:
        try:
            return f(x)
        except ValueError:
            return NAN
        except OverflowError:
            return overflow if overflow == overflow else math.copysign(INF, x)

    return g


def _atanh(x: float) -> float:
    if x == 1:
        return INF
    if x == -1:
        return -INF
    return NAN if abs(x) > 1 else math.atanh(x)


def sgn(v: float) -> float:
    if v < 0:
        return -1.0
    if v > 0:
        return 1.0
    return v


SIMPLE: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "ceil": ceil,
    "floor": floor,
    "exp": _nan_on_error(math.exp),
    "sqrt": lambda x: NAN if x < 0 else math.sqrt(x),
    "ln": _log(math.log),
    "log2": _log(math.log2),
    "log10": _log(math.log10),
    "sin": _nan_on_error(math.sin),
    "cos": _nan_on_error(math.cos),
    "tan": _nan_on_error(math.tan),
    "asin": _nan_on_error(math.asin),
    "acos": _nan_on_error(math.acos),
    "atan": math.atan,
    "sinh": _nan_on_error(math.sinh, NAN),
    "cosh": _nan_on_error(math.cosh),
    "tanh": math.tanh,
    "asinh": math.asinh,
    "acosh": _nan_on_error(math.acosh),
    "atanh": _atanh,
    "rad": lambda v: v * math.pi / 180,
    "deg": lambda v: v * 180 / math.pi,
    "sgn": sgn,
}


def kahan_inc(inc: float, total: float, c: float) -> tuple[float, float]:
    """Neumaier-compensated summation step, as in Prometheus' kahansum.Inc."""
    t = total + inc
    if math.isinf(t):
        c = 0.0
    elif abs(total) >= abs(inc):
        c += (total - t) + inc
    else:
        c += (inc - t) + total
    return t, c


def kahan_mean(values: Sequence[float]) -> float:
    """The mean as Prometheus computes avg and avg_over_time: a compensated sum while it stays
    finite, switching to an incremental mean once the sum would overflow."""
    total, c, count = values[0], 0.0, 1.0
    mean = 0.0
    incremental = False
    for f in values[1:]:
        count += 1
        if not incremental:
            new_total, new_c = kahan_inc(f, total, c)
            if not math.isinf(new_total):
                total, c = new_total, new_c
                continue
            incremental = True
            mean = total / (count - 1)
            c /= count - 1
        q = (count - 1) / count
        mean, c = kahan_inc(f / count, q * mean, q * c)
    if incremental:
        return mean + c
    return total / count + c / count


def format_float(v: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64)."""
    if v != v:
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    r = repr(v)
    if "e" in r or "E" in r:
        from decimal import Decimal

        r = format(Decimal(r), "f")
    if "." in r:
        r = r.rstrip("0").rstrip(".")
    return r


def format_float_e(v: float) -> str:
    """Go's strconv.FormatFloat(v, 'e', -1, 64): shortest digits, a two-digit exponent."""
    if v != v:
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    from decimal import Decimal

    sign, digits, exponent = Decimal(repr(v)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = exponent + len(digits) - 1 if text != "0" else 0
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"


def format_sample_value(v: float) -> str:
    """A sample value as Prometheus' JSON API writes it (util/jsonutil.MarshalValue):
    'f' format, but 'e' below 1e-6 and from 1e21 on (`1e-07`, `1e+21`)."""
    magnitude = abs(v)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        return format_float_e(v)
    return format_float(v)
