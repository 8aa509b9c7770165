"""Prometheus rule files (YAML `groups:`) to rule drafts and back."""

from __future__ import annotations

from typing import Any

import yaml

from orchestrix.domain import storable
from orchestrix.domain.alerting.durations import format_duration, parse_duration
from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.domain.errors import FieldError, ValidationFailed
from orchestrix.services.rule_validation import MIN_INTERVAL_S, RuleDraft

MAX_RULES = 5000


def _fail(loc: tuple[str | int, ...], msg: str) -> ValidationFailed:
    return ValidationFailed([FieldError(("body", *loc), msg)])


def _duration(value: Any, loc: tuple[str | int, ...]) -> int:
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise _fail(loc, str(exc)) from None


def _strings(value: Any, loc: tuple[str | int, ...]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(loc, "must be a mapping of strings")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def load_rule_file(text: str) -> tuple[list[RuleDraft], list[str]]:
    """Alerting rules of every group; recording rules are skipped with a warning."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(("file",), f"not valid YAML: {exc}") from None
    except RecursionError:
        raise _fail(("file",), f"nested deeper than {storable.MAX_DEPTH} levels") from None
    # NUL text, self-referring aliases or an alias bomb: refused before anything walks it.
    found = storable.first_problem(doc, ("file",))
    if found is not None:
        raise _fail(*found)
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        raise _fail(("groups",), "a rule file is a mapping with a `groups` list")
    drafts: list[RuleDraft] = []
    warnings: list[str] = []
    seen_groups: set[str] = set()
    for gi, group in enumerate(doc["groups"]):
        loc: tuple[str | int, ...] = ("groups", gi)
        if not isinstance(group, dict) or not group.get("name"):
            raise _fail((*loc, "name"), "every group needs a name")
        name = str(group["name"])
        if name in seen_groups:
            raise _fail((*loc, "name"), f"group {name!r} appears twice")
        seen_groups.add(name)
        interval = _duration(group.get("interval", "1m"), (*loc, "interval"))
        if interval < MIN_INTERVAL_S:
            warnings.append(
                f"group {name!r}: interval {format_duration(interval)} raised to 1m "
                "(rules are evaluated on a one-minute schedule)"
            )
            interval = MIN_INTERVAL_S
        for ri, raw in enumerate(group.get("rules") or []):
            rloc = (*loc, "rules", ri)
            if not isinstance(raw, dict):
                raise _fail(rloc, "a rule is a mapping")
            if "record" in raw:
                warnings.append(f"group {name!r}: recording rule {raw['record']!r} skipped")
                continue
            if "alert" not in raw or "expr" not in raw:
                raise _fail(rloc, "an alerting rule needs `alert` and `expr`")
            drafts.append(
                RuleDraft(
                    name=str(raw["alert"]),
                    expr=str(raw["expr"]),
                    group=name,
                    interval_s=interval,
                    for_s=_duration(raw.get("for", "0s"), (*rloc, "for")),
                    keep_firing_for_s=_duration(
                        raw.get("keep_firing_for", "0s"), (*rloc, "keep_firing_for")
                    ),
                    labels=_strings(raw.get("labels"), (*rloc, "labels")),
                    annotations=_strings(raw.get("annotations"), (*rloc, "annotations")),
                )
            )
    if len(drafts) > MAX_RULES:
        raise _fail(("groups",), f"at most {MAX_RULES} rules per import")
    return drafts, warnings


def dump_rule_file(rules: list[AlertRule]) -> str:
    """Enabled rules as a rule file Prometheus (and `promtool check rules`) accepts."""
    groups: dict[str, dict[str, Any]] = {}
    for rule in rules:
        if not rule.enabled or rule.anomaly is not None or rule.language != "promql":
            # Prometheus has no anomaly or log rules: exporting the bare expr would mislead
            continue
        group = groups.setdefault(
            rule.group,
            {"name": rule.group, "interval": format_duration(rule.interval_s), "rules": []},
        )
        entry: dict[str, Any] = {"alert": rule.name, "expr": rule.expr}
        if rule.for_s:
            entry["for"] = format_duration(rule.for_s)
        if rule.keep_firing_for_s:
            entry["keep_firing_for"] = format_duration(rule.keep_firing_for_s)
        if rule.labels:
            entry["labels"] = dict(rule.labels)
        if rule.annotations:
            entry["annotations"] = dict(rule.annotations)
        group["rules"].append(entry)
    return yaml.safe_dump({"groups": list(groups.values())}, sort_keys=False, allow_unicode=True)
