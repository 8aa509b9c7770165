"""Go's fmt for the values alert templates print: `%v` of a float, `printf`, `%.4g`."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any


def format_g(v: float, prec: int) -> str:
    """Go's `%.<prec>g` (Python's %g agrees except for the spelling of NaN and Inf)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return f"%.{prec}g" % v


def format_float_v(v: float) -> str:
    """Go's `%v` of a float64 (strconv 'g', shortest): exponent form when exp < -4 or >= 6."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    sign, digits, exponent = Decimal(repr(v)).as_tuple()
    assert isinstance(exponent, int)
    ds = "".join(map(str, digits))
    exp10 = len(ds) + exponent - 1
    ds = ds.rstrip("0") or "0"
    neg = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{neg}{mant}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    fixed = format(abs(Decimal(repr(v))), "f")
    if "." in fixed:
        fixed = fixed.rstrip("0").rstrip(".")
    return neg + fixed


def format_value(v: Any) -> str:
    """How `{{ x }}` prints a value (Go's fmt.Sprint of the underlying Go value)."""
    if v is None:
        return "<no value>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return format_float_v(v)
    if isinstance(v, dict):
        inner = " ".join(f"{k}:{format_value(v[k])}" for k in sorted(v))
        return f"map[{inner}]"
    if isinstance(v, list | tuple):
        return "[" + " ".join(format_value(x) for x in v) + "]"
    return str(v)


_TOO_LARGE = 1_000_000
_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])")


def sprintf(fmt: str, args: list[Any]) -> str:
    """Go's fmt.Sprintf for the verbs templates use (%s %v %d %f %e %g %q %x %t %%)."""
    out: list[str] = []
    pos = 0
    i = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        flags, width, prec, verb = m.group(1), m.group(2) or "", m.group(3), m.group(4)
        # Go refuses widths and precisions above 1e6 (and so must we: %999999999d is 1 GB)
        if width.isdigit() and int(width) > _TOO_LARGE:
            out.append("%!(BADWIDTH)")
            width = ""
        if prec is not None and prec.isdigit() and int(prec) > _TOO_LARGE:
            out.append("%!(BADPREC)")
            prec = None
        if verb == "%":
            out.append("%")
            continue
        if i >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[i]
        i += 1
        out.append(_one(flags, width, prec, verb, arg))
    out.append(fmt[pos:])
    if i < len(args):
        extra = ", ".join(f"{type(a).__name__}={format_value(a)}" for a in args[i:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _one(flags: str, width: str, prec: str | None, verb: str, arg: Any) -> str:
    spec = flags.replace("#", "") + width + (f".{prec}" if prec is not None else "")
    if verb in "eEfFgG" and isinstance(arg, int | float) and not isinstance(arg, bool):
        v = float(arg)
        if math.isnan(v) or math.isinf(v):
            return format(format_g(v, 1), f">{width}" if width else "")
        if verb in "gG" and prec is None:
            return format(format_float_v(v), f">{width}" if width else "")
        return format(v, spec + verb)
    if verb == "d" and isinstance(arg, int | float) and not isinstance(arg, bool):
        if isinstance(arg, float):
            return f"%!d(float64={format_float_v(arg)})"
        return format(arg, spec + "d")
    if verb in "xX" and isinstance(arg, int) and not isinstance(arg, bool):
        return format(arg, spec + verb)
    if verb == "q":
        return '"' + str(arg).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if verb == "t" and isinstance(arg, bool):
        return "true" if arg else "false"
    text = format_value(arg)
    if prec is not None and verb == "s":
        text = text[: int(prec)]
    if width:
        return text.ljust(int(width)) if "-" in flags else text.rjust(int(width))
    return text
