"""The control-flow graph of one step list (the workflow, or one parallel branch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orchestrix.domain.workflow.model import AnyStep, ConditionStep, FailStep, SucceedStep


@dataclass(frozen=True)
class Edge:
    source: int  # index of the step in its list
    field: str  # "next", "then", "else", "on_error" or "" for the implicit next step
    target: str  # step id


def edges(steps: Sequence[AnyStep]) -> list[Edge]:
    """Every transition a step list can take, implicit fall-through included."""
    found: list[Edge] = []
    for index, step in enumerate(steps):
        following = steps[index + 1].id if index + 1 < len(steps) else None
        if isinstance(step, SucceedStep | FailStep):
            continue
        if isinstance(step, ConditionStep):
            found.append(Edge(index, "then", step.then))
            if step.else_ is not None:
                found.append(Edge(index, "else", step.else_))
            elif following is not None:
                found.append(Edge(index, "", following))
            continue
        if step.next is not None:
            found.append(Edge(index, "next", step.next))
        elif following is not None:
            found.append(Edge(index, "", following))
        on_error = getattr(step, "on_error", None)
        if on_error is not None:
            found.append(Edge(index, "on_error", on_error))
    return found


def reachable(count: int, adjacency: dict[int, list[int]]) -> set[int]:
    seen = {0} if count else set()
    stack = list(seen)
    while stack:
        for nxt in adjacency.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def cycles(count: int, adjacency: dict[int, list[int]]) -> list[list[int]]:
    """Strongly connected components that loop (Tarjan, iterative), each in index order."""
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    found: list[list[int]] = []
    counter = 0
    for root in range(count):
        if root in index_of:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = adjacency.get(node, [])
            if child < len(successors):
                work.append((node, child + 1))
                nxt = successors[child]
                if nxt not in index_of:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index_of[nxt])
                continue
            if low[node] == index_of[node]:
                component: list[int] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in adjacency.get(node, []):
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found
