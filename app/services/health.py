"""Health check: is the database reachable and is its schema at the newest migration? Also how
the task queue stands (workers alive, jobs waiting), which does not make a server unready."""

from __future__ import annotations

import logging

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import jobs
from app.extensions import db
from app.features import tag_bitmaps

log = logging.getLogger(__name__)


def migration_heads() -> set[str]:
    """The newest revision(s) in the migrations folder."""
    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return set(ScriptDirectory.from_config(config).get_heads())


def check_health() -> tuple[bool, dict]:
    """Return (healthy, body). The body names the problem but no connection details."""
    heads = migration_heads()
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
            queue = jobs.queue_status(connection) if current == heads else None
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc)
        return False, {
            "status": "error",
            "database": "unreachable",
            "reason": "The database cannot be reached.",
        }
    body = {
        "status": "ok",
        "database": "ok",
        "migrations": {"current": sorted(current), "head": sorted(heads)},
        # The map's tag bitmaps in this process: "off", "loading" or "loaded" (until they are
        # loaded, the database answers; nothing to act on).
        "map_bitmaps": tag_bitmaps.state(),
    }
    if queue is not None:
        # The task queue (for monitoring; a server is ready without a worker): no worker alive,
        # or jobs waiting for minutes, means mail and imports are not being done.
        body["jobs"] = queue
    if current != heads:
        body["status"] = "error"
        body["reason"] = (
            "The database schema is not at the newest migration: run `flask db upgrade`."
        )
        return False, body
    return True, body
