"""The load test's questionnaire users (scripts/load_flows.py) against a live server: two
businesses submit at once, each is stored exactly once (so the script cannot rot)."""

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from ipaddress import ip_address, ip_network
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from tests.conftest import test_config

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from load_flows import (
    FlowError,
    LoopbackClient,
    client_address,
    is_loopback,
    stored,
    submit_questionnaire,
)


@pytest.fixture
def live_app(database_url):
    """The app with CSRF protection on, as in production, served on a loopback port."""
    app = create_app(test_config(database_url))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()
    with app.app_context():
        db.session.execute(
            db.text(
                "TRUNCATE companies, questionnaire_drafts, outbox_messages RESTART IDENTITY CASCADE"
            )
        )
        db.session.commit()
        db.engine.dispose()


def test_two_concurrent_submissions_are_each_stored_once(live_app):
    app, base = live_app
    names = ["Lasttest Tischlerei 1", "Lasttest Tischlerei 2"]

    def submit(name):
        with LoopbackClient(base) as client:
            submit_questionnaire(client, name)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(submit, names))
    with app.app_context(), db.engine.connect() as connection:
        assert stored(connection, names) == {names[0]: 1, names[1]: 1}
        assert stored(connection, ["Lasttest nie gesendet"]) == {"Lasttest nie gesendet": 0}


def test_a_refused_step_is_a_flow_error(live_app, monkeypatch):
    _, base = live_app
    monkeypatch.setitem(
        __import__("load_flows").STEPS, "size", {"employees": "viele"}
    )  # not a number: the step answers 422
    with LoopbackClient(base) as client, pytest.raises(FlowError, match="step size"):
        submit_questionnaire(client, "Lasttest Fehler")


def test_only_loopback_hosts_are_accepted():
    assert is_loopback("http://127.0.0.1:8000") and is_loopback("http://[::1]:80")
    assert is_loopback("http://localhost:5000")
    assert not is_loopback("http://192.168.1.5:8000")
    assert not is_loopback("https://kmu-atlas.example")
    with pytest.raises(ValueError, match="not a loopback address"):
        LoopbackClient("http://10.0.0.1")


def test_each_simulated_user_has_an_address_of_its_own():
    visitors = {client_address(0, number) for number in range(100)}
    businesses = {client_address(1, number) for number in range(100)}
    assert len(visitors) == len(businesses) == 100 and not visitors & businesses
    network = ip_network("198.18.0.0/15")  # RFC 2544: never a real client
    assert all(ip_address(address) in network for address in visitors | businesses)
    with pytest.raises(ValueError):
        client_address(2, 0)
