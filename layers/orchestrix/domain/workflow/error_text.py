"""What tenants see of a step's error: its type and message, never the server's stack.

A Lambda error reaches Step Functions as the runtime's JSON, `{"errorType", "errorMessage",
"stackTrace": ['  File "/var/task/handler.py", line 15, ...']}`; Step Functions copies it into
the execution's `cause`, into the `Cause` a Catch stores at `$.errors.<step>`, and into the
history. The stack names files and lines of Orchestrix's code: it stays in the function's
logs for operators, and every value shown through the API passes through `without_traces`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

_MAX_DEPTH: Final = 64
# A traceback line, then any absolute path to a Python file (e.g. in an OSError message).
_TRACE_LINE: Final = re.compile(r'\s*File "[^"]*", line \d+(?:, in [^\n]*)?\n?')
_PY_PATH: Final = re.compile(r"(?<![\w:/.])(?:/[\w.@+-]+)+\.py[cd]?\b")


def error_message(raw: Any) -> Any:
    """The message of a Lambda runtime error JSON (its `errorMessage`), else `raw` scrubbed."""
    if not isinstance(raw, str):
        return without_traces(raw)
    try:
        parsed = json.loads(raw)
    except ValueError:
        return _scrub(raw)
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return _scrub(str(parsed["errorMessage"]))
    return _scrub(raw) if not isinstance(parsed, dict | list) else without_traces(parsed)


def without_traces(value: Any, depth: int = 0) -> Any:
    """`value` (JSON) with every embedded Lambda error or traceback reduced to its message;
    `Cause` fields (what a Catch stores) lose file paths too. Other strings are the tenant's
    own data (an http step's answer) and keep their paths."""
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        if "stackTrace" in value and "errorMessage" in value:
            return {k: without_traces(v, depth + 1) for k, v in value.items() if k != "stackTrace"}
        return {
            k: error_message(v) if k in ("Cause", "cause") else without_traces(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [without_traces(v, depth + 1) for v in value]
    if isinstance(value, str) and (_looks_like_error(value)):
        return _scrub(value)
    return value


def _looks_like_error(text: str) -> bool:
    return ("stackTrace" in text and "errorMessage" in text) or "Traceback (most recent" in text


def _scrub(text: str) -> str:
    if "stackTrace" in text and "errorMessage" in text:
        try:
            parsed = json.loads(text)
        except ValueError:
            pass
        else:
            if isinstance(parsed, dict) and "errorMessage" in parsed:
                return _scrub(str(parsed["errorMessage"]))
    text = _TRACE_LINE.sub("", text)
    if text.startswith("Traceback (most recent call last):"):
        text = text.split("\n")[-1] or text.strip().split("\n")[-1]
    return _PY_PATH.sub("<file>", text)
