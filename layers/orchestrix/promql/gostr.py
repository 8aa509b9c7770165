"""Go string literal decoding (PromQL strings and test files use Go escapes).

``\\xHH`` and octal escapes produce raw bytes; bytes that are not valid UTF-8 survive as
surrogate escapes, so invalid label names can be detected and printed like Go does.
"""

from __future__ import annotations

_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, "'": 39, '"': 34}


def unquote(literal: str) -> str:
    """Decode a quoted literal (``"..."``, ``'...'`` or a raw backtick string)."""
    if len(literal) < 2 or literal[0] != literal[-1] or literal[0] not in "\"'`":
        raise ValueError(f"invalid string literal {literal!r}")
    body = literal[1:-1]
    if literal[0] == "`":
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError("trailing backslash")
        esc = body[i + 1]
        if esc in _SIMPLE:
            out.append(_SIMPLE[esc])
            i += 2
        elif esc == "x":
            out.append(int(body[i + 2 : i + 4], 16))
            i += 4
        elif esc in "01234567":
            out.append(int(body[i + 1 : i + 4], 8))
            i += 4
        elif esc in "uU":
            width = 4 if esc == "u" else 8
            out += chr(int(body[i + 2 : i + 2 + width], 16)).encode("utf-8")
            i += 2 + width
        else:
            raise ValueError(f"unknown escape sequence \\{esc}")
    return out.decode("utf-8", "surrogateescape")
