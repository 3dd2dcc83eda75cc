"""A database full of varied data, and fingerprints of its tables, to tell whether a backup or a
migration kept the data.

Each table's rows are read with every column as text (geometry and geography as hex EWKB, so
the comparison is exact), sorted, and hashed: two tables with the same row count and md5 hold
the same rows.
"""

from __future__ import annotations

import hashlib

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.extensions import db
from app.services.accounts import create_staff

#: One row for each table the demo data leaves empty (ids of the demo's first employer, staff
#: account and event), with values that survive a round trip only if nothing is lost: text
#: with umlauts and quotes, JSON, bytes, times.
EXTRA_ROWS = """
INSERT INTO questionnaire_drafts (kind, company_id, answers, raw_input, completed_steps,
    definition_version, language, token_generation, entered_by_staff, submitted_at)
  SELECT 'update', min(id), '{"name": "Bäckerei \\"Öz\\""}', '{"raw": [1, 2]}', 3, 1, 'tr', 2,
    false, now() FROM companies;
INSERT INTO change_requests (company_id, draft_id, values, status)
  SELECT min(c.id), max(d.id), '{"phone": "+49 2361 0"}', 'pending'
  FROM companies c, questionnaire_drafts d;
INSERT INTO consent_records (company_id, draft_id, text_version, text)
  SELECT min(c.id), max(d.id), '2024-1', 'Ich willige ein …' FROM companies c,
    questionnaire_drafts d;
INSERT INTO consent_records (company_id, draft_id, text_version, text, erased_at,
    erased_entry_id)
  VALUES (NULL, NULL, '2024-1', 'Ich willige ein …', now(), 424242);
INSERT INTO company_apprenticeships (company_id, code, places)
  SELECT min(id), 'kaufleute-bueromanagement', 2 FROM companies;
INSERT INTO event_registrations (event_id, status, name, email, note, language,
    consent_version, token_generation)
  SELECT min(id), 'confirmed', 'Ayşe Yılmaz', 'ayse@example.org', 'Mit Kind', 'tr', '1', 1
  FROM events;
INSERT INTO geocode_cache (query, lon, lat) VALUES ('Hauptstraße 1, 45657 Recklinghausen',
    7.1975, 51.6146);
INSERT INTO import_uploads (staff_id, filename, kind, content, import_state, import_request,
    import_result, import_error)
  SELECT min(id), 'betriebe.csv', 'csv', '\\x00ff4175', 'failed',
    '{"mapping": {"name": "Firma"}, "status": "pending", "actor_id": 1, "language": "de"}',
    '{"entries": [], "skipped": 0, "status": "pending"}', 'Die Datei hat keine gültige Zeile.'
  FROM staff_users;
INSERT INTO job_alerts (email, filter_query, filter_key, language, consent_version,
    token_generation, snapshot)
  VALUES ('alert@example.org', 'sector=43', 'k1', 'de', '1', 1, '{"ids": [1, 2]}');
INSERT INTO outbox_messages (recipient, subject, body, transport, error, purpose, headers)
  VALUES ('a@example.org', 'Betreff ü', 'Text', 'log', '', 'alert', '{"X-Test": "1"}');
INSERT INTO staff_login_failures (account_key, client) VALUES ('k', '192.0.2.1');
INSERT INTO staff_recovery_codes (staff_id, code_hash)
  SELECT min(id), 'pbkdf2_sha256$1$c2FsdA$aGFzaA' FROM staff_users;
INSERT INTO procrastinate_workers DEFAULT VALUES;
INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, scheduled_at)
  SELECT 'mail', 'mail.deliver', 'outbox:' || max(id), jsonb_build_object('message_id', max(id)),
    now() + interval '1 hour' FROM outbox_messages;
INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, args, status, worker_id)
  SELECT 'scheduled', 'retention.run', 'retention.run', '{"timestamp": 1764558000}', 'doing',
    min(id) FROM procrastinate_workers;
INSERT INTO procrastinate_periodic_defers (task_name, periodic_id, defer_timestamp, job_id)
  SELECT 'retention.run', 'retention.run', 1764558000, max(id) FROM procrastinate_jobs;
"""


def fill(app: Flask, count: int = 20) -> None:
    """Migrate the app's (empty) database and fill it: the demo employers, layers, events,
    organisations and accounts (``flask seed-demo``) and one row in every other table."""
    import flask_migrate

    with app.app_context():
        flask_migrate.upgrade()
    result = app.test_cli_runner().invoke(args=["seed-demo", "--count", str(count)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        create_staff("admin@example.org", "Admin Ünal", "ein langes Passwort 42", "admin")
        organisation = db.session.scalar(text("SELECT min(id) FROM organisations"))
        create_staff(
            "partner@example.org", "Partner", "ein langes Passwort 43", "partner", organisation
        )
        db.session.execute(text(EXTRA_ROWS))
        db.session.commit()


def table_columns(connection: Connection) -> dict[str, list[str]]:
    """Every base table outside the system schemas (``schema.table``) and its columns."""
    rows = connection.execute(
        text(
            "SELECT c.table_schema || '.' || c.table_name, c.column_name"
            " FROM information_schema.columns c JOIN information_schema.tables t"
            " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
            " WHERE t.table_type = 'BASE TABLE'"
            " AND c.table_schema NOT IN ('pg_catalog', 'information_schema')"
            " ORDER BY 1, c.ordinal_position"
        )
    )
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def _column_types(connection: Connection, table: str) -> dict[str, str]:
    schema, name = table.split(".", 1)
    rows = connection.execute(
        text(
            "SELECT column_name, udt_name FROM information_schema.columns"
            " WHERE table_schema = :schema AND table_name = :name"
        ),
        {"schema": schema, "name": name},
    )
    return dict(rows.all())


def table_rows(connection: Connection, table: str, columns: list[str]) -> list[tuple]:
    """The rows of ``table`` as tuples of ``columns``, each value as text (geometries as hex
    EWKB)."""
    types = _column_types(connection, table)
    schema, name = table.split(".", 1)
    expressions = [
        f"encode(ST_AsEWKB(\"{column}\"), 'hex')"
        if types[column] in ("geometry", "geography")
        else f'"{column}"::text'
        for column in columns
    ]
    return [
        tuple(row)
        for row in connection.execute(
            text(f'SELECT {", ".join(expressions)} FROM "{schema}"."{name}"')
        )
    ]


def rows_digest(rows: list[tuple]) -> tuple[int, str]:
    """(row count, md5 of the sorted rows)."""
    lines = sorted(repr(row) for row in rows)
    return len(lines), hashlib.md5("\n".join(lines).encode(), usedforsecurity=False).hexdigest()


def table_digest(connection: Connection, table: str, columns: list[str]) -> tuple[int, str]:
    """(row count, md5 of the sorted rows) of ``table`` read as ``columns``."""
    return rows_digest(table_rows(connection, table, columns))


def database_digests(
    connection: Connection, columns: dict[str, list[str]] | None = None
) -> dict[str, tuple[int, str]]:
    """The digest of every table (or of the tables and columns ``columns`` names)."""
    columns = table_columns(connection) if columns is None else columns
    return {table: table_digest(connection, table, names) for table, names in columns.items()}
