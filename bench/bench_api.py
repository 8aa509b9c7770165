"""API function cold start, and warm latency through the local gateway.

Cold start: median over fresh processes of importing `functions/api/handler.py` and serving
one authenticated list request against a real database, next to a naive reference handler
(Powertools Logger + Tracer + Metrics, resolver, pydantic, psycopg and boto3 imported at
module level, as handlers are commonly written) measured the same way in the same run.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5

_OURS = r"""
import json, os, sys, time
t0 = time.perf_counter()
sys.path.insert(0, os.path.join(os.environ["ROOT"], "functions", "api"))
import handler
event = json.loads(os.environ["EVENT"])
class Ctx:
    function_name = "api"; memory_limit_in_mb = 512; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:1:function:api"
    def get_remaining_time_in_millis(self): return 10000
response = handler.handler(event, Ctx())
assert response["statusCode"] == 200, response
print(json.dumps({"ms": (time.perf_counter() - t0) * 1000}))
"""

_NAIVE = r"""
import json, os, time
t0 = time.perf_counter()
import boto3, psycopg, pydantic
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
logger, tracer, metrics = Logger(), Tracer(), Metrics(namespace="bench")
app = APIGatewayRestResolver(enable_validation=True)
class Key(pydantic.BaseModel):
    id: str
@app.get("/api/v1/api-keys")
def keys() -> list[Key]:
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute("SELECT 1")
    return []
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event, context):
    return app.resolve(event, context)
class Ctx:
    function_name = "api"; memory_limit_in_mb = 512; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:1:function:api"
    def get_remaining_time_in_millis(self): return 10000
response = handler(json.loads(os.environ["EVENT"]), Ctx())
assert response["statusCode"] == 200, response
print(json.dumps({"ms": (time.perf_counter() - t0) * 1000}))
"""


def _event() -> dict[str, object]:
    return {
        "resource": "/api/v1/api-keys",
        "path": "/api/v1/api-keys",
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": {
            "requestId": "bench",
            "stage": "local",
            "resourcePath": "/api/v1/api-keys",
            "httpMethod": "GET",
            "authorizer": {"tenant_id": "bench", "subject": "b", "roles": "admin"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _cold(script: str, dsn: str) -> float:
    env = {
        **os.environ,
        "ROOT": str(ROOT),
        "EVENT": json.dumps(_event()),
        "DATABASE_URL": dsn,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "bench",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["ms"])


def _database() -> tuple[str, object]:
    from orchestrix.adapters.postgres import migrations

    home = Path(tempfile.mkdtemp(prefix="orchestrix-bench-"))
    os.environ.setdefault("XDG_RUNTIME_DIR", str(home))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver import get_server

        server = get_server(home / "pg", cleanup_mode="stop")
    dsn = server.get_uri()
    migrations.apply(dsn)
    return dsn, server


def _load(port: int, token: str, clients: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            conn.request("GET", "/api/v1/api-keys?limit=20", headers={"Authorization": token})
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status
            mine.append((time.perf_counter() - t0) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def _warm(dsn: str) -> list[tuple[int, float, float, float]]:
    from orchestrix import bootstrap
    from orchestrix.adapters.clock import AdjustableClock
    from orchestrix.local import devkeys
    from orchestrix.local.aws import free_port
    from orchestrix.local.functions import FunctionHost
    from orchestrix.local.gateway import Gateway, GatewayServer
    from orchestrix.local.home import LOCAL_AUDIENCE, LOCAL_ISSUER
    from orchestrix.settings import Settings

    os.environ["ORCHESTRIX_HOME"] = tempfile.mkdtemp(prefix="orchestrix-bench-home-")
    settings = Settings(
        local=True,
        database_url=dsn,
        db_pool_size=8,
        oidc_issuer=LOCAL_ISSUER,
        oidc_audience=LOCAL_AUDIENCE,
        oidc_jwks_url=devkeys.jwks_url(),
    )
    bootstrap.configure(settings=settings, clock=AdjustableClock())
    port = free_port()
    server = GatewayServer(Gateway(FunctionHost()), port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = "Bearer " + devkeys.mint_token("bench", ["admin"])
    rows = []
    try:
        _load(port, token, 1, 1.0)  # warm up: imports, pool, JWKS
        for clients in (1, 8, 32):
            lat = sorted(_load(port, token, clients, 4.0))
            p50 = lat[len(lat) // 2]
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            rows.append((clients, p50, p99, len(lat) / 4.0))
    finally:
        server.shutdown()
        bootstrap.database().close()
    return rows


def run() -> str:
    dsn, server = _database()
    try:
        ours = [_cold(_OURS, dsn) for _ in range(RUNS)]
        naive = [_cold(_NAIVE, dsn) for _ in range(RUNS)]
        warm = _warm(dsn)
    finally:
        server.cleanup()  # type: ignore[attr-defined]
    ours_ms, naive_ms = statistics.median(ours), statistics.median(naive)
    lines = [
        "## API function: cold start and warm latency",
        "",
        f"Cold start = fresh `python` process importing the handler module and serving one "
        f"authenticated `GET /api/v1/api-keys` against PostgreSQL (median of {RUNS}). The "
        "reference is a naive handler importing Powertools Logger/Tracer/Metrics, the "
        "resolver, pydantic, psycopg and boto3 at module level, measured in the same run.",
        "",
        "| handler | median ms | runs (ms) |",
        "|---|---:|---|",
        f"| orchestrix `functions/api` | {ours_ms:.0f} | {', '.join(f'{v:.0f}' for v in ours)} |",
        f"| naive reference | {naive_ms:.0f} | {', '.join(f'{v:.0f}' for v in naive)} |",
        "",
        f"Ratio: {ours_ms / naive_ms:.2f}× the reference (goal: ≤ 400 ms).",
        "",
        "Warm `GET /api/v1/api-keys?limit=20` through the local gateway emulator (authorizer "
        "result cached as API Gateway does, one in-process handler instance as in one warm "
        "Lambda container), keep-alive HTTP clients on loopback, 4 s per row:",
        "",
        "| clients | p50 ms | p99 ms | requests/s |",
        "|---:|---:|---:|---:|",
    ]
    for clients, p50, p99, rps in warm:
        lines.append(f"| {clients} | {p50:.1f} | {p99:.1f} | {rps:.0f} |")
    return "\n".join(lines)
