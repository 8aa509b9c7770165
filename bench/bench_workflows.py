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
    return compile_section() + "\n" + executions_section()


def compile_section() -> str:
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


# --- executions started per second through the local API ------------------------------

START_SECONDS = 5.0


def _starts(port: int, token: str, path: str, clients: int) -> tuple[list[str], list[float]]:
    """POST execute from `clients` connections for START_SECONDS: (execution ids, ms each)."""
    import http.client
    import threading

    ids: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + START_SECONDS
    body = json.dumps({"input": {}})
    headers = {"Authorization": token, "Content-Type": "application/json"}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[tuple[str, float]] = []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            assert response.status == 201, payload
            mine.append((json.loads(payload)["id"], (time.perf_counter() - t0) * 1000))
        conn.close()
        with lock:
            ids.extend(i for i, _ in mine)
            latencies.extend(ms for _, ms in mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ids, latencies


def executions_section() -> str:
    import logging
    import os
    import threading

    import boto3
    from moto import mock_aws

    from bench.bench_api import _database
    from orchestrix import bootstrap
    from orchestrix.adapters.clock import AdjustableClock
    from orchestrix.local import devkeys, workflow_functions
    from orchestrix.local.aws import free_port
    from orchestrix.local.functions import FunctionHost
    from orchestrix.local.gateway import Gateway, GatewayServer
    from orchestrix.local.home import LOCAL_AUDIENCE, LOCAL_ISSUER
    from orchestrix.settings import Settings

    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    dsn, server = _database()
    rows: list[str] = []
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        settings = Settings(
            local=True,
            database_url=dsn,
            db_pool_size=8,
            oidc_issuer=LOCAL_ISSUER,
            oidc_audience=LOCAL_AUDIENCE,
            oidc_jwks_url=devkeys.jwks_url(),
        )
        bootstrap.configure(settings=settings, clock=AdjustableClock())
        boto3.client("events").create_event_bus(Name=settings.event_bus_name)
        host = FunctionHost()
        workflow_functions.register_functions(host.invoke)
        gateway = GatewayServer(Gateway(host), port := free_port())
        thread = threading.Thread(target=gateway.serve_forever, daemon=True)
        thread.start()
        token = "Bearer " + devkeys.mint_token("bench", ["editor"])
        try:
            # reference: the engine alone, boto3 start_execution with no API or database
            sfn = boto3.client("stepfunctions")
            machine = sfn.create_state_machine(
                name="bench-ref",
                definition=json.dumps({"StartAt": "s", "States": {"s": {"Type": "Succeed"}}}),
                roleArn="arn:aws:iam::123456789012:role/bench",
            )["stateMachineArn"]
            count, t0 = 0, time.monotonic()
            while time.monotonic() - t0 < START_SECONDS:
                sfn.start_execution(stateMachineArn=machine, name=f"ref-{count}", input="{}")
                count += 1
            reference = count / (time.monotonic() - t0)
            rows.append(f"| boto3 `start_execution` only (reference) | 1 | {reference:.0f} | – |")
            for clients in (1, 4):
                created = bootstrap.workflow_service().create(
                    devkeys_principal("bench"),
                    {"name": f"bench-{clients}", "steps": [{"id": "done", "type": "succeed"}]},
                )[0]
                path = f"/api/v1/workflows/{created.id}/execute"
                started = time.monotonic()
                ids, latencies = _starts(port, token, path, clients)
                rate = len(ids) / (time.monotonic() - started)
                latencies.sort()
                rows.append(
                    f"| `POST /api/v1/workflows/{{id}}/execute` | {clients} | {rate:.0f} | "
                    f"{statistics.median(latencies):.1f} ms |"
                )
        finally:
            workflow_functions.stop_executions()
            gateway.shutdown()
            gateway.server_close()
            bootstrap.database().close()
            server.cleanup()  # type: ignore[attr-defined]
    return (
        "\n".join(
            [
                "## Workflow executions started per second (local API)",
                "",
                "Executions of a one-step workflow started through the local gateway over HTTP "
                "(authorizer, handler, input check, PostgreSQL insert + audit row, Step Functions "
                f"`StartExecution` on moto's engine), for {START_SECONDS:.0f} s per row; the "
                "reference row starts executions with boto3 alone against the same engine.",
                "",
                "| path | clients | executions/s | median latency |",
                "|---|---:|---:|---:|",
                *rows,
            ]
        )
        + "\n"
    )


def devkeys_principal(tenant: str) -> Any:
    from orchestrix.domain.identity import Principal, Role

    return Principal(tenant, "bench", roles=frozenset({Role.EDITOR}))


if __name__ == "__main__":
    print(run())
