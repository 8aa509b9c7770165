"""OpenAPI operations of the metrics routes, written out by hand.

Remote write and imports read raw bodies (protobuf, text), and the Prometheus query API
parses its own parameters and answers in Prometheus' own shapes, so Powertools cannot infer
their documentation from signatures. Described here instead — the paths come from
`wiring.ROUTES`, so a route added there without documentation fails the docs test — for
API clients, schemathesis and the tenant-isolation probes alike.
"""

from __future__ import annotations

import re
from typing import Any

from orchestrix import wiring

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_PROBLEM = {"application/problem+json": {"schema": PROBLEM_REF}}

PROMETHEUS_SUCCESS: dict[str, Any] = {
    "type": "object",
    "title": "PrometheusSuccess",
    "required": ["status", "data"],
    "properties": {
        "status": {"const": "success"},
        "data": {},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "infos": {"type": "array", "items": {"type": "string"}},
    },
}
PROMETHEUS_ERROR: dict[str, Any] = {
    "type": "object",
    "title": "PrometheusError",
    "required": ["status", "errorType", "error"],
    "properties": {
        "status": {"const": "error"},
        "errorType": {"type": "string"},
        "error": {"type": "string"},
    },
}
_SUCCESS = {"application/json": {"schema": {"$ref": "#/components/schemas/PrometheusSuccess"}}}
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/PrometheusError"}}}

_TIME = {
    "type": "string",
    "description": "Unix seconds (fractions allowed) or RFC 3339",
    "examples": ["1790000000", "2026-09-21T14:13:20Z"],
}
_DURATION = {
    "type": "string",
    "description": "Seconds, or a Prometheus duration (15s, 1h30m)",
    "examples": ["15s", "60"],
}
_SELECTOR_LIST = {
    "type": "array",
    "items": {"type": "string", "examples": ['up{job="node"}']},
    "description": "Series selectors; a series matching any of them counts",
}
_PARAMETERS: dict[str, tuple[dict[str, Any], bool, str]] = {
    # name: (schema, required, description)
    "query": ({"type": "string", "examples": ["sum by (job) (up)"]}, True, "PromQL expression"),
    "time": (_TIME, False, "Evaluation time; default now"),
    "timeout": (_DURATION, False, "Evaluation timeout"),
    "start": (_TIME, False, "Start of the range"),
    "end": (_TIME, False, "End of the range"),
    "step": (_DURATION, True, "Resolution of a range query"),
    "match[]": (_SELECTOR_LIST, False, "Series selectors"),
    "limit": (
        {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
        False,
        "Most entries to return; negative means all",
    ),
    "metric": ({"type": "string"}, False, "Only this metric family"),
    # Prometheus lower-cases it first: `ALERT` is as good as `alert`; others are bad_data.
    "type": ({"type": "string"}, False, "Only this kind of rule: alert or record (any case)"),
    "rule_name[]": (
        {"type": "array", "items": {"type": "string"}, "description": "Rule names"},
        False,
        "Only rules with these names",
    ),
    "rule_group[]": (
        {"type": "array", "items": {"type": "string"}, "description": "Rule group names"},
        False,
        "Only rules of these groups",
    ),
}
_QUERY_PARAMETERS = {
    "query": ("query", "time", "timeout"),
    "query_range": ("query", "start", "end", "step", "timeout"),
    "labels": ("start", "end", "match[]"),
    "label/{name}/values": ("start", "end", "match[]"),
    "series": ("start", "end", "match[]"),
    "metadata": ("limit", "metric"),
    "query_exemplars": ("query", "start", "end"),
    "format_query": ("query",),
    "rules": ("type", "rule_name[]", "rule_group[]"),
    "alerts": (),
    "status/buildinfo": (),
    "status/runtimeinfo": (),
    "status/flags": (),
    "status/config": (),
    "status/tsdb": ("limit",),
}
_SUMMARIES = {
    "query": "Instant query",
    "query_range": "Range query",
    "labels": "Label names",
    "label/{name}/values": "Values of one label",
    "series": "Series matching selectors",
    "metadata": "Metric metadata (TYPE, HELP, UNIT)",
    "query_exemplars": "Exemplars (none are stored: always empty)",
    "format_query": "The expression, pretty-printed",
    "rules": "The tenant's alerting rules and their alerts, as Prometheus lists them",
    "alerts": "Pending and firing alerts of the tenant's rules",
    "status/buildinfo": "Build information (Prometheus-compatible version)",
    "status/runtimeinfo": "Runtime information",
    "status/flags": "Effective settings, as Prometheus flags",
    "status/config": "The configuration (no scrape configuration: metrics are pushed)",
    "status/tsdb": "Series cardinality of the tenant",
}
_QUERY_ERRORS = {
    "400": ("Bad parameters or PromQL (errorType bad_data)", _ERROR),
    "401": ("Missing or invalid credentials", _PROBLEM),
    "403": ("Not allowed: the viewer role is needed", _ERROR),
    "422": ("The expression cannot be evaluated (errorType execution)", _ERROR),
    "503": ("Timed out or the store is unavailable", _ERROR),
}
_INGEST_ERRORS = {
    "400": "A bad series or sample; `errors[0].loc` names it; nothing of the request is stored",
    "401": "Missing, invalid, revoked or expired credentials",
    "403": "The key lacks the metrics:write scope",
    "413": "Body, decompressed body, series or samples over the limits",
    "415": "Not snappy-compressed protobuf (remote write 1.0) / not a text format",
    "503": "The store is unavailable; retry",
}


def _operation_id(method: str, path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{method} {path}").strip("_")


def _parameter(name: str, *, required: bool) -> dict[str, Any]:
    schema, _, description = _PARAMETERS[name]
    out: dict[str, Any] = {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }
    if schema.get("type") == "array":
        out.update(style="form", explode=True)
    return out


def _form_body(suffix: str, names: tuple[str, ...]) -> dict[str, Any]:
    properties = {}
    for name in names:
        schema = _PARAMETERS[name][0]
        if schema.get("type") == "array":
            # A form repeats the key per value: one value is indistinguishable from a string.
            schema = {"anyOf": [schema["items"], schema], "description": schema["description"]}
        properties[name] = schema
    required = [name for name in names if _required(suffix, name)]
    body_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        body_schema["required"] = required
    return {
        "required": bool(required),  # without required fields, no body at all is fine
        "content": {"application/x-www-form-urlencoded": {"schema": body_schema}},
    }


def _required(suffix: str, name: str) -> bool:
    # /series refuses a request without match[] ("no match[] parameter provided").
    return _PARAMETERS[name][1] or (suffix == "series" and name == "match[]")


def _query_operation(method: str, suffix: str, prefix: str) -> dict[str, Any]:
    names = _QUERY_PARAMETERS[suffix]
    parameters: list[dict[str, Any]] = []
    if "{name}" in suffix:
        parameters.append(
            {
                "name": "name",
                "in": "path",
                "required": True,
                "description": "A label name (URL-encoded)",
                "schema": {"type": "string", "pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"},
            }
        )
    operation: dict[str, Any] = {
        "tags": ["metrics query"],
        "summary": _SUMMARIES[suffix],
        "description": "The Prometheus HTTP API: Prometheus' own parameters, bodies and status "
        "codes, so Grafana and Prometheus clients work unchanged.",
        "operationId": _operation_id(method, f"{prefix}/{suffix}"),
        "responses": {"200": {"description": "Prometheus success", "content": _SUCCESS}},
    }
    if method == "get":
        parameters += [_parameter(name, required=_required(suffix, name)) for name in names]
    else:
        operation["requestBody"] = _form_body(suffix, names)
    if parameters:
        operation["parameters"] = parameters
    for status, (description, content) in _QUERY_ERRORS.items():
        operation["responses"][status] = {"description": description, "content": content}
    return operation


def _ingest_operation(path: str) -> dict[str, Any]:
    if path.endswith("/write"):
        summary = "Prometheus remote write 1.0 (snappy-compressed protobuf WriteRequest)"
        content = {
            "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
        }
        parameters = [
            {
                "name": "Content-Encoding",
                "in": "header",
                "required": False,
                # empty or missing: snappy (what old senders mean by leaving it out)
                "schema": {"type": "string", "enum": ["snappy", ""]},
            }
        ]
    else:
        summary = "Import the Prometheus text format or OpenMetrics (timestamps optional)"
        content = {
            "text/plain": {"schema": {"type": "string"}},
            "application/openmetrics-text": {"schema": {"type": "string"}},
        }
        parameters = []
    responses: dict[str, Any] = {"204": {"description": "Stored"}}
    for status, description in _INGEST_ERRORS.items():
        responses[status] = {"description": description, "content": _PROBLEM}
    operation: dict[str, Any] = {
        "tags": ["metrics"],
        "summary": summary,
        "description": "Needs an API key with the metrics:write scope (Bearer, or the Basic "
        "password). A request is stored whole or refused whole.",
        "operationId": _operation_id("post", path),
        # An empty exposition is a valid (empty) import; remote write needs a message.
        "requestBody": {"required": path.endswith("/write"), "content": content},
        "responses": responses,
        "security": [{"bearer": []}, {"basic": []}],
    }
    if parameters:
        operation["parameters"] = parameters
    return operation


def metrics_paths() -> dict[str, dict[str, Any]]:
    """Path items for every metrics route in `wiring.ROUTES`."""
    paths: dict[str, dict[str, Any]] = {}
    for route in wiring.ROUTES:
        method = route.method.lower()
        if route.function == "metrics_write":
            paths.setdefault(route.path, {})[method] = _ingest_operation(route.path)
        elif route.function == "metrics_query":
            prefix, suffix = _split(route.path)
            paths.setdefault(route.path, {})[method] = _query_operation(method, suffix, prefix)
    return paths


def _split(path: str) -> tuple[str, str]:
    for suffix in _QUERY_PARAMETERS:
        if path.endswith("/" + suffix):
            return path[: -len(suffix) - 1], suffix
    raise KeyError(f"undocumented metrics query route {path}")


def add_to(doc: dict[str, Any]) -> None:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["PrometheusSuccess"] = PROMETHEUS_SUCCESS
    schemas["PrometheusError"] = PROMETHEUS_ERROR
    doc.setdefault("paths", {}).update(metrics_paths())
    tags = doc.setdefault("tags", [])
    known = {tag.get("name") for tag in tags}
    for name in ("metrics", "metrics query"):
        if name not in known:
            tags.append({"name": name})
