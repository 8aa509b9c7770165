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
