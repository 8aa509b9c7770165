"""Where the local runtime keeps its state: `.orchestrix/` in the working directory."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_PORT = 8080
LOCAL_ISSUER = "orchestrix-local"
LOCAL_AUDIENCE = "orchestrix"


def home() -> Path:
    path = Path(os.environ.get("ORCHESTRIX_HOME") or Path.cwd() / ".orchestrix").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def port() -> int:
    return int(os.environ.get("PORT") or DEFAULT_PORT)


def server_url() -> str:
    return os.environ.get("ORCHESTRIX_URL") or f"http://127.0.0.1:{port()}"
