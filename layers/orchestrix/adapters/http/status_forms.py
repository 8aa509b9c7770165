"""The subscribe form of the public status page, posted without JavaScript.

A browser posts `application/x-www-form-urlencoded`; the API takes JSON. Before the request
reaches the resolver (which accepts JSON only), a form post to `/status/{slug}/subscribers`
becomes the same JSON body the API documents, and is marked so that the answer is a page a
person can read rather than JSON.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Final
from urllib.parse import parse_qs

FORM: Final = "application/x-www-form-urlencoded"
FORM_MARK: Final = "x-orchestrix-form"  # set here only; a client sending it gets HTML, no more
_FIELDS: Final = ("channel", "address")


def _content_type(event: dict[str, Any]) -> str:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == "content-type":
            return str(value).split(";")[0].strip().lower()
    return ""


def from_form(event: dict[str, Any]) -> dict[str, Any]:
    """The event with a subscribe form's body as JSON; any other event unchanged."""
    if (
        event.get("httpMethod") != "POST"
        or event.get("resource") != "/status/{slug}/subscribers"
        or _content_type(event) != FORM
    ):
        return event
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8", "replace")
    fields = parse_qs(raw, keep_blank_values=True, max_num_fields=200)
    body: dict[str, Any] = {name: fields[name][-1] for name in _FIELDS if name in fields}
    body.setdefault("channel", "email")
    body["component_ids"] = fields.get("component_ids", [])
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
    headers |= {"Content-Type": "application/json", FORM_MARK: "1"}
    return {**event, "headers": headers, "body": json.dumps(body), "isBase64Encoded": False}


def posted_as_form(headers: dict[str, str]) -> bool:
    return any(k.lower() == FORM_MARK for k in headers)
