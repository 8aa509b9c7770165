"""Checking a Go template against the shape of the data it will be given.

The alert template engine reads missing map keys as "" (Prometheus' label semantics), so a
misspelt field renders blank instead of failing. Walking the parsed template with the data's
shape — objects' fields, lists' elements, through `range`, `with` and variables — finds
every field a template names that the data lacks, before anything is rendered.
"""

from __future__ import annotations

from typing import Any, Final

from orchestrix.domain.alerting.gotemplate import Action, Block, Template, TemplateError

# A shape is a dict of field shapes (an object), a one-element list holding the shape of
# every element, SCALAR, or ANY (not known statically: a function's result, a free map).
SCALAR: Final = "scalar"
ANY: Final = "any"


def check_fields(template: Template, sample: Any, free_maps: frozenset[str] = frozenset()) -> None:
    """TemplateError unless every field and variable `template` names exists in data shaped
    like `sample` (one element in each list); maps named in `free_maps` take any key."""
    shape = _shape(sample, "", free_maps)
    _Checker().nodes(template.tree, shape, {"$": shape})


def _shape(value: Any, name: str, free_maps: frozenset[str]) -> Any:
    if isinstance(value, dict):
        if name in free_maps:
            return ANY
        return {k: _shape(v, k, free_maps) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0], "", free_maps) if value else ANY]
    return SCALAR


class _Checker:
    def nodes(self, nodes: list[Any], dot: Any, variables: dict[str, Any]) -> None:
        for node in nodes:
            if isinstance(node, Action):
                shape = self.pipe(node.pipe, dot, variables)
                if node.decl:
                    variables[node.decl] = shape
            elif isinstance(node, Block):
                self.block(node, dot, variables)

    def block(self, node: Block, dot: Any, variables: dict[str, Any]) -> None:
        shape = self.pipe(node.pipe, dot, variables)
        inner = dot
        if node.kind == "range":
            if shape == SCALAR:
                raise TemplateError("range needs a list, e.g. {{ range .Timeline }}")
            inner = shape[0] if isinstance(shape, list) else ANY
            if len(node.decl) == 2:
                variables[node.decl[0]], variables[node.decl[1]] = SCALAR, inner
            elif node.decl:
                variables[node.decl[0]] = inner
        else:
            if node.decl:
                variables[node.decl[0]] = shape
            if node.kind == "with":
                inner = shape
        self.nodes(node.body, inner, variables)
        self.nodes(node.alt, dot, variables)

    def pipe(self, commands: list[Any], dot: Any, variables: dict[str, Any]) -> Any:
        shape: Any = ANY
        for operands in commands:
            head = operands[0]
            if head[0] == "func":
                for operand in operands[1:]:
                    self.operand(operand, dot, variables)
                shape = ANY
            else:
                shape = self.operand(head, dot, variables)
        return shape

    def operand(self, op: tuple[str, Any], dot: Any, variables: dict[str, Any]) -> Any:
        kind, val = op
        if kind == "pipe":
            return self.pipe(val, dot, variables)
        if kind == "var":
            name, *path = val.split(".")
            if name not in variables:
                raise TemplateError(f'undefined variable "{name}"')
            return _resolve(variables[name], path, val)
        if kind == "field":
            return _resolve(dot, [p for p in val.split(".") if p], val)
        return SCALAR  # a literal


def _resolve(shape: Any, path: list[str], text: str) -> Any:
    for part in path:
        if shape == ANY:
            return ANY
        if not isinstance(shape, dict):
            raise TemplateError(f"{text}: {part} is not a field here (the value has no fields)")
        if part not in shape:
            known = ", ".join(sorted(shape))
            raise TemplateError(f"{text}: unknown field {part}; the fields here are {known}")
        shape = shape[part]
    return shape
