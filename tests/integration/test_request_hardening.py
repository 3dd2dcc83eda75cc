"""Requests that used to give 500s or leak more than they should (issue 9): digits of other
scripts, url_for's own argument names in the query string, NUL bytes, a poisoned Host header,
unbounded map data, an unlimited API and a talkative Server header."""

from __future__ import annotations

import io
import re
import threading
import urllib.request
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.serving import make_server
from werkzeug.test import encode_multipart

from app.extensions import db
from app.headers import QuietRequestHandler
from app.models import OutboxMessage
from tests.conftest import temporary_app

PUBLIC_FILTER_URLS = ("/", "/api/employers", "/api/employers/list")


@pytest.fixture
def slug(make_company):
    make_company("Dachdeckerei Kante", slug="dachdeckerei-kante")
    return "dachdeckerei-kante"


@pytest.mark.parametrize("value", ["²", "³", "①", "٣", "1²"])
@pytest.mark.parametrize("url", PUBLIC_FILTER_URLS)
def test_zoom_and_page_in_other_digits_are_a_400(client, url, value):
    for parameter in ("zoom", "page") if url != "/api/employers" else ("zoom",):
        response = client.get(url, query_string={parameter: value})
        assert response.status_code == 400, (parameter, value)
        if url.startswith("/api/"):
            assert response.get_json()["parameter"] == parameter


def test_employer_page_ignores_a_bad_filter_in_its_way_back(client, slug):
    response = client.get(f"/arbeitgeber/{slug}", query_string={"zoom": "²", "page": "①"})
    assert response.status_code == 200
    assert 'href="/?' not in response.get_data(as_text=True).split("zurück")[0][-200:]


def language_switch(html: str) -> tuple[str, list[tuple[str, str]]]:
    """The header's language switch form: its action and the query it keeps (hidden fields)."""
    form = html.split('<form class="language-switch"', 1)[1].split("</form>", 1)[0]
    action = re.search(r'action="([^"]*)"', form).group(1)
    return action, re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', form)


@pytest.mark.parametrize("name", ["endpoint", "_method", "_external", "_anchor", "_scheme"])
def test_url_for_argument_names_in_the_query_are_plain_data(client, slug, name):
    for url in ("/", "/mitmachen/", f"/arbeitgeber/{slug}", "/agentur/anmelden", "/gibt-es-nicht"):
        response = client.get(url, query_string={name: "x"})
        assert response.status_code in (200, 403, 404), (url, response.status_code)
        action, kept = language_switch(response.get_data(as_text=True))
        if response.status_code != 404:
            assert (action, kept) == (url, [(name, "x")]), url
        else:
            assert (action, kept) == ("/", [])  # a missing page switches to the start page


def test_language_switch_keeps_the_path_and_repeated_parameters(client, slug):
    page = client.get("/", query_string=[("size", "micro"), ("size", "small"), ("lang", "de")])
    assert language_switch(page.get_data(as_text=True)) == (
        "/",
        [("size", "micro"), ("size", "small")],
    )


@pytest.mark.parametrize("url", PUBLIC_FILTER_URLS)
@pytest.mark.parametrize("parameter", ["q", "near", "sector", "bbox"])
def test_a_nul_byte_in_a_filter_is_a_400(client, url, parameter):
    response = client.get(url, query_string={parameter: "Bäcker\x00ei"})
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response.get_json()["parameter"] == parameter


def _outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage)))


def test_production_refuses_a_foreign_host_header(database_url, make_company):
    make_company("Tischlerei Holz", contact_email="owner@holz.example")
    with temporary_app(
        database_url,
        APP_ENV="production",
        SECRET_KEY="k" * 40,
        BASE_URL="https://atlas.test",
        WTF_CSRF_ENABLED=False,
    ) as app:
        client = app.test_client()
        evil = {"Host": "evil.example"}
        assert client.get("/", headers=evil, base_url="https://evil.example").status_code == 400
        response = client.post(
            "/mitmachen/aendern",
            data={"email": "owner@holz.example"},
            headers=evil,
            base_url="https://evil.example",
        )
        assert response.status_code == 400
        assert _outbox(app) == []
        ok = client.get("/", base_url="https://atlas.test")
        assert ok.status_code == 200


def test_mailed_links_use_base_url_not_the_request_host(database_url, make_company):
    make_company("Tischlerei Holz", contact_email="owner@holz.example")
    with temporary_app(database_url, BASE_URL="https://atlas.test", WTF_CSRF_ENABLED=False) as app:
        client = app.test_client()
        client.post(
            "/mitmachen/aendern",
            data={"email": "owner@holz.example"},
            headers={"Host": "evil.example"},
        )
        (mail,) = _outbox(app)
    assert "https://atlas.test/mitmachen/aendern/" in mail.body
    assert "evil.example" not in mail.body


def _spread(make_company, count: int) -> None:
    """``count`` employers in a row, each in its own map grid cell even at zoom 14."""
    for number in range(count):
        make_company(f"Betrieb {number}", lon=7.0 + number * 0.02, lat=51.6)


def test_unclustered_map_data_are_capped_with_exact_counts(database_url, make_company):
    _spread(make_company, 8)
    with temporary_app(database_url, CLUSTER_THRESHOLD=3, MAP_FEATURE_LIMIT=5) as app:
        data = app.test_client().get("/api/employers?zoom=15").get_json()
    assert data["total"] == 8 and data["matched"] == 8
    assert data["clustered"] is False
    assert data["limited"] is True and data["limit"] == 5
    assert len(data["features"]) == 5


def test_single_employers_beside_clusters_are_capped_too(database_url, make_company):
    _spread(make_company, 8)
    with temporary_app(database_url, CLUSTER_THRESHOLD=3, MAP_FEATURE_LIMIT=5) as app:
        data = app.test_client().get("/api/employers?zoom=14").get_json()
    assert data["clustered"] is True and data["total"] == 8
    assert data["limited"] is True
    assert len([f for f in data["features"] if not f["properties"].get("cluster")]) == 5


def test_map_data_under_the_cap_are_complete(client, make_company):
    _spread(make_company, 4)
    data = client.get("/api/employers?zoom=15").get_json()
    assert data["limited"] is False and len(data["features"]) == 4 == data["total"]


def test_the_public_api_is_rate_limited_per_client(database_url):
    with temporary_app(database_url, RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute") as app:
        client = app.test_client()
        statuses = [client.get("/api/taxonomies").status_code for _ in range(3)]
        limited = client.get("/api/employers")
        other_client = app.test_client().get(
            "/api/taxonomies", environ_base={"REMOTE_ADDR": "192.0.2.7"}
        )
        page = client.get("/")
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert "Zu viele Anfragen" in limited.get_json()["message"]
    assert "Retry-After" in limited.headers
    assert other_client.status_code == 200
    assert page.status_code == 200  # the pages are not counted against the API


def test_the_server_header_names_no_software_versions(app):
    server = make_server("127.0.0.1", 0, app, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/healthz"
        with urllib.request.urlopen(url, timeout=10) as response:
            headers = response.headers.get_all("Server")
    finally:
        server.shutdown()
        server.server_close()
    assert headers == ["KMU-Atlas"]


def test_make_run_serves_with_the_quiet_handler(runner, monkeypatch):
    calls = []
    monkeypatch.setattr("app.cli.run_simple", lambda *args, **kwargs: calls.append((args, kwargs)))
    result = runner.invoke(args=["serve", "--port", "5055"])
    assert result.exit_code == 0, result.output
    ((args, kwargs),) = calls
    assert args[:2] == ("127.0.0.1", 5055)
    assert kwargs["request_handler"] is QuietRequestHandler


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(database_url):
    with temporary_app(
        database_url, RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute", PROXY_COUNT=1
    ) as app:
        client = app.test_client()

        def from_client(address):
            return client.get("/api/taxonomies", headers={"X-Forwarded-For": address})

        assert [from_client("198.51.100.1").status_code for _ in range(3)] == [200, 200, 429]
        assert from_client("198.51.100.2").status_code == 200  # another client, same proxy


def post_form(client, url, form, content_type):
    """POST ``form`` encoded as ``content_type``, built in memory: Werkzeug's test client would
    put a multipart body over 500 KB in a temporary file that it never closes."""
    if content_type == "multipart/form-data":
        boundary, body = encode_multipart(form)
        content_type = f"multipart/form-data; boundary={boundary}"
    else:
        body = urlencode(form)
    return client.post(url, data=body, content_type=content_type)


@pytest.mark.parametrize(
    ("form", "content_type"),
    [
        ({f"field{n}": "x" for n in range(1001)}, "multipart/form-data"),
        ({"name": "x" * (501 * 1024)}, "multipart/form-data"),
        ({"name": "x" * (501 * 1024)}, "application/x-www-form-urlencoded"),
    ],
    ids=["too-many-fields", "too-much-text", "too-much-urlencoded-text"],
)
def test_an_oversized_form_is_a_413_with_a_german_message(client, form, content_type):
    response = post_form(client, "/mitmachen/start", form, content_type)
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Die gesendeten Daten sind zu groß" in page
    assert "höchstens 10 MB" in page and "höchstens 500 KB" in page


def test_a_form_within_the_limits_is_not_refused(client):
    for content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = {f"f{n}": "x" * 400 for n in range(999)}
        response = post_form(client, "/mitmachen/start", form, content_type)
        assert response.status_code != 413, content_type


def test_a_multipart_upload_may_be_larger_than_a_form(client):
    file = FileStorage(io.BytesIO(b"x" * (2 * 1024 * 1024)), "liste.csv", "file", "text/csv")
    response = post_form(client, "/mitmachen/start", {"file": file}, "multipart/form-data")
    assert response.status_code != 413


def test_an_unreachable_rate_limit_storage_does_not_fail_requests(database_url):
    # Redis down (nothing listens on port 1): each process counts on its own meanwhile.
    with temporary_app(
        database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
        API_RATE_LIMIT="2 per minute",
    ) as app:
        client = app.test_client()
        statuses = [client.get("/api/employers/list").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
