from __future__ import annotations

import psycopg
import pytest

from orchestrix.adapters.postgres import migrations


def test_applying_twice_applies_nothing_the_second_time(database_url):
    assert migrations.apply(database_url) == []


def test_a_changed_applied_migration_is_refused(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        try:
            with pytest.raises(migrations.MigrationError, match="changed after it was applied"):
                migrations.apply(database_url)
        finally:
            first = migrations.available()[0]
            conn.execute(
                "UPDATE schema_migrations SET checksum = %s WHERE version = 1", (first.checksum,)
            )


INSERT_LINE = "INSERT INTO log_entries (tenant_id, ts, stream_id, line) VALUES ('a', %s, 7, %s)"


def test_lines_stored_twice_before_0018_are_kept_once(pg_root_dsn, tmp_path_factory, monkeypatch):
    # Given a database migrated up to 0017 holding a line stored twice, as pushes sent again
    # used to leave it, beside a line equal in text at another time
    name = f"orchestrix_0018_{tmp_path_factory.getbasetemp().name[-8:]}"
    with psycopg.connect(pg_root_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = psycopg.conninfo.make_conninfo(pg_root_dsn, dbname=name)
    every = migrations.available()
    try:
        monkeypatch.setattr(migrations, "available", lambda: [m for m in every if m.version < 18])
        migrations.apply(dsn)
        day_ns = 86_400 * 10**9
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("INSERT INTO tenants (id) VALUES ('a')")
            conn.execute("SELECT orchestrix_ensure_log_partitions(%s, %s)", (day_ns, day_ns))
            conn.execute(
                "INSERT INTO log_streams VALUES ('a', 7, '{\"app\": \"x\"}', %s, %s)",
                (day_ns, day_ns + 1),
            )
            for ts, line in [(day_ns, "GET /a"), (day_ns, "GET /a"), (day_ns + 1, "GET /a")]:
                conn.execute(
                    INSERT_LINE,
                    (ts, line),
                )

        # When 0018 is applied (and no later migration: this test is about 0018 alone)
        monkeypatch.setattr(migrations, "available", lambda: [m for m in every if m.version <= 18])
        applied = migrations.apply(dsn)

        # Then the copy is gone, the earliest row kept, and a copy can no longer be stored
        with psycopg.connect(dsn, autocommit=True) as conn:
            rows = conn.execute("SELECT ts, id FROM log_entries ORDER BY ts, id").fetchall()
            with pytest.raises(psycopg.errors.UniqueViolation):
                conn.execute(
                    INSERT_LINE,
                    (day_ns, "GET /a"),
                )
        assert applied == ["0018_log_entry_once"]
        assert [ts for ts, _ in rows] == [day_ns, day_ns + 1]
        assert rows[0][1] == 1  # the first of the two copies
    finally:
        with psycopg.connect(pg_root_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
