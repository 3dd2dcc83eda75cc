"""Nominatim lookups: from the server only, cached, at most one per second, inside the region."""

import json
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app import create_app
from app.extensions import db
from app.services import geocoding
from tests.conftest import test_config


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
    monkeypatch.setattr(geocoding, "_throttle", lambda interval=1.0: None)
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
    monkeypatch.setattr(geocoding, "_throttle", lambda interval=1.0: None)
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


def test_throttle_keeps_requests_a_second_apart(monkeypatch):
    clock = iter([100.0, 100.0, 100.2, 101.2, 105.0, 105.0])
    slept = []
    monkeypatch.setattr(geocoding.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(geocoding.time, "sleep", slept.append)
    monkeypatch.setattr(geocoding, "_last_request", -1e9)
    geocoding._throttle()  # first request: no wait
    geocoding._throttle()  # 0.2 s later: waits 0.8 s
    geocoding._throttle()  # long after: no wait
    assert slept == [pytest.approx(0.8)]
