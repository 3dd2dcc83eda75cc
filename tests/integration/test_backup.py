"""scripts/backup and scripts/restore: a backup of a full database, restored into the wiped
database, gives back every table's rows (PostGIS geometries, alembic_version and the map
index included)."""

from __future__ import annotations

import os
import pty
import stat
import subprocess

import pytest
from sqlalchemy import text

from app.config import PROJECT_ROOT
from app.extensions import db
from tests.conftest import recreate_database, temporary_app, test_database_url
from tests.database_contents import database_digests, fill

BACKUP = PROJECT_ROOT / "scripts" / "backup"
RESTORE = PROJECT_ROOT / "scripts" / "restore"


@pytest.fixture(scope="module")
def full_database():
    """A database of its own, migrated and filled with varied data; its URL."""
    url = test_database_url()
    url = url.set(database=f"{url.database}_backup")
    recreate_database(url)
    rendered = url.render_as_string(hide_password=False)
    with temporary_app(rendered) as app:
        fill(app)
    return rendered


def run(script, *arguments, database_url: str, stdin=subprocess.DEVNULL):
    environment = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(  # noqa: S603  (our own scripts, fixed arguments)
        [str(script), *map(str, arguments)],
        env=environment,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_backup_wipe_restore_gives_back_every_table(full_database, tmp_path):
    with temporary_app(full_database) as app, app.app_context():
        with db.engine.connect() as connection:
            connection.execute(
                text("INSERT INTO map_cache (key, generation, body) VALUES ('k', 1, '\\x00')")
            )
            connection.commit()
            before = database_digests(connection)
            generation = connection.scalar(text("SELECT generation FROM map_generation"))
        tables = {table.split(".")[1] for table in before}
        assert {"alembic_version", "companies", "layer_features", "spatial_ref_sys"} <= tables
        empty = sorted(table for table, (count, _) in before.items() if count == 0)
        assert empty == [], "the test data should fill every table"

        backup = tmp_path / "atlas.dump"
        result = run(BACKUP, backup, database_url=full_database)
        assert result.returncode == 0, result.stderr
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600

        with db.engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
            connection.commit()
        db.engine.dispose()

        result = run(RESTORE, "--yes", backup, database_url=full_database)
        assert result.returncode == 0, result.stderr
        with db.engine.connect() as connection:
            after = database_digests(connection)
            restored_generation = connection.scalar(text("SELECT generation FROM map_generation"))
    # The cached map answers are not backed up (they are rebuilt on demand), and the map's
    # generation is raised, so that no process keeps serving what it had cached.
    assert after.pop("public.map_cache")[0] == 0
    assert before.pop("public.map_cache")[0] == 1
    assert restored_generation == generation + 1
    after.pop("public.map_generation")
    before.pop("public.map_generation")
    assert after == before


def test_restore_over_a_changed_database_replaces_its_contents(full_database, tmp_path):
    backup = tmp_path / "atlas.dump"
    assert run(BACKUP, backup, database_url=full_database).returncode == 0
    with temporary_app(full_database) as app, app.app_context():
        with db.engine.connect() as connection:
            before = database_digests(connection)
            connection.execute(text("UPDATE companies SET name = 'Überschrieben'"))
            connection.execute(text("CREATE TABLE from_a_newer_migration (id int)"))
            connection.execute(text("UPDATE map_generation SET generation = generation + 50"))
            connection.commit()
            generation = connection.scalar(text("SELECT generation FROM map_generation"))
        db.engine.dispose()
        result = run(RESTORE, "--yes", backup, database_url=full_database)
        assert result.returncode == 0, result.stderr
        with db.engine.connect() as connection:
            after = database_digests(connection)
            # Raised above the generation before the restore, not only above the backup's.
            assert connection.scalar(text("SELECT generation FROM map_generation")) == (
                generation + 1
            )
    assert "public.from_a_newer_migration" not in after
    for table in ("public.map_generation", "public.map_cache"):
        after.pop(table), before.pop(table)
    assert after == before


def test_default_backup_file_is_private_and_timestamped(full_database):
    result = run(BACKUP, database_url=full_database)
    assert result.returncode == 0, result.stderr
    folder = PROJECT_ROOT / "instance" / "backups"
    name = test_database_url().database + "_backup"
    written = [path for path in folder.glob(f"{name}-*.dump") if str(path) in result.stdout]
    assert len(written) == 1
    try:
        assert stat.S_IMODE(written[0].stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert run(RESTORE, "--check", written[0], database_url=full_database).returncode == 0
    finally:
        written[0].unlink()


def test_restore_refuses_without_confirmation_or_file(full_database, tmp_path):
    result = run(RESTORE, database_url=full_database)
    assert result.returncode != 0
    assert "name the backup file" in result.stderr

    result = run(RESTORE, "--yes", tmp_path / "missing.dump", database_url=full_database)
    assert result.returncode != 0
    assert "there is no backup file" in result.stderr

    backup = tmp_path / "atlas.dump"
    assert run(BACKUP, backup, database_url=full_database).returncode == 0
    # No terminal to ask and no --yes: nothing happens.
    result = run(RESTORE, backup, database_url=full_database)
    assert result.returncode != 0
    assert "--yes" in result.stderr


def test_a_damaged_backup_changes_nothing(full_database, tmp_path):
    backup = tmp_path / "atlas.dump"
    assert run(BACKUP, backup, database_url=full_database).returncode == 0
    damaged = tmp_path / "damaged.dump"
    damaged.write_bytes(backup.read_bytes()[: backup.stat().st_size * 2 // 3])
    result = run(RESTORE, "--check", damaged, database_url=full_database)
    assert result.returncode != 0
    assert "nothing was changed" in result.stderr

    with temporary_app(full_database) as app, app.app_context():
        with db.engine.connect() as connection:
            before = database_digests(connection)
        result = run(RESTORE, "--yes", damaged, database_url=full_database)
        assert result.returncode != 0
        assert "nothing was changed" in result.stderr
        with db.engine.connect() as connection:
            assert database_digests(connection) == before

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("not a backup")
    result = run(RESTORE, "--yes", not_a_backup, database_url=full_database)
    assert result.returncode != 0
    assert "not a complete backup in pg_dump's custom format" in result.stderr


def test_backup_fails_clearly_without_a_database(tmp_path):
    unreachable = f"postgresql://nobody@/nothing?host={tmp_path}&port=1"
    result = run(BACKUP, tmp_path / "x.dump", database_url=unreachable)
    assert result.returncode != 0
    assert "cannot connect to the database nothing" in result.stderr
    assert not (tmp_path / "x.dump").exists()


def test_restore_asks_on_a_terminal_for_the_database_name(full_database, tmp_path):
    backup = tmp_path / "atlas.dump"
    assert run(BACKUP, backup, database_url=full_database).returncode == 0

    def answering(answer: str):
        controller, terminal = pty.openpty()
        try:
            os.write(controller, answer.encode() + b"\n")
            return run(RESTORE, backup, database_url=full_database, stdin=terminal)
        finally:
            os.close(controller)
            os.close(terminal)

    result = answering("ja")
    assert result.returncode != 0
    assert "ALL data" in result.stdout
    assert "not confirmed; nothing was changed" in result.stderr
    result = answering(test_database_url().database + "_backup")
    assert result.returncode == 0, result.stderr
    assert "Restored" in result.stdout
