"""What other tools send, turned into alert signals (or a 422 naming the bad field).

Alertmanager's webhook (v4), Prometheus' alert push (`POST /api/v2/alerts`), the PagerDuty
Events API v2 shape, CloudWatch Alarm State Change events and a generic JSON webhook with a
field mapping. Parsing happens before anything is written, so a bad payload writes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from orchestrix import wiring
from orchestrix.domain.alerting.alerts import AlertSignal
from orchestrix.domain.errors import FieldError, ValidationFailed
from orchestrix.domain.identity import TENANT_ID_PATTERN

MAX_ALERTS = 1000
# Alertmanager and Prometheus send this for "no end time".
_ZERO_TIME = "0001-01-01T00:00:00Z"


def _fail(loc: tuple[str | int, ...], msg: str) -> ValidationFailed:
    return ValidationFailed([FieldError(("body", *loc), msg)])


def _time(value: Any, loc: tuple[str | int, ...]) -> datetime | None:
    if value in (None, "", _ZERO_TIME):
        return None
    if not isinstance(value, str):
        raise _fail(loc, "must be an RFC 3339 timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(loc, f"{value!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise _fail(loc, "needs a time zone")
    return None if parsed.year <= 1 else parsed


def _strings(value: Any, loc: tuple[str | int, ...], required: bool = False) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict) or (required and not value):
        raise _fail(loc, "must be a non-empty object of strings" if required else "an object")
    out = {}
    for k, v in value.items():
        if not isinstance(v, str | int | float | bool):
            raise _fail((*loc, str(k)), "must be a string")
        out[str(k)] = str(v)
    return out


def _alerts_list(value: Any, loc: tuple[str | int, ...]) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(loc, "must be a list of alerts")
    if len(value) > MAX_ALERTS:
        raise _fail(loc, f"at most {MAX_ALERTS} alerts per request")
    return value


def alertmanager_webhook(body: Any, now: datetime) -> list[AlertSignal]:
    if not isinstance(body, dict):
        raise _fail((), "expected Alertmanager's webhook JSON object")
    if str(body.get("version", "4")) != "4":
        raise _fail(("version",), "only webhook version 4 is supported")
    signals = []
    for i, raw in enumerate(_alerts_list(body.get("alerts"), ("alerts",))):
        loc: tuple[str | int, ...] = ("alerts", i)
        if not isinstance(raw, dict):
            raise _fail(loc, "must be an object")
        status = raw.get("status", body.get("status"))
        if status not in ("firing", "resolved"):
            raise _fail((*loc, "status"), "must be firing or resolved")
        ends = _time(raw.get("endsAt"), (*loc, "endsAt"))
        signals.append(
            AlertSignal(
                labels=_strings(raw.get("labels"), (*loc, "labels"), required=True),
                firing=status == "firing",
                source="alertmanager",
                at=ends if status == "resolved" and ends else now,
                annotations=_strings(raw.get("annotations"), (*loc, "annotations")),
                starts_at=_time(raw.get("startsAt"), (*loc, "startsAt")),
                generator_url=str(raw.get("generatorURL") or "") or None,
                payload={"receiver": body.get("receiver"), "groupKey": body.get("groupKey")},
            )
        )
    return signals


def prometheus_push(body: Any, now: datetime) -> list[AlertSignal]:
    """Alertmanager's `postableAlerts`: resolved when `endsAt` is in the past."""
    signals = []
    for i, raw in enumerate(_alerts_list(body, ())):
        loc: tuple[str | int, ...] = (i,)
        if not isinstance(raw, dict):
            raise _fail(loc, "must be an object")
        ends = _time(raw.get("endsAt"), (*loc, "endsAt"))
        resolved = ends is not None and ends <= now
        signals.append(
            AlertSignal(
                labels=_strings(raw.get("labels"), (*loc, "labels"), required=True),
                firing=not resolved,
                source="prometheus",
                at=ends if resolved and ends else now,
                annotations=_strings(raw.get("annotations"), (*loc, "annotations")),
                starts_at=_time(raw.get("startsAt"), (*loc, "startsAt")),
                generator_url=str(raw.get("generatorURL") or "") or None,
            )
        )
    return signals


PD_ACTIONS = ("trigger", "acknowledge", "resolve")
PD_SEVERITIES = ("critical", "error", "warning", "info")


def pagerduty_event(body: Any, now: datetime) -> tuple[str, AlertSignal]:
    """(event_action, signal); the signal's dedup_key identifies the alert."""
    if not isinstance(body, dict):
        raise _fail((), "expected a PagerDuty Events API v2 object")
    if not isinstance(body.get("routing_key"), str) or not body["routing_key"]:
        raise _fail(("routing_key",), "is required")
    action = body.get("event_action")
    if action not in PD_ACTIONS:
        raise _fail(("event_action",), "must be trigger, acknowledge or resolve")
    dedup = body.get("dedup_key")
    if action != "trigger" and not dedup:
        raise _fail(("dedup_key",), f"is required to {action}")
    payload = body.get("payload")
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    if action == "trigger":
        if not isinstance(payload, dict):
            raise _fail(("payload",), "is required to trigger")
        for key in ("summary", "source", "severity"):
            if not isinstance(payload.get(key), str) or not payload[key]:
                raise _fail(("payload", key), "is required")
        if payload["severity"] not in PD_SEVERITIES:
            raise _fail(("payload", "severity"), "must be critical, error, warning or info")
        labels = {"alertname": payload["summary"][:200], "source": payload["source"]}
        labels["severity"] = payload["severity"]
        for key in ("component", "group", "class"):
            if payload.get(key):
                labels[key] = str(payload[key])
        annotations = {"summary": payload["summary"]}
        if payload.get("custom_details") is not None:
            annotations["details"] = json.dumps(payload["custom_details"], sort_keys=True)
    key = str(dedup) if dedup else _pd_key(labels)
    signal = AlertSignal(
        labels=labels,
        firing=action == "trigger",
        source="events",
        at=now,
        annotations=annotations,
        dedup_key=key,
        payload={"event_action": action},
    )
    return action, signal


def _pd_key(labels: dict[str, str]) -> str:
    from orchestrix.domain.alerting.fingerprint import fingerprint

    return fingerprint(labels)


NOT_AN_ALARM = "not a CloudWatch Alarm State Change event"


def cloudwatch_alarm(event: dict[str, Any], stage: str) -> tuple[str | None, AlertSignal]:
    """(tenant, signal) for an alarm named `orchestrix.<stage>.<tenant>.<name>`
    (`wiring.ALARM_NAME_PREFIX`); tenant None when the name carries no valid marker for this
    stage — the EventBridge rule filters on the prefix, this re-checks it and the tenant id."""
    detail = event.get("detail")
    detail = detail if isinstance(detail, dict) else {}
    name = detail.get("alarmName")
    state_of = detail.get("state")
    state_of = state_of if isinstance(state_of, dict) else {}
    state = state_of.get("value")
    if not isinstance(name, str) or not name or state not in ("ALARM", "OK", "INSUFFICIENT_DATA"):
        raise _fail(("detail",), NOT_AN_ALARM)
    tenant, short_name = _alarm_marker(name, stage)
    config = detail.get("configuration")
    config = config if isinstance(config, dict) else {}
    description = str(config.get("description") or "")
    at = _time(event.get("time"), ("time",)) or datetime.fromisoformat("1970-01-01T00:00:00+00:00")
    labels = {
        "alertname": short_name,
        "alarm_name": name,
        "account": str(event.get("account") or ""),
        "region": str(event.get("region") or ""),
    }
    signal = AlertSignal(
        labels={k: v for k, v in labels.items() if v},
        firing=state == "ALARM",
        source="cloudwatch",
        at=at,
        annotations={
            "summary": str(state_of.get("reason") or name),
            "description": description,
        },
        dedup_key=str((event.get("resources") or [name])[0]),
        payload={"state": state},
    )
    return tenant, signal


def _alarm_marker(name: str, stage: str) -> tuple[str | None, str]:
    """(tenant, the rest of the name) of `orchestrix.<stage>.<tenant>.<rest>`; (None, name)
    when the name is not marked for this stage or the tenant id is not a valid one."""
    prefix = wiring.ALARM_NAME_PREFIX.replace(wiring.STAGE, stage)
    tenant, dot, rest = name.removeprefix(prefix).partition(".")
    if not name.startswith(prefix) or not dot or not rest:
        return None, name
    if not TENANT_ID_PATTERN.fullmatch(tenant):
        return None, name
    return tenant, rest


def _path(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(doc, dict):
            doc = doc.get(part)
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc


def generic_webhook(body: Any, mapping: dict[str, str], now: datetime) -> list[AlertSignal]:
    """Fields picked from any JSON by dotted paths given as query parameters:
    `name` (required), `status`, `resolved_values`, `dedup_key`, `severity`,
    `label.<name>`, `annotation.<name>`."""
    if "name" not in mapping:
        raise ValidationFailed([FieldError(("query", "name"), "map the alert name: ?name=path")])
    items = body if isinstance(body, list) else [body]
    resolved_values = {
        v.strip().lower() for v in mapping.get("resolved_values", "resolved,ok,closed").split(",")
    }
    signals = []
    for i, item in enumerate(_alerts_list(items, ())):
        name = _path(item, mapping["name"])
        if name in (None, ""):
            raise _fail((i, mapping["name"]), "the mapped alert name is missing")
        labels = {"alertname": str(name)}
        annotations = {}
        for key, path in mapping.items():
            value = _path(item, path)
            if value is None:
                continue
            if key.startswith("label."):
                labels[key[6:]] = str(value)
            elif key.startswith("annotation."):
                annotations[key[11:]] = str(value)
        if "severity" in mapping and _path(item, mapping["severity"]) is not None:
            labels["severity"] = str(_path(item, mapping["severity"])).lower()
        status = _path(item, mapping["status"]) if "status" in mapping else None
        dedup = _path(item, mapping["dedup_key"]) if "dedup_key" in mapping else None
        signals.append(
            AlertSignal(
                labels=labels,
                firing=str(status).lower() not in resolved_values if status is not None else True,
                source="webhook",
                at=now,
                annotations=annotations,
                dedup_key=str(dedup) if dedup not in (None, "") else None,
            )
        )
    return signals
