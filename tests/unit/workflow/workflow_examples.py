"""Definitions shared by the workflow unit tests."""

from __future__ import annotations

import copy
from typing import Any

RESTART_API: dict[str, Any] = {
    "name": "restart-api",
    "description": "Restart the API when its health check fails",
    "inputs": {"type": "object", "properties": {"service": {"type": "string"}}},
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
                "service": "{{ inputs.service }}",
                "forceNewDeployment": True,
            },
        },
        {"id": "settle", "type": "wait", "seconds": 60},
        {
            "id": "tell",
            "type": "notify",
            "channel": {"type": "webhook", "url": "https://hooks.example/x"},
            "message": "{{ inputs.service }}: {{ steps.check.status }}",
        },
        {"id": "ok", "type": "succeed"},
    ],
}


def restart_api() -> dict[str, Any]:
    return copy.deepcopy(RESTART_API)


def linear(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"name": "wf", "steps": list(steps)}
