"""Request ids and JSON logs: in production a failing request answers the friendly 500 page
with its request id (no traceback, no debugger, even with FLASK_DEBUG set) and logs one JSON
line with the same id and the traceback."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from datetime import datetime

import pytest
from werkzeug.debug import DebuggedApplication
from werkzeug.test import Client

from app import create_app
from app.extensions import db
from tests.conftest import test_config

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _json_handlers():
    return [h for h in logging.getLogger().handlers if getattr(h, "kmu_atlas_json", False)]


@pytest.fixture
def production(database_url, monkeypatch):
    """A production app (FLASK_DEBUG=1 in the environment) with two failing views; its log
    lines (parsed)."""
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app(
        test_config(
            database_url,
            APP_ENV="production",
            SECRET_KEY="x" * 40,
            BASE_URL="http://localhost",
        )
    )

    def fail():
        raise RuntimeError("kaputt: geheime Einzelheit")

    app.add_url_rule("/kaputt", "kaputt", fail)
    app.add_url_rule("/api/kaputt", "api_kaputt", fail)
    stream = io.StringIO()
    (handler,) = _json_handlers()
    handler.setStream(stream)

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield app, lines
    logging.getLogger().removeHandler(handler)
    with app.app_context():
        db.engine.dispose()


def test_a_failing_page_answers_the_friendly_page_and_logs_one_json_line(production):
    app, lines = production
    assert not app.debug
    assert os.environ["FLASK_DEBUG"] == "0"  # so `flask run` starts no debugger either
    response = app.test_client().get("/kaputt?suche=privat")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    request_id = response.headers["X-Request-ID"]
    assert UUID4.fullmatch(request_id)
    assert "Ein Fehler ist aufgetreten" in page
    assert request_id in page
    for secret in ("Traceback", "kaputt: geheime", "RuntimeError", "Werkzeug"):
        assert secret not in page
    assert response.headers["Cache-Control"] == "no-store"

    errors = [line for line in lines() if "traceback" in line]
    assert len(errors) == 1
    (error,) = errors
    assert error["request_id"] == request_id
    assert error["level"] == "ERROR"
    assert error["exception"] == "RuntimeError"
    assert "kaputt: geheime Einzelheit" in error["traceback"]
    assert 'in fail\n    raise RuntimeError("kaputt' in error["traceback"]
    assert (error["method"], error["path"]) == ("GET", "/kaputt")
    (access,) = [line for line in lines() if line["logger"] == "app.requests"]
    assert access["request_id"] == request_id
    assert (access["method"], access["path"], access["status"]) == ("GET", "/kaputt", 500)
    assert "privat" not in json.dumps(lines())  # no query strings in the log
    assert datetime.fromisoformat(access["timestamp"]).utcoffset().total_seconds() == 0


def test_the_api_answers_json_with_the_request_id(production):
    app, _ = production
    response = app.test_client().get("/api/kaputt")
    assert response.status_code == 500
    body = response.get_json()
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "kaputt" not in response.get_data(as_text=True)


def test_werkzeugs_debugger_never_sees_an_exception(production):
    app, _ = production
    # As `flask run --debug` would wrap the app: the app answers the error itself.
    client = Client(DebuggedApplication(app, evalex=True))
    response = client.get("/kaputt", headers={"Host": "localhost"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Traceback" not in page
    assert "__debugger__" not in page


def test_every_request_is_logged_as_one_json_line(production):
    app, lines = production
    response = app.test_client().get("/healthz/live", headers={"X-Request-ID": "proxy-1234abcd"})
    assert response.headers["X-Request-ID"] == "proxy-1234abcd"
    (line,) = lines()
    assert line["request_id"] == "proxy-1234abcd"
    assert (line["level"], line["logger"], line["status"]) == ("INFO", "app.requests", 200)
    assert set(line) >= {"timestamp", "message", "method", "path", "duration_ms"}


@pytest.mark.parametrize(
    "incoming",
    ["short", "x" * 65, "with space 123", "<script>alert(1)</script>", "äöü-12345678", ""],
)
def test_a_bad_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz/live", headers={"X-Request-ID": incoming})
    assert UUID4.fullmatch(response.headers["X-Request-ID"])


def test_a_good_incoming_request_id_is_kept(client):
    for incoming in ("0123abcd", "a" * 64, "f47ac10b-58cc-4372-a567-0e02b2c3d479"):
        response = client.get("/healthz/live", headers={"X-Request-ID": incoming})
        assert response.headers["X-Request-ID"] == incoming


def test_outside_production_the_log_stays_plain_text(client):
    assert _json_handlers() == []
    assert client.get("/healthz/live").headers["X-Request-ID"]
