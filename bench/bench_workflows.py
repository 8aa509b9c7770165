"""Workflow definition → validated model → ASL: how long a create/update request spends."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from orchestrix.domain.egress import EgressPolicy
from orchestrix.domain.workflow import parse_workflow
from orchestrix.services.workflow_compiler import compile_workflow

RUNS = 300
ARN = "arn:aws:lambda:us-east-1:123456789012:function:workflow-step"
FUNCTIONS = {kind: ARN for kind in ("http", "notify", "aws", "condition", "approval")}


def fifty_steps() -> dict[str, Any]:
    """50 steps cycling through every kind that matters to the compiler, with templates,
    retries, on_error edges, conditions (native and Lambda-evaluated) and a parallel."""
    steps: list[dict[str, Any]] = []
    for i in range(48):
        sid, nxt = f"s{i}", f"s{i + 1}"
        kind = i % 8
        if kind == 0:
            steps.append(
                {
                    "id": sid,
                    "type": "http",
                    "on_error": "fail_end",
                    "request": {
                        "url": "https://{{ inputs.service }}/health/" + str(i),
                        "headers": {"X-Run": "{{ inputs.run }}"},
                    },
                    "expect_status": [200],
                    "retry": {"max_attempts": 3, "interval_seconds": 1},
                }
            )
        elif kind == 1:
            steps.append(
                {
                    "id": sid,
                    "type": "condition",
                    "then": nxt,
                    "else": "fail_end",
                    "if": {
                        "all": [
                            {"path": f"steps.s{i - 1}.status", "op": "lt", "value": 500},
                            {"path": "inputs.env", "op": "eq", "value": "prod"},
                        ]
                    },
                }
            )
        elif kind == 2:
            steps.append(
                {
                    "id": sid,
                    "type": "notify",
                    "message": "{{ inputs.service }} ok",
                    "channel": {"type": "webhook", "url": "https://hooks.example/x"},
                }
            )
        elif kind == 3:
            steps.append(
                {
                    "id": sid,
                    "type": "aws",
                    "action": "ecs:UpdateService",
                    "params": {"cluster": "prod", "service": "{{ inputs.service }}"},
                }
            )
        elif kind == 4:
            steps.append({"id": sid, "type": "wait", "seconds": "{{ inputs.pause }}"})
        elif kind == 5:
            steps.append(
                {
                    "id": sid,
                    "type": "condition",
                    "then": nxt,
                    "else": "fail_end",
                    "if": {"path": "inputs.teams", "op": "contains", "value": "sre"},
                }
            )
        elif kind == 6:
            steps.append(
                {
                    "id": sid,
                    "type": "approval",
                    "message": "go on {{ inputs.service }}?",
                    "timeout_seconds": 600,
                    "on_error": "fail_end",
                }
            )
        else:
            steps.append(
                {
                    "id": sid,
                    "type": "parallel",
                    "branches": [
                        [{"id": f"{sid}a", "type": "wait", "seconds": 1}],
                        [{"id": f"{sid}b", "type": "wait", "seconds": 1}],
                    ],
                }
            )
    steps.append({"id": "s48", "type": "succeed"})
    steps.append({"id": "fail_end", "type": "fail", "error": "Stopped"})
    return {"name": "bench-fifty", "inputs": {"type": "object"}, "steps": steps}


def _median_us(fn: Callable[[], object]) -> tuple[float, float]:
    for _ in range(10):
        fn()
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95)]


def run() -> str:
    data = fifty_steps()
    egress = EgressPolicy(resolver=lambda host: ["93.184.216.34"])
    workflow = parse_workflow(data, egress=egress)
    asl = compile_workflow(workflow, FUNCTIONS)
    rows = [
        (
            "validate (pydantic + graph + templates + egress)",
            lambda: parse_workflow(data, egress=egress),
        ),
        ("compile to ASL (+ ASL self-check)", lambda: compile_workflow(workflow, FUNCTIONS)),
        (
            "both + JSON encode",
            lambda: json.dumps(compile_workflow(parse_workflow(data, egress=egress), FUNCTIONS)),
        ),
    ]
    lines = [
        "## Workflow validation and compilation",
        "",
        f"One definition of {len(data['steps'])} top-level steps (http with retry/on_error, "
        "native and Lambda-evaluated conditions, notify, aws, templated waits, approvals, "
        f"parallels) → {len(asl['States'])} top-level ASL states, "
        f"{len(json.dumps(asl)) // 1024} KiB of ASL. Egress uses a stub resolver (no DNS). "
        f"Median and p95 of {RUNS} runs after 10 warm-ups, one process.",
        "",
        "| stage | median | p95 |",
        "|---|---:|---:|",
    ]
    for label, fn in rows:
        median, p95 = _median_us(fn)
        lines.append(f"| {label} | {median / 1000:.2f} ms | {p95 / 1000:.2f} ms |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
