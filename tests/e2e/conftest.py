"""`orchestrix dev` as a user runs it: a subprocess on a loopback port, driven over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrix.local.aws import free_port

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


@dataclass
class DevServer:
    url: str
    home: Path
    process: subprocess.Popen[bytes]
    log: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "ORCHESTRIX_HOME": str(self.home), "ORCHESTRIX_URL": self.url}

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "orchestrix"), *args],
            env=self.env(),
            cwd=self.home.parent,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def token(self, tenant: str = "acme", role: str = "admin") -> str:
        return self.cli("token", "--tenant", tenant, "--role", role).stdout.strip()

    def request(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, dict(resp.headers), json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, dict(err.headers), json.loads(raw) if raw else None


def start_dev(home: Path, port: int) -> DevServer:
    log = home.parent / f"dev-{port}.log"
    env = {**os.environ, "ORCHESTRIX_HOME": str(home), "PORT": str(port)}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [str(BIN / "orchestrix"), "dev"],
        env=env,
        cwd=home.parent,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = DevServer(f"http://127.0.0.1:{port}", home, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"orchestrix dev exited early:\n{log.read_text()[-3000:]}")
        try:
            if server.request("GET", "/health/ready")[0] == 200:
                return server
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"orchestrix dev not ready in 60 s:\n{log.read_text()[-3000:]}")


def stop_dev(server: DevServer) -> int:
    server.process.send_signal(signal.SIGTERM)
    return server.process.wait(timeout=60)


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    home = tmp_path_factory.mktemp("e2e") / ".orchestrix"
    home.mkdir()
    server = start_dev(home, free_port())
    yield server
    if server.process.poll() is None:
        stop_dev(server)


@pytest.fixture(scope="module")
def wall_clock_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """A server of its own whose clock nobody advances: for peers that stamp what they send
    with the wall clock (the OpenTelemetry SDKs), which the session's `dev` may have left
    behind after other tests' `tick --advance`."""
    home = tmp_path_factory.mktemp("e2e-wall") / ".orchestrix"
    home.mkdir()
    server = start_dev(home, free_port())
    yield server
    if server.process.poll() is None:
        stop_dev(server)


def wait_for_execution(
    dev: DevServer, token: str, execution_id: str, status: str
) -> dict[str, Any]:
    """Poll an execution until it shows `status` (30 s at most)."""
    deadline = time.monotonic() + 30
    shown: dict[str, Any] = {}
    while time.monotonic() < deadline:
        code, _, shown = dev.request("GET", f"/api/v1/executions/{execution_id}", token)
        assert code == 200, shown
        if shown["status"] == status:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"not {status} after 30 s: {shown}")
