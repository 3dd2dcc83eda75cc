"""Every migration goes down one step and up again on a database full of data without losing
any: each table that exists at both revisions holds the same rows (on the columns both
revisions have) before the step down, after it, and after the step up again.

The test starts at the newest revision with data in every table (``flask seed-demo`` plus a
row for each table the demo leaves empty) and walks down: for each step it goes down one
revision and up again, compares, then goes down for good to test the step before. What a step
adds is lost when it is undone (that is what a downgrade is for); the documented exceptions:

- :data:`ADDED_BY_STEP`: the tables ("*") and columns each step adds. The test fails if a step
  drops anything else, or if this list is no longer true.
- :data:`RECOMPUTED_BELOW`: derived columns the step down recomputes in the older form (the
  name search's ``search_vector`` without the umlaut spellings); they must come back
  unchanged after the step up.
- :data:`ROWS_ONLY_ABOVE`: rows that cannot exist before the step: partner accounts (the
  partner role and its organisation come with the events, 0009), and the consent records of
  erased entries (0016), removed by their downgrades.
"""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.script import ScriptDirectory
from flask import current_app

from app.extensions import db
from tests.conftest import recreate_database, temporary_app, test_database_url
from tests.database_contents import fill, rows_digest, table_columns, table_rows

#: PostGIS's own table: no migration touches it (the backup test compares it).
NOT_COMPARED = {"public.spatial_ref_sys"}

ADDED_BY_STEP: dict[str, dict[str, set[str]]] = {
    # 0020 a series' excluded dates (EXDATE)
    "a4c9e1f7b3d2": {"public.events": {"exdates"}},
    # 0019 the employer import as a job: its state, request, result and error on the upload
    "f3a8c1d6e2b9": {
        "public.import_uploads": {
            "import_state",
            "import_request",
            "import_result",
            "import_error",
        }
    },
    # 0018 the task queue: procrastinate's tables
    "e7b2d4f9a1c6": {
        "public.procrastinate_events": {"*"},
        "public.procrastinate_jobs": {"*"},
        "public.procrastinate_periodic_defers": {"*"},
        "public.procrastinate_workers": {"*"},
    },
    # 0017 staff second factor: its columns, the recovery codes, the kind of a failed sign-in
    "c4f1a9e2d7b3": {
        "public.staff_users": {
            "totp_secret",
            "totp_pending_secret",
            "totp_last_step",
            "totp_enabled_at",
            "totp_required",
        },
        "public.staff_recovery_codes": {"*"},
        "public.staff_login_failures": {"kind"},
    },
    # 0016 consent records outlive an entry's erasure
    "c4f1a8e2d6b9": {"public.consent_records": {"erased_at", "erased_entry_id"}},
    # 0015 map index: the cells' key carries their sums (an index only)
    "b8e3f0d5a2c7": {},
    # 0014 map index rebuild: functions only
    "a7d2e9c4f1b6": {},
    # 0013 map cache
    "f6c4d0a8b3e5": {"public.map_cache": {"*"}, "public.map_generation": {"*"}},
    # 0012 map index (derived from companies, rebuilt by the step up)
    "e5b3c9f7a2d4": {
        "public.map_cells": {"*"},
        "public.map_nearby": {"*"},
        "public.map_points": {"*"},
    },
    # 0011 job alerts; extra header fields of outgoing mail
    "d4a2b8e6f1c3": {"public.job_alerts": {"*"}, "public.outbox_messages": {"headers"}},
    # 0010 name search: a function and an index
    "c3f1a9d2e4b6": {},
    # 0009 events, partner organisations, registrations
    "9d5e1b3c7a20": {
        "public.audit_entries": {"event_id"},
        "public.event_companies": {"*"},
        "public.event_registrations": {"*"},
        "public.events": {"*"},
        "public.organisations": {"*"},
        "public.staff_users": {"organisation_id"},
    },
    # 0008 layer features
    "8c4d2a7e91f0": {"public.layer_features": {"*"}},
    # 0007 apprenticeships
    "7b2e4f61a0c3": {"public.company_apprenticeships": {"*"}},
    # 0006 hardening: sign-in failures per client; the purpose and draft of outgoing mail
    "6a1f0c9d2e74": {
        "public.outbox_messages": {"purpose", "draft_id"},
        "public.staff_login_failures": {"*"},
    },
    # 0005 staff accounts, audit log, import uploads; freshness and merge columns
    "bc848ec30125": {
        "public.audit_entries": {"*"},
        "public.companies": {"merged_into_id", "reminder_sent_at"},
        "public.import_uploads": {"*"},
        "public.staff_users": {"*"},
    },
    # 0004 geocode cache
    "7e73de1478ad": {"public.geocode_cache": {"*"}},
    # 0003 questionnaire
    "fdbc8f88423d": {
        "public.change_requests": {"*"},
        "public.companies": {"link_generation"},
        "public.consent_records": {"*"},
        "public.outbox_messages": {"*"},
        "public.questionnaire_drafts": {"*"},
    },
    # 0002 full-text search
    "fb180d6559fc": {"public.companies": {"search_vector"}},
}
RECOMPUTED_BELOW = {"c3f1a9d2e4b6": {"public.companies": {"search_vector"}}}
ROWS_ONLY_ABOVE = {
    # the consent records of erased entries name no entry, which the older schema cannot hold
    "c4f1a8e2d6b9": {"public.consent_records": lambda row: row["company_id"] is None},
    "9d5e1b3c7a20": {"public.staff_users": lambda row: row["role"] == "partner"},
}

Snapshot = tuple[dict[str, list[str]], dict[str, list[tuple]]]


def snapshot(connection) -> Snapshot:
    """The tables' columns and rows (as text), but for :data:`NOT_COMPARED`."""
    columns = {t: c for t, c in table_columns(connection).items() if t not in NOT_COMPARED}
    rows = {table: table_rows(connection, table, names) for table, names in columns.items()}
    return columns, rows


def added(upper: Snapshot, lower: Snapshot) -> dict[str, set[str]]:
    """What the upper revision has beyond the lower one: {table: columns}, "*" for a table."""
    found = {}
    for table, columns in upper[0].items():
        if table not in lower[0]:
            found[table] = {"*"}
        elif extra := set(columns) - set(lower[0][table]):
            found[table] = extra
    return found


def digest(state: Snapshot, table: str, keep: list[str], skip_row=None) -> tuple[int, str]:
    """The digest of ``table`` in ``state`` on the columns ``keep``, without the rows
    ``skip_row`` picks."""
    columns = state[0][table]
    rows = state[1][table]
    if skip_row is not None:
        rows = [row for row in rows if not skip_row(dict(zip(columns, row, strict=True)))]
    positions = [columns.index(column) for column in keep]
    return rows_digest([tuple(row[p] for p in positions) for row in rows])


def changed_tables(step: str, upper: Snapshot, lower: Snapshot, again: Snapshot) -> list[str]:
    """The problems of one step: tables (at both revisions) whose shared columns hold other
    rows after the step down or after the step up again."""
    problems = []
    for table, columns in upper[0].items():
        if table not in lower[0] or table == "public.alembic_version":
            continue
        shared = [column for column in columns if column in lower[0][table]]
        skip_row = ROWS_ONLY_ABOVE.get(step, {}).get(table)
        recomputed = RECOMPUTED_BELOW.get(step, {}).get(table, set())
        below = [column for column in shared if column not in recomputed]
        if digest(upper, table, below, skip_row) != digest(lower, table, below):
            problems.append(f"{step} down: {table} changed")
        if digest(upper, table, shared, skip_row) != digest(again, table, shared, skip_row):
            problems.append(f"{step} down and up: {table} changed")
    for table in set(again[0]) | set(upper[0]):
        # (in another order, perhaps: a column added again comes last)
        if set(again[0].get(table, ())) != set(upper[0].get(table, ())):
            problems.append(f"{step} down and up: {table} has other columns")
    if again[1]["public.alembic_version"] != upper[1]["public.alembic_version"]:
        problems.append(f"{step} down and up: not at the revision again")
    return problems


@pytest.fixture(scope="module")
def full_app():
    """An app on a database of its own, migrated and full of data."""
    url = test_database_url()
    url = url.set(database=f"{url.database}_migrations_data")
    recreate_database(url)
    with temporary_app(url.render_as_string(hide_password=False)) as app:
        fill(app)
        yield app


def test_every_step_down_and_up_keeps_the_data(full_app):
    with full_app.app_context():
        config = current_app.extensions["migrate"].migrate.get_config()
        steps = [s for s in ScriptDirectory.from_config(config).walk_revisions() if s.down_revision]
        found = {}
        problems = []
        for step in steps:
            with db.engine.connect() as connection:
                upper = snapshot(connection)
            flask_migrate.downgrade(revision=step.down_revision)
            with db.engine.connect() as connection:
                lower = snapshot(connection)
            flask_migrate.upgrade(revision=step.revision)
            with db.engine.connect() as connection:
                again = snapshot(connection)
            found[step.revision] = added(upper, lower)
            problems += changed_tables(step.revision, upper, lower, again)
            flask_migrate.downgrade(revision=step.down_revision)
        db.engine.dispose()
    assert problems == [], "\n".join(problems)
    assert found == ADDED_BY_STEP
