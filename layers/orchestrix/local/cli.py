"""The `orchestrix` command: dev, token, api-key create, migrate, tick, promqltest."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from typing import Any

from orchestrix.domain.identity import Role, Scope
from orchestrix.local.home import port, server_url


def _dev(args: argparse.Namespace) -> int:
    from orchestrix.local import devkeys
    from orchestrix.local.runtime import LocalRuntime, PortUnavailable

    runtime = LocalRuntime(args.port or port(), verbose=args.verbose)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        runtime.start()
    except PortUnavailable as exc:
        runtime.stop()
        print(exc, file=sys.stderr)
        return 1
    if runtime.recovered:
        print(f"Restored after restart: {runtime.recovered}", flush=True)
    token = devkeys.mint_token("acme", ["admin"])
    print(
        f"Orchestrix is running at {runtime.url}\n\n"
        f"  admin token for tenant 'acme' (12 h; `orchestrix token --help` for others):\n"
        f"  export TOKEN={token}\n\n"
        f'  curl -H "Authorization: Bearer $TOKEN" {runtime.url}/api/v1/api-keys\n'
        f"  API docs: {runtime.url}/api/v1/docs\n\n"
        "Ctrl-C stops everything; data stays in .orchestrix/.",
        flush=True,
    )
    # With a timeout: a SIGTERM the kernel hands to another thread only flags the main one,
    # which an untimed wait would never notice (seen as `orchestrix dev` ignoring a SIGTERM).
    while not stop.wait(0.5):
        pass
    print("stopping ...", flush=True)
    runtime.stop()
    print("stopped", flush=True)
    return 0


def _token(args: argparse.Namespace) -> int:
    from orchestrix.local import devkeys

    print(devkeys.mint_token(args.tenant, args.role, args.subject, args.ttl))
    return 0


def _local_database() -> Any:
    from orchestrix.adapters.postgres import migrations
    from orchestrix.local import postgres

    db = postgres.start()
    migrations.apply(db.dsn)
    return db


def _api_key_create(args: argparse.Namespace) -> int:
    if args.stage:
        return _api_key_create_on_stage(args)
    from orchestrix import bootstrap
    from orchestrix.domain.identity import Principal
    from orchestrix.settings import Settings

    db = _local_database()
    try:
        bootstrap.configure(settings=Settings(database_url=db.dsn, db_pool_size=1))
        admin = Principal(args.tenant, "cli:api-key-create", roles=frozenset({Role.ADMIN}))
        created = bootstrap.api_key_service().create(
            admin, args.name, [Scope(s) for s in args.scope], None
        )
        bootstrap.database().close()
    finally:
        db.stop()
    print(created.secret)
    print(
        f"id {created.key.id}, tenant {args.tenant}, scopes {','.join(args.scope)}", file=sys.stderr
    )
    return 0


def _api_key_create_on_stage(args: argparse.Namespace) -> int:
    from orchestrix.local.stage_admin import StageAdminError, create_api_key

    try:
        created = create_api_key(args.stage, args.tenant, args.scope, args.name, region=args.region)
    except StageAdminError as exc:
        print(f"orchestrix: {exc}", file=sys.stderr)
        return 2
    print(created["secret"])
    print(
        f"id {created['id']}, tenant {created['tenant_id']}, scopes {','.join(created['scopes'])}"
        f" (stage {args.stage})",
        file=sys.stderr,
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from orchestrix.adapters.postgres import migrations

    db = None if args.database_url else _local_database()
    try:
        applied = migrations.apply(args.database_url or db.dsn)  # type: ignore[union-attr]
    finally:
        if db is not None:
            db.stop()
    print("\n".join(applied) if applied else "nothing to apply")
    return 0


def _tick(args: argparse.Namespace) -> int:
    url = server_url().rstrip("/") + "/_local/tick"
    body = json.dumps({"advance": args.advance}).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            result = json.load(response)
    except urllib.error.HTTPError as exc:
        print(f"tick failed: {exc.code} {exc.read().decode()}", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"cannot reach {url}: {exc.reason} (is `orchestrix dev` running?)", file=sys.stderr)
        return 1
    print(f"clock now {result['now']}")
    for fired in result["fired"]:
        status = "ok" if fired["ok"] else f"FAILED: {fired['error']}"
        print(f"  {fired['at']}  {fired['schedule']} -> {fired['function']}  {status}")
    return 0 if all(f["ok"] for f in result["fired"]) else 1


def _promqltest(args: argparse.Namespace) -> int:
    from orchestrix.promql.cli import main as promqltest_main

    return int(promqltest_main(args.files))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="orchestrix", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="serve everything on 127.0.0.1:$PORT (default 8080)")
    dev.add_argument("--port", type=int, default=None)
    dev.add_argument("--verbose", action="store_true", help="log every HTTP request")
    dev.set_defaults(run=_dev)

    token = sub.add_parser("token", help="print a dev JWT the local authorizer accepts")
    token.add_argument("--tenant", default="acme")
    token.add_argument(
        "--role", action="append", choices=[r.value for r in Role], help="repeatable"
    )
    token.add_argument("--subject", default=None)
    token.add_argument("--ttl", type=int, default=12 * 3600, help="seconds")
    token.set_defaults(run=_token)

    api_key = sub.add_parser(
        "api-key", help="manage API keys (ingestion and role:* keys)"
    ).add_subparsers(dest="action", required=True)
    create = api_key.add_parser("create", help="create a key and print its secret")
    create.add_argument("--tenant", required=True)
    create.add_argument("--scope", action="append", required=True, choices=[s.value for s in Scope])
    create.add_argument("--name", default="cli")
    create.add_argument(
        "--stage",
        default=None,
        help="create the key on a deployed stage (invokes its admin function with your AWS "
        "credentials); default: the local database",
    )
    create.add_argument("--region", default=None, help="AWS region of --stage")
    create.set_defaults(run=_api_key_create)

    migrate = sub.add_parser("migrate", help="apply SQL migrations")
    migrate.add_argument("--database-url", default=None, help="default: the local database")
    migrate.set_defaults(run=_migrate)

    tick = sub.add_parser("tick", help="advance the local clock and run what became due")
    tick.add_argument("--advance", default="0s", help="e.g. 30s, 5m, 1h")
    tick.set_defaults(run=_tick)

    promql = sub.add_parser("promqltest", help="run Prometheus promqltest files")
    promql.add_argument("files", nargs="+")
    promql.set_defaults(run=_promqltest)

    from orchestrix.local.anomaly_cli import add_parser as add_anomaly

    add_anomaly(sub)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "role", None) is None and args.command == "token":
        args.role = ["admin"]
    try:
        return int(args.run(args))
    except BrokenPipeError:
        # The reader went away (`orchestrix anomaly nab … | head`): stop quietly, as other
        # command-line tools do, and keep Python from complaining again when it flushes stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool the pipe stopped


if __name__ == "__main__":
    sys.exit(main())
