"""Builds the people, on-call and notification services from bootstrap's components.

Services are cheap to build, so they are built per call and always see the clock and
settings bootstrap currently holds; only the KMS secret box (with its data-key cache) is kept.
"""

from __future__ import annotations

import threading
from typing import Any

from orchestrix import bootstrap
from orchestrix.adapters.secrets import KmsSecretBox
from orchestrix.domain.notifications import SecretBox, Sender
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.services.members import MemberService
from orchestrix.services.notifications import NotificationService, NotificationStores
from orchestrix.services.oncall import OncallService
from orchestrix.services.teams import TeamService

_boxes: dict[tuple[int, str], KmsSecretBox] = {}
_lock = threading.Lock()


def kms_alias() -> str:
    # The CDK stack creates this alias; locally it is created in moto on first use.
    return f"alias/orchestrix-{bootstrap.settings().stage}-secrets"


def secret_box() -> SecretBox:
    client = bootstrap.boto3_client("kms")
    alias = kms_alias()
    with _lock:
        box = _boxes.get((id(client), alias))
        if box is None:
            box = KmsSecretBox.with_alias(client, alias, create=bootstrap.settings().local)
            _boxes[(id(client), alias)] = box
    return box


def _conn(uow: UnitOfWork) -> Any:
    return uow.conn  # type: ignore[attr-defined]


def _members(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.members import PostgresMemberRepository

    return PostgresMemberRepository(_conn(uow), secret_box(), uow.tenant_id)


def _schedules(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.oncall import PostgresScheduleRepository

    return PostgresScheduleRepository(_conn(uow))


def _teams(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.teams import PostgresTeamRepository

    return PostgresTeamRepository(_conn(uow))


def _notifications(uow: UnitOfWork) -> Any:
    from orchestrix.adapters.postgres.notifications import PostgresNotificationRepository

    return PostgresNotificationRepository(_conn(uow))


def member_service() -> MemberService:
    return MemberService(
        bootstrap.unit_of_work, _members, _schedules, bootstrap.clock(), bootstrap.egress_policy()
    )


def team_service() -> TeamService:
    return TeamService(bootstrap.unit_of_work, _teams, _members, bootstrap.clock())


def oncall_service() -> OncallService:
    return OncallService(bootstrap.unit_of_work, _schedules, _members, bootstrap.clock())


def channel_sender() -> Sender:
    from orchestrix.adapters import http_client
    from orchestrix.adapters.clock import SystemClock
    from orchestrix.adapters.notify.dispatch import ChannelSender
    from orchestrix.adapters.notify.ses import SesSender
    from orchestrix.adapters.notify.slack import SlackSender
    from orchestrix.adapters.notify.sns import SnsSmsSender
    from orchestrix.adapters.notify.teams import TeamsSender
    from orchestrix.adapters.notify.webhook import WebhookSender

    s = bootstrap.settings()
    # The same policy as workflow http steps: loopback only in the local runtime.
    egress = bootstrap.egress_policy()
    return ChannelSender(
        {
            "slack": SlackSender(http_client.send, egress),
            "teams": TeamsSender(http_client.send, egress),
            # Signatures carry real time: receivers compare it with their own clocks.
            "webhook": WebhookSender(http_client.send, egress, SystemClock().now),
            "email": SesSender(bootstrap.boto3_client("ses"), s.ses_from_address),
            "sms": SnsSmsSender(bootstrap.boto3_client("sns")),
        },
        public_url=s.public_url,
    )


def notification_service(sender: Sender | None = None) -> NotificationService:
    stores = NotificationStores(notifications=_notifications, members=_members)
    return NotificationService(
        bootstrap.unit_of_work,
        stores,
        sender or channel_sender(),
        secret_box(),
        bootstrap.one_time_scheduler(),
        bootstrap.clock(),
    )
