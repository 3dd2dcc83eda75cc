"""Request ids and structured logs.

Every request gets an id: a valid ``X-Request-ID`` from the reverse proxy (only letters, digits
and hyphens, 8 to 64 of them), else a new uuid4. It is kept in ``flask.g.request_id``, sent back
in the ``X-Request-ID`` header, shown on the error page (so that a user can quote it) and added
to every log record made while the request runs.

In production (APP_ENV=production) the log is one JSON object per line on standard error:
``timestamp`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, ``request_id``, ``method`` and
``path`` (no query string: it may hold search terms), ``status`` and ``duration_ms`` for the line
each request ends with, and for errors ``exception`` (the type) and ``traceback`` (a string
field; it never goes into an HTTP answer). In development and in the tests the log stays
Python's plain text.

The formatter is the standard library's :class:`logging.Formatter` with :func:`json.dumps`:
the fields are few and ours, and a library (python-json-logger) would add a dependency without
saving the request-context filter.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request

#: An acceptable incoming request id (anything else is replaced by a new one).
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
HEADER = "X-Request-ID"
#: The logger of the one line each request ends with.
request_log = logging.getLogger("app.requests")


def request_id() -> str | None:
    """The current request's id (made on first use), or None outside a request."""
    if not has_request_context():
        return None
    if "request_id" not in g:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if VALID_REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
    return g.request_id


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, ``method`` and ``path`` of the current request to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = request_id()
            record.method = request.method
            record.path = request.path
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (newlines in messages and tracebacks are escaped)."""

    #: Attributes of a record copied into the line when present.
    FIELDS = ("request_id", "method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in self.FIELDS:
            if getattr(record, field, None) is not None:
                line[field] = getattr(record, field)
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
            line["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        elif record.stack_info:
            line["traceback"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):
    """A stream handler that writes to the ``sys.stderr`` of the moment (unless given a
    stream), so that it follows a replaced standard error (as a test runner's)."""

    def __init__(self, stream=None):
        super().__init__(stream)
        self._given = stream

    @property
    def stream(self):
        return self._given or sys.stderr

    @stream.setter
    def stream(self, value):
        self._given = value


def configure_json_logging(stream=None, level: int = logging.INFO) -> logging.Handler:
    """Send all records (the root logger's) as JSON lines to ``stream`` (standard error). A
    handler of an earlier call is replaced, so that creating the app twice logs each line once."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "kmu_atlas_json", False):
            root.removeHandler(handler)
    handler = _StderrHandler(stream)
    handler.kmu_atlas_json = True
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic's logging set-up (fileConfig in migrations/env.py) disables loggers that exist
    # before it runs; the request log must not stay silent after an in-process migration.
    request_log.disabled = False
    return handler


def init_app(app: Flask) -> None:
    """Give each request its id and header; in production, log JSON lines, one per request."""
    production = app.config["APP_ENV"] == "production"
    if production:
        configure_json_logging()

    @app.before_request
    def start_request() -> None:
        g.request_started = time.perf_counter()
        request_id()

    @app.after_request
    def finish_request(response: Response) -> Response:
        response.headers[HEADER] = request_id()
        if production:
            started = g.get("request_started")
            duration = (time.perf_counter() - started) * 1000 if started else None
            request_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "status": response.status_code,
                    "duration_ms": round(duration, 1) if duration is not None else None,
                },
            )
        return response
