"""Turn a submitted definition into a `WorkflowDefinition`, or `WorkflowInvalid` listing every
problem with its location (`["steps", 2, "next"]`), ready for a 422 answer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from orchestrix.domain.egress import EgressDenied, EgressPolicy, EgressUnresolvable
from orchestrix.domain.workflow import graph
from orchestrix.domain.workflow.aws_actions import ALLOWED_AWS_ACTIONS
from orchestrix.domain.workflow.errors import ErrorDetail, TemplateError, WorkflowInvalid
from orchestrix.domain.workflow.model import (
    STEP_TYPES,
    AnyStep,
    AwsStep,
    ConditionStep,
    HttpStep,
    NotifyStep,
    ParallelStep,
    SlackChannel,
    WaitStep,
    WebhookChannel,
    WorkflowDefinition,
)
from orchestrix.domain.workflow.templates import parse, parse_path

Loc = list[str | int]
_TAGS = frozenset(STEP_TYPES) | {"compare", "all", "any", "webhook", "slack", "email", "sms"}
_UNION_FIELDS = frozenset({"if", "channel"})
# Fields holding references or names, never templates.
_NOT_TEMPLATED = frozenset({"id", "type", "next", "then", "else", "on_error", "action", "path"})


def parse_workflow(data: Any, *, egress: EgressPolicy | None = None) -> WorkflowDefinition:
    """Validate `data` fully; literal URLs are checked against `egress` when one is given."""
    try:
        definition = WorkflowDefinition.model_validate(data)
    except ValidationError as exc:
        raise WorkflowInvalid([_from_pydantic(e) for e in exc.errors()]) from None
    errors = validate(definition, egress=egress)
    if errors:
        raise WorkflowInvalid(errors)
    return definition


def validate(definition: WorkflowDefinition, *, egress: EgressPolicy | None) -> list[ErrorDetail]:
    errors: list[ErrorDetail] = []
    if definition.inputs.get("type", "object") != "object":
        errors.append(_err(["inputs", "type"], "inputs must be a JSON Schema of type 'object'"))
    scopes = list(_scopes(definition.steps, ["steps"]))
    first_seen: dict[str, Loc] = {}
    for loc_prefix, steps in scopes:
        for index, step in enumerate(steps):
            loc = [*loc_prefix, index]
            if step.id in first_seen:
                where = _dotted(first_seen[step.id])
                errors.append(_err([*loc, "id"], f"duplicate step id {step.id!r} (also {where})"))
            else:
                first_seen[step.id] = loc
    known_ids = set(first_seen)
    for loc_prefix, steps in scopes:
        errors.extend(_check_graph(loc_prefix, steps, known_ids))
        for index, step in enumerate(steps):
            loc = [*loc_prefix, index]
            errors.extend(_check_step(loc, step, definition, known_ids, egress))
    return errors


def _scopes(steps: Sequence[AnyStep], prefix: Loc) -> Iterator[tuple[Loc, Sequence[AnyStep]]]:
    yield prefix, steps
    for index, step in enumerate(steps):
        if isinstance(step, ParallelStep):
            for b, branch in enumerate(step.branches):
                yield from _scopes(branch, [*prefix, index, "branches", b])


def _check_graph(prefix: Loc, steps: Sequence[AnyStep], known: set[str]) -> list[ErrorDetail]:
    errors: list[ErrorDetail] = []
    position = {step.id: i for i, step in enumerate(steps)}
    adjacency: dict[int, list[int]] = {}
    for edge in graph.edges(steps):
        target = position.get(edge.target)
        if target is None:
            loc = [*prefix, edge.source, edge.field]
            if edge.target in known:
                errors.append(_err(loc, f"step {edge.target!r} is outside this step list"))
            else:
                errors.append(_err(loc, f"unknown step {edge.target!r}"))
            continue
        adjacency.setdefault(edge.source, []).append(target)
    if errors:
        return errors
    reached = graph.reachable(len(steps), adjacency)
    for index, step in enumerate(steps):
        if index not in reached:
            errors.append(_err([*prefix, index], f"step {step.id!r} is unreachable"))
    for component in graph.cycles(len(steps), adjacency):
        if not any(isinstance(steps[i], WaitStep) for i in component):
            names = " → ".join(steps[i].id for i in component)
            errors.append(
                _err([*prefix, component[0]], f"cycle {names} has no wait step; add a wait")
            )
    return errors


def _check_step(
    loc: Loc,
    step: AnyStep,
    definition: WorkflowDefinition,
    known: set[str],
    egress: EgressPolicy | None,
) -> list[ErrorDetail]:
    errors: list[ErrorDetail] = []
    if isinstance(step, AwsStep) and step.action not in ALLOWED_AWS_ACTIONS:
        allowed = ", ".join(ALLOWED_AWS_ACTIONS)
        errors.append(_err([*loc, "action"], f"aws action {step.action!r} is not allowed; "
                                             f"allowed: {allowed}"))  # fmt: skip
    if isinstance(step, ConditionStep):
        for sub_loc, path in _predicate_paths(step.if_, [*loc, "if"]):
            errors.extend(_check_reference(sub_loc, path, definition, known))
    if isinstance(step, WaitStep):
        errors.extend(_check_wait(loc, step))
    body = step.model_dump(
        by_alias=True, exclude={"branches"} if isinstance(step, ParallelStep) else None
    )
    for sub_loc, text in _strings(body, loc):
        try:
            template = parse(text)
        except TemplateError as exc:
            errors.append(_err(sub_loc, f"bad template: {exc}"))
            continue
        for expression in template.expressions:
            errors.extend(_check_reference(sub_loc, expression.source, definition, known))
    if egress is not None:
        for sub_loc, url in _urls(step, loc):
            errors.extend(_check_egress(sub_loc, url, egress))
    return errors


def _check_reference(
    loc: Loc, source: str, definition: WorkflowDefinition, known: set[str]
) -> list[ErrorDetail]:
    try:
        path = parse_path(source)
    except TemplateError as exc:
        return [_err(loc, f"bad template: {exc}")]
    if path[0] == "steps":
        if len(path) < 2 or not isinstance(path[1], str):
            return [_err(loc, f"{source!r} must name a step: steps.<id>...")]
        if path[1] not in known:
            return [_err(loc, f"{source!r} refers to unknown step {path[1]!r}")]
    if path[0] == "inputs" and len(path) > 1:
        declared = definition.inputs.get("properties")
        if isinstance(declared, Mapping) and path[1] not in declared:
            return [_err(loc, f"{source!r} refers to input {path[1]!r}, not declared in inputs")]
    return []


def _check_wait(loc: Loc, step: WaitStep) -> list[ErrorDetail]:
    from datetime import datetime

    field, raw = ("seconds", step.seconds) if step.seconds is not None else ("until", step.until)
    if not isinstance(raw, str):
        return []
    try:
        template = parse(raw)
    except TemplateError:
        return []  # reported by the template pass
    if template.expressions:
        if template.single is None:
            return [_err([*loc, field], f"'{field}' must be a number/timestamp or exactly one "
                                        "{{ expression }}")]  # fmt: skip
        return []
    if field == "seconds":
        return [_err([*loc, field], "'seconds' must be a whole number or a {{ expression }}")]
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        return [_err([*loc, field], "'until' must be an ISO-8601 timestamp with a time zone, "
                                    "e.g. 2030-01-01T00:00:00Z")]  # fmt: skip
    return []


def _check_egress(loc: Loc, url: str, egress: EgressPolicy) -> list[ErrorDetail]:
    try:
        if parse(url).expressions:
            return []  # checked at run time, once rendered
        egress.check_url(url)
    except (TemplateError, EgressUnresolvable):
        return []  # template errors are reported elsewhere; DNS may differ at run time
    except EgressDenied as exc:
        return [_err(loc, f"target refused by the egress policy: {exc.reason}")]
    return []


def _urls(step: AnyStep, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(step, HttpStep):
        yield [*loc, "request", "url"], step.request.url
    elif isinstance(step, NotifyStep):
        if isinstance(step.channel, WebhookChannel):
            yield [*loc, "channel", "url"], step.channel.url
        elif isinstance(step.channel, SlackChannel):
            yield [*loc, "channel", "webhook_url"], step.channel.webhook_url


def _predicate_paths(predicate: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    for key in ("all", "any"):
        children = getattr(predicate, key, None)
        if isinstance(children, list):
            for i, child in enumerate(children):
                yield from _predicate_paths(child, [*loc, key, i])
            return
    yield [*loc, "path"], predicate.path


def _strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key not in _NOT_TEMPLATED:
                yield from _strings(item, [*loc, key])
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, [*loc, i])


def _from_pydantic(error: Mapping[str, Any]) -> ErrorDetail:
    raw = list(error["loc"])
    loc: Loc = [
        part
        for k, part in enumerate(raw)
        if not (
            part in _TAGS and k > 0 and (isinstance(raw[k - 1], int) or raw[k - 1] in _UNION_FIELDS)
        )
    ]
    msg = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "union_tag_invalid":
        ctx = error.get("ctx", {})
        field = str(ctx.get("discriminator", "type")).strip("'")
        loc.append(field)
        msg = f"unknown {field} {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    elif error["type"] == "union_tag_not_found":
        field = str(error.get("ctx", {}).get("discriminator", "type")).strip("'")
        loc.append(field)
        msg = f"'{field}' is required"
    return {"loc": loc, "msg": msg}


def _err(loc: Loc, msg: str) -> ErrorDetail:
    return {"loc": list(loc), "msg": msg}


def _dotted(loc: Loc) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
