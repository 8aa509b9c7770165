"""Loads the real handler modules from `functions/<name>/handler.py` and invokes them in
process, one at a time per function, like a single warm Lambda container."""

from __future__ import annotations

import importlib.util
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrix import wiring

Handler = Callable[[dict[str, Any], Any], Any]


def functions_dir() -> Path:
    override = os.environ.get("ORCHESTRIX_FUNCTIONS_DIR")
    if override:
        return Path(override)
    # layers/orchestrix/local/functions.py -> repository root
    return Path(__file__).resolve().parents[3] / "functions"


@dataclass
class LambdaContext:
    """The attributes Powertools and our handlers read from the real context object."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_s - (time.monotonic() - self.started)
        return max(0, int(left * 1000))


class FunctionHost:
    def __init__(self, directory: Path | None = None) -> None:
        self._dir = directory or functions_dir()
        self._handlers: dict[str, Handler] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._load_lock = threading.Lock()

    def handler(self, name: str) -> Handler:
        with self._load_lock:
            if name not in self._handlers:
                path = self._dir / name / "handler.py"
                spec = importlib.util.spec_from_file_location(f"orchestrix_fn_{name}", path)
                if spec is None or spec.loader is None:
                    raise FileNotFoundError(f"no handler module at {path}")
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                self._handlers[name] = module.handler
                self._locks[name] = threading.Lock()
            return self._handlers[name]

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        fn = wiring.function(name)
        handler = self.handler(name)
        context = LambdaContext(name, fn.memory_mb, fn.timeout_s)
        with self._locks[name]:
            return handler(event, context)

    def load_all(self) -> None:
        for fn in wiring.FUNCTIONS:
            self.handler(fn.name)
