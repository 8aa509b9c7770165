"""EventBridge rule matching for the local bus: moto records events but never invokes
Lambda targets, so the local runtime delivers each published event to the functions whose
`wiring.EVENT_RULES` pattern matches, as EventBridge would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrix import wiring


def _matches_value(pattern: list[Any], value: Any) -> bool:
    for allowed in pattern:
        if isinstance(allowed, dict):
            if (
                "prefix" in allowed
                and isinstance(value, str)
                and value.startswith(allowed["prefix"])
            ):
                return True
            if "anything-but" in allowed:
                excluded = allowed["anything-but"]
                excluded = excluded if isinstance(excluded, list) else [excluded]
                if value is not None and value not in excluded:
                    return True
            if "exists" in allowed and (value is not None) == bool(allowed["exists"]):
                return True
        elif value == allowed or (isinstance(value, list) and allowed in value):
            return True
    return False


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    for key, expected in pattern.items():
        value = event.get(key)
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not matches(expected, value):
                return False
        elif not _matches_value(expected, value):
            return False
    return True


class LocalEventDispatcher:
    def __init__(
        self,
        invoke: Callable[[str, dict[str, Any]], Any],
        rules: tuple[wiring.EventRule, ...] = wiring.EVENT_RULES,
        *,
        stage: str = "local",
        state_machine_arn_prefix: str = "",
    ) -> None:
        """`state_machine_arn_prefix`: arn:…:stateMachine:orchestrix-<stage>- as the emulator
        names the stage's machines (see `wiring.STATE_MACHINE_ARN_PREFIX`)."""
        self._invoke = invoke
        self._rules = tuple(
            (rule, rule.pattern_for(stage, state_machine_arn_prefix)) for rule in rules
        )

    def dispatch(self, bus: str, event: dict[str, Any]) -> list[str]:
        """Deliver `event` (EventBridge envelope) to every matching rule's function."""
        delivered = []
        for rule, pattern in self._rules:
            on_this_bus = (rule.bus == "orchestrix") == bus.startswith("orchestrix")
            if on_this_bus and matches(pattern, event):
                self._invoke(rule.function, event)
                delivered.append(rule.function)
        return delivered
