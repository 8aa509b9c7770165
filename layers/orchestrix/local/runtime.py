"""`orchestrix dev`: the whole stack in one process on 127.0.0.1.

Embedded PostgreSQL (or DATABASE_URL) with migrations applied, a moto server for the AWS APIs,
the API Gateway emulator in front of the real handler modules, and the scheduler on an
adjustable clock.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import threading
from typing import Any

from orchestrix import bootstrap, wiring
from orchestrix.adapters.clock import AdjustableClock
from orchestrix.adapters.postgres import migrations
from orchestrix.local import devkeys, postgres, recovery, workflow_functions
from orchestrix.local.aws import LocalAws
from orchestrix.local.durations import parse_duration
from orchestrix.local.event_rules import LocalEventDispatcher
from orchestrix.local.functions import FunctionHost
from orchestrix.local.gateway import Gateway, GatewayServer
from orchestrix.local.home import LOCAL_AUDIENCE, LOCAL_ISSUER, home
from orchestrix.local.one_time import MotoOneTimeSchedules
from orchestrix.local.scheduler import LocalScheduler, ScheduleSwitches
from orchestrix.settings import Settings

log = logging.getLogger(__name__)


class PortUnavailable(Exception):
    """The gateway cannot listen on its port; the message is the one line a user sees."""

    def __init__(self, port: int, error: OSError) -> None:
        if error.errno == errno.EADDRINUSE:
            message = f"port {port} is in use: set PORT=<another port> (or pass --port) and retry"
        else:
            message = f"cannot listen on 127.0.0.1:{port}: {error.strerror or error}"
        super().__init__(message)
        self.port = port


def check_port(port: int) -> None:
    """Fail before starting PostgreSQL and the AWS emulator when the port is taken. With
    SO_REUSEADDR, as the gateway binds, so a port left in TIME_WAIT by a restart counts free."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise PortUnavailable(port, exc) from None


class LocalRuntime:
    def __init__(self, port: int, verbose: bool = False) -> None:
        self.port = port
        self.verbose = verbose
        self.url = f"http://127.0.0.1:{port}"
        self._db: postgres.LocalDatabase | None = None
        self._aws: LocalAws | None = None
        self._server: GatewayServer | None = None
        self._serve_thread: threading.Thread | None = None
        self.scheduler: LocalScheduler | None = None
        self.clock = AdjustableClock(home() / "clock.json")
        self.recovered: str | None = None  # what start() put back into the AWS emulator

    def start(self) -> None:
        """Start everything; PortUnavailable when the gateway cannot listen (what was already
        started is stopped again by `stop()`)."""
        check_port(self.port)
        self._db = postgres.start()
        migrations.apply(self._db.dsn)
        self._aws = LocalAws()
        self._aws.start()
        os.environ.update(
            {
                "ORCHESTRIX_LOCAL": "1",
                "ORCHESTRIX_STAGE": "local",
                "DATABASE_URL": self._db.dsn,
                "OIDC_ISSUER": LOCAL_ISSUER,
                "OIDC_AUDIENCE": LOCAL_AUDIENCE,
                "OIDC_JWKS_URL": devkeys.jwks_url(),
                "PUBLIC_URL": self.url,  # notification links point back at this server
                "POWERTOOLS_SERVICE_NAME": "orchestrix",
                "POWERTOOLS_LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            }
        )
        settings = Settings.from_env()
        host = FunctionHost()
        events = LocalEventDispatcher(
            host.invoke,
            stage=settings.stage,
            state_machine_arn_prefix=workflow_functions.state_machine_arn_prefix(
                settings.state_machine_prefix
            ),
        )
        switches = ScheduleSwitches(self.clock)  # rule evaluation runs only while rules exist
        bootstrap.configure(
            settings=settings,
            clock=self.clock,
            event_dispatch=events.dispatch,
            schedule_switches=switches,
        )
        self._aws.provision(settings)
        host.load_all()
        # workflows: state machines invoke the wiring functions through moto's Lambda
        workflow_functions.register_functions(host.invoke)
        # auto-remediation (and any other declared state machine), as the CDK deploys them
        workflow_functions.create_state_machines(settings.state_machine_prefix)
        workflow_functions.write_endpoint(home(), self._aws.url)
        # The emulator forgot every workflow when it last stopped; the database did not.
        machines = recovery.recreate_machines()
        one_time = MotoOneTimeSchedules(
            bootstrap.boto3_client("scheduler"), settings.schedule_group_name
        )
        self.scheduler = LocalScheduler(
            self.clock, host.invoke, one_time=one_time, switches=switches
        )
        gateway = Gateway(host, local_routes={("POST", "/_local/tick"): self.tick})
        try:  # taken since check_port: another process was quicker
            self._server = GatewayServer(gateway, self.port, verbose=self.verbose)
        except OSError as exc:
            raise PortUnavailable(self.port, exc) from None
        # Listening, not serving yet: a request now waits until every interrupted execution
        # is settled or started again, so none can read one the engine does not know.
        recovered, restarted = recovery.recover_executions()
        recovered.machines = machines
        remediations = recovery.recover_remediations()  # they follow their workflow runs
        self.recovered = recovery.summary(recovered, remediations)
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever, name="orchestrix-gateway", daemon=True
        )
        self._serve_thread.start()
        recovery.wait_until_waiting_again(restarted)  # their steps may call this server
        self.scheduler.start()

    def tick(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        assert self.scheduler is not None
        try:
            by = parse_duration(str(body.get("advance") or "0s"))
        except ValueError as exc:
            return 400, {"status": 400, "title": "Bad Request", "detail": str(exc)}
        fired = self.scheduler.advance(by)
        fired += self.scheduler.run_due()
        return 200, {
            "now": self.clock.now().isoformat(),
            "offset_seconds": self.clock.offset.total_seconds(),
            "fired": [f.as_dict() for f in fired],
        }

    def stop(self) -> None:
        if self._aws is not None:  # workflows: no engine thread may outlive the moto server
            workflow_functions.stop_executions()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self._aws is not None:
            self._aws.stop()
        with contextlib.suppress(RuntimeError):  # no database was ever configured
            bootstrap.database().close()
        if self._db is not None:
            self._db.stop()

    @staticmethod
    def routes() -> list[str]:
        return [f"{r.method} {r.path}" for r in wiring.ROUTES]
