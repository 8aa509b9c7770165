"""A warm container survives the rotation of the database password: when a new connection's
login fails with the cached password, it re-reads the secret and logs in again (real
PostgreSQL with password authentication, Secrets Manager in moto)."""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest

from orchestrix import bootstrap
from orchestrix.adapters.clock import AdjustableClock
from orchestrix.adapters.postgres import migrations
from orchestrix.adapters.postgres.database import Database
from orchestrix.adapters.postgres.unit_of_work import PostgresUnitOfWork
from orchestrix.adapters.secrets import DatabaseSecret
from orchestrix.settings import Settings
from tests.api.conftest import in_process_aws

USER = "rotated_owner"


@pytest.fixture(scope="module")
def password_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A PostgreSQL of its own whose USER must log in with a password (the shared test
    server trusts every local login, so a changed password would go unnoticed there)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver import get_server

        # Next to the shared server's directory, which pgserver's OS user can reach.
        data = tmp_path_factory.getbasetemp().parent / f"pg-rotation-{uuid.uuid4().hex[:8]}"
        server = get_server(data, cleanup_mode="delete")
    try:
        root = server.get_uri()
        with psycopg.connect(root, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {USER} LOGIN SUPERUSER PASSWORD 'first'")
            conn.execute(f"CREATE DATABASE rotation OWNER {USER}")
            hba = Path(conn.execute("SHOW hba_file").fetchone()[0])  # type: ignore[index]
            hba.write_text(f"local all {USER} scram-sha-256\n" + hba.read_text())
            conn.execute("SELECT pg_reload_conf()")
        db_root = psycopg.conninfo.make_conninfo(root, dbname="rotation")
        migrations.apply(db_root)
        yield root, psycopg.conninfo.make_conninfo(root, dbname="rotation", user=USER)
    finally:
        server.cleanup()


class CountingSecrets:
    """Secrets Manager (moto) with a count of the reads."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.reads = 0
        self.exceptions = client.exceptions

    def get_secret_value(self, **kwargs: Any) -> Any:
        self.reads += 1
        return self.client.get_secret_value(**kwargs)


@pytest.fixture
def secrets() -> Iterator[Any]:
    with in_process_aws():
        yield boto3.client("secretsmanager")


def write_audit(db: Database, tenant: str) -> None:
    with PostgresUnitOfWork(db, AdjustableClock(), tenant, "tester", None) as uow:
        uow.record("probe.create", "probe", "p1", after={"ok": True})
        uow.commit()


def test_next_unit_of_work_logs_in_with_the_rotated_password(
    password_server: tuple[str, str], secrets: Any
) -> None:
    root, dsn = password_server
    arn = secrets.create_secret(
        Name="orchestrix-it/db/owner",
        SecretString=json.dumps({"username": USER, "password": "first"}),
    )["ARN"]
    counting = CountingSecrets(secrets)
    db = Database(dsn, max_size=2, login=DatabaseSecret(counting, arn))
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    try:
        write_audit(db, tenant)
        assert counting.reads == 1

        # When the rotation function changes the password and the secret, and the pooled
        # connections go away (Aurora pausing, a failover, the pool's max lifetime)
        with psycopg.connect(root, autocommit=True) as conn:
            conn.execute(f"ALTER ROLE {USER} PASSWORD 'second'")
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (USER,),
            )
        secrets.put_secret_value(
            SecretId=arn, SecretString=json.dumps({"username": USER, "password": "second"})
        )

        # Then the next unit of work still succeeds: one failed login, one re-read
        write_audit(db, tenant)
        assert counting.reads == 2
    finally:
        db.close()
    with psycopg.connect(root, autocommit=True) as conn:
        conn.execute("SELECT 1")
    # The old password is really refused (the test would prove nothing otherwise)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn, password="first").close()


def test_aws_sessions_end_when_idle_so_that_aurora_can_pause(database_url: str) -> None:
    # The DSN functions build on AWS: TLS, no password in it, idle sessions ended by the server
    aws = bootstrap._dsn(Settings(db_secret_arn="arn:secret", db_host="db.example.com"))
    params = psycopg.conninfo.conninfo_to_dict(aws)
    assert params["sslmode"] == "require"
    assert "password" not in params

    # PostgreSQL applies those options to the session (checked on the real server)
    local = psycopg.conninfo.make_conninfo(database_url, options=params["options"])
    db = Database(local, max_size=1)
    try:
        with db.connection() as conn:
            row = conn.execute("SHOW idle_session_timeout").fetchone()
    finally:
        db.close()
    assert row == ("1min",)


def test_migrations_get_a_dsn_that_logs_in_with_the_current_secret(
    password_server: tuple[str, str], secrets: Any
) -> None:
    # The migrate function opens its own connection: the pool's login must reach it, also
    # after a rotation this container has not seen yet.
    root, dsn = password_server
    with psycopg.connect(root, autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {USER} PASSWORD 'second'")
    arn = secrets.create_secret(
        Name="orchestrix-it/db/migrate",
        SecretString=json.dumps({"username": USER, "password": "second"}),
    )["ARN"]
    db = Database(dsn, max_size=1, login=DatabaseSecret(secrets, arn))
    assert migrations.apply(db.owner_conninfo()) == []  # already applied, but logged in

    with psycopg.connect(root, autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {USER} PASSWORD 'third'")
    secrets.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": USER, "password": "third"})
    )

    assert migrations.apply(db.owner_conninfo()) == []
