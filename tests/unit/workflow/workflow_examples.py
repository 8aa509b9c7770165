"""Definitions shared by the workflow unit tests."""

from __future__ import annotations

from typing import Any


def restart_api(
    hook: str = "https://hooks.example/x",
    *,
    settle_seconds: int = 60,
    restart_service: str = "{{ inputs.service }}",
    require_service: bool = False,
) -> dict[str, Any]:
    """The issue's example runbook: check, ask, restart, wait, tell.

    Tests that run it for real point `hook` at a local receiver, shorten the wait and restart
    a fixed ECS service their moto account has.
    """
    inputs: dict[str, Any] = {"type": "object", "properties": {"service": {"type": "string"}}}
    if require_service:
        inputs["required"] = ["service"]
    return {
        "name": "restart-api",
        "description": "Restart the API when its health check fails",
        "inputs": inputs,
        "steps": [
            {
                "id": "check",
                "type": "http",
                "request": {"method": "GET", "url": "http://{{ inputs.service }}/health"},
                "timeout_seconds": 10,
                "retry": {"max_attempts": 3, "interval_seconds": 1, "backoff_rate": 2.0},
                "on_error": "tell",
            },
            {
                "id": "down",
                "type": "condition",
                "if": {"path": "steps.check.status", "op": "ne", "value": 200},
                "then": "ask",
                "else": "ok",
            },
            {
                "id": "ask",
                "type": "approval",
                "message": "Restart {{ inputs.service }}?",
                "timeout_seconds": 3600,
            },
            {
                "id": "restart",
                "type": "aws",
                "action": "ecs:UpdateService",
                "params": {
                    "cluster": "prod",
                    "service": restart_service,
                    "forceNewDeployment": True,
                },
            },
            {"id": "settle", "type": "wait", "seconds": settle_seconds},
            {
                "id": "tell",
                "type": "notify",
                "channel": {"type": "webhook", "url": hook},
                "message": "{{ inputs.service }}: {{ steps.check.status }}",
            },
            {"id": "ok", "type": "succeed"},
        ],
    }


def linear(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"name": "wf", "steps": list(steps)}
