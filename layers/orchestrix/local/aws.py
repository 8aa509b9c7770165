"""The local AWS: a moto server on a loopback port, with Step Functions executing real ASL.

Handlers talk to it with plain boto3 (AWS_ENDPOINT_URL points at it), exactly as they talk
to AWS when deployed.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from orchestrix.settings import Settings

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalAws:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: Any = None

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            # moto's Step Functions engine calls back into "the" moto server at this port.
            "MOTO_PORT": str(self.port),
        }

    def start(self) -> None:
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        default_user_config["stepfunctions"]["execute_state_machine"] = True
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        os.environ.update(self.environment())
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def provision(self, settings: Settings) -> None:
        """Create what the CDK stack would: the event bus and the schedule group."""
        import boto3

        boto3.client("events", region_name=REGION).create_event_bus(Name=settings.event_bus_name)
        boto3.client("scheduler", region_name=REGION).create_schedule_group(
            Name=settings.schedule_group_name
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
