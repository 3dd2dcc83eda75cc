"""The security headers of every answer (Content-Security-Policy with nonces, nosniff, referrer
and permissions policies, HSTS over HTTPS only) and the CSP report endpoint."""

import logging
import re

import pytest

from tests.conftest import TILE_URL, temporary_app

PAGES = ["/", "/ueber", "/veranstaltungen", "/mitmachen/", "/datenschutz", "/agentur/anmelden"]


def directives(response) -> dict[str, str]:
    """The response's policy as {directive: sources}."""
    policy = response.headers["Content-Security-Policy"]
    parts = [part.strip().split(" ", 1) for part in policy.split(";") if part.strip()]
    return {name: (rest[0] if rest else "") for name, *rest in parts}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_policy_without_unsafe_inline_scripts(client, path):
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200, path
    policy = directives(response)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'"
    assert policy["report-uri"] == "/csp-report"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # (no-referrer on the pages with a personal link in their address)
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert "geolocation=()" in response.headers["Permissions-Policy"]
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "X-XSS-Protection" not in response.headers


def test_inline_scripts_carry_the_nonce_of_their_answer(client, make_company):
    make_company(name="Nonce Bäckerei", slug="nonce-baeckerei")
    slug = "nonce-baeckerei"
    first = client.get(f"/arbeitgeber/{slug}")
    second = client.get(f"/arbeitgeber/{slug}")
    nonces = []
    for response in (first, second):
        nonce = re.search(r"'nonce-([^']+)'", directives(response)["script-src"]).group(1)
        html = response.get_data(as_text=True)
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
        assert inline, "the detail page has its map script and structured data inline"
        assert all(f'nonce="{nonce}"' in attributes for attributes in inline), inline
        nonces.append(nonce)
    assert nonces[0] != nonces[1], "a nonce is never used twice"
    assert len(nonces[0]) >= 16


def test_images_may_come_from_the_configured_tile_server_only(client):
    sources = directives(client.get("/"))["img-src"].split()
    tile_origin = TILE_URL.split("/{z}")[0]
    assert sources == ["'self'", "data:", tile_origin]


def test_a_tile_server_with_subdomains_is_allowed_as_a_wildcard(database_url):
    url = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    with temporary_app(database_url, TILE_URL=url) as app:
        sources = directives(app.test_client().get("/"))["img-src"].split()
    assert "https://*.tiles.example.org" in sources


def test_hsts_only_over_https(database_url):
    with temporary_app(database_url, PROXY_COUNT=1) as app:
        client = app.test_client()
        plain = client.get("/datenschutz")
        secure = client.get("/datenschutz", headers={"X-Forwarded-Proto": "https"})
        direct = client.get("/datenschutz", base_url="https://localhost")
    assert "Strict-Transport-Security" not in plain.headers
    for response in (secure, direct):
        max_age = re.match(r"max-age=(\d+)", response.headers["Strict-Transport-Security"])
        assert int(max_age.group(1)) >= 365 * 24 * 3600


def test_the_policy_never_forces_https_nor_changes_the_session_cookie(client):
    response = client.get("/mitmachen/")
    assert response.status_code in (200, 302)
    assert not response.headers.get("Location", "").startswith("https://")
    assert client.application.config["SESSION_COOKIE_SECURE"] is False


def test_embed_pages_keep_their_frame_ancestors_and_the_policy(client):
    response = client.get("/einbetten/karte")
    policy = directives(response)
    assert policy["frame-ancestors"] != "'none'"
    assert "'nonce-" in policy["script-src"]
    assert policy["object-src"] == "'none'"


def test_a_csp_report_is_logged_without_a_csrf_token(client, caplog, monkeypatch):
    # The migrations' logging set-up (fileConfig) disables the loggers that existed before it.
    monkeypatch.setattr(logging.getLogger("app.blueprints.csp_report"), "disabled", False)
    report = {
        "csp-report": {
            "document-uri": "http://localhost/",
            "effective-directive": "script-src-elem",
            "blocked-uri": "inline",
            "line-number": 12,
            "original-policy": "x" * 5000,
        }
    }
    with caplog.at_level(logging.WARNING, logger="app.blueprints.csp_report"):
        response = client.post(
            "/csp-report", json=report, headers={"Content-Type": "application/csp-report"}
        )
    assert response.status_code == 204
    [record] = [r for r in caplog.records if r.name == "app.blueprints.csp_report"]
    message = record.getMessage()
    assert "script-src-elem" in message and "inline" in message
    assert "xxxx" not in message, "only the named fields are logged"


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"not json", 400), (b'{"other": 1}', 400), (b'{"csp-report": "x"}', 400)],
)
def test_a_csp_report_that_is_no_report_is_refused(client, body, status):
    response = client.post("/csp-report", data=body, content_type="application/csp-report")
    assert response.status_code == status


def test_an_oversized_csp_report_is_refused(client):
    body = b'{"csp-report": {"blocked-uri": "' + b"a" * 20000 + b'"}}'
    response = client.post("/csp-report", data=body, content_type="application/csp-report")
    assert response.status_code == 413


def test_a_page_with_a_personal_link_keeps_its_stricter_referrer_policy(client):
    assert client.get("/mitmachen/").headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/").headers["Referrer-Policy"] == "same-origin"
