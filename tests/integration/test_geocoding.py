"""Nominatim lookups: from the server only, cached, at most one per second, inside the region."""

import json
import threading
import time

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app import create_app
from app.extensions import db
from app.services import geocoding
from tests.conftest import test_config

#: The real pace (the fixtures replace it, so that lookups need not wait a second).
PACED = geocoding._throttle


class FakeNominatim:
    """A Nominatim stand-in on a loopback port that records the queries it gets."""

    def __init__(self):
        self.queries = []
        self.answer = [{"lon": "7.0912", "lat": "51.6570", "display_name": "Hauptstraße 5"}]

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.queries.append(dict(request.args))
        return Response(json.dumps(self.answer), mimetype="application/json")(
            environ, start_response
        )


@pytest.fixture
def nominatim():
    fake = FakeNominatim()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    yield fake
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def app(database_url, nominatim, monkeypatch):
    monkeypatch.setattr(geocoding, "_throttle", lambda: True)
    app = create_app(
        test_config(
            database_url, NOMINATIM_URL=nominatim.url, FETCH_ALLOWED_NETWORKS="127.0.0.1/32"
        )
    )
    yield app
    with app.app_context():
        db.session.execute(db.text("TRUNCATE geocode_cache"))
        db.session.commit()
        db.engine.dispose()


ADDRESS = {"postal_code": "45768", "street": "Hauptstraße", "house_number": "5", "town": "Marl"}


def test_address_point_comes_from_nominatim_and_is_cached(client, nominatim):
    first = client.get("/mitmachen/vorschlag", query_string=ADDRESS).get_json()
    assert first == {"lon": 7.0912, "lat": 51.657, "source": "address"}
    assert nominatim.queries == [
        {
            "street": "5 Hauptstraße",
            "postalcode": "45768",
            "city": "Marl",
            "countrycodes": "de",
            "format": "jsonv2",
            "limit": "1",
        }
    ]
    again = client.get("/mitmachen/vorschlag", query_string=ADDRESS).get_json()
    assert again == first
    assert len(nominatim.queries) == 1  # answered from the cache


def test_an_answer_outside_the_region_falls_back_to_the_postal_code(client, nominatim):
    nominatim.answer = [{"lon": "13.40", "lat": "52.52"}]
    answer = client.get("/mitmachen/vorschlag", query_string=ADDRESS).get_json()
    assert answer["source"] == "postal_code"
    assert 51.6 < answer["lat"] < 51.7


def test_no_result_is_cached_and_falls_back(client, nominatim):
    nominatim.answer = []
    for _ in range(2):
        answer = client.get("/mitmachen/vorschlag", query_string=ADDRESS).get_json()
        assert answer["source"] == "postal_code"
    assert len(nominatim.queries) == 1


def test_an_unreachable_server_falls_back_and_is_asked_again_later(database_url, monkeypatch):
    monkeypatch.setattr(geocoding, "_throttle", lambda: True)
    app = create_app(test_config(database_url, NOMINATIM_URL="http://127.0.0.1:9"))
    client = app.test_client()
    answer = client.get("/mitmachen/vorschlag", query_string=ADDRESS).get_json()
    assert answer["source"] == "postal_code"
    with app.app_context():
        assert db.session.scalar(db.text("SELECT count(*) FROM geocode_cache")) == 0
        db.session.remove()
        db.engine.dispose()


def test_a_nominatim_on_an_internal_address_is_not_asked_unless_allowed(database_url, nominatim):
    app = create_app(test_config(database_url, NOMINATIM_URL=nominatim.url))
    answer = app.test_client().get("/mitmachen/vorschlag", query_string=ADDRESS).get_json()
    assert answer["source"] == "postal_code"
    assert nominatim.queries == []  # 127.0.0.1 refused before any request
    with app.app_context():
        db.engine.dispose()


def test_without_nominatim_only_the_postal_code_is_used(database_url):
    app = create_app(test_config(database_url))
    answer = app.test_client().get("/mitmachen/vorschlag", query_string=ADDRESS).get_json()
    assert answer["source"] == "postal_code"
    with app.app_context():
        db.engine.dispose()


def test_a_lookup_waits_for_its_turn_and_does_without_after_the_longest_wait(
    client, nominatim, monkeypatch
):
    monkeypatch.setattr(geocoding, "_throttle", PACED)  # the app's own pace (memory://)
    monkeypatch.setattr(geocoding, "MAX_WAIT_SECONDS", 0.1)
    started = time.monotonic()
    first = client.get("/mitmachen/vorschlag", query_string=ADDRESS).get_json()
    assert first["source"] == "address"
    other = {**ADDRESS, "house_number": "7"}
    # Its turn comes a second after the first: too late, so the postal code serves.
    assert client.get("/mitmachen/vorschlag", query_string=other).get_json()["source"] == (
        "postal_code"
    )
    assert len(nominatim.queries) == 1
    monkeypatch.setattr(geocoding, "MAX_WAIT_SECONDS", 5)
    # Not cached then: asked now, once its turn has come.
    assert client.get("/mitmachen/vorschlag", query_string=other).get_json()["source"] == (
        "address"
    )
    assert len(nominatim.queries) == 2
    assert time.monotonic() - started > 0.9  # a second after the first lookup's turn
