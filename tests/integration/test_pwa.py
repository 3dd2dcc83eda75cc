"""The installable app on the server side: the manifest, the service worker's file, the offline
page, what no cache may keep (Cache-Control of the workspace, the questionnaire, personal links
and signed-in staff), and contact in one tap on the employer page."""

from __future__ import annotations

import json
import re

import pytest

from app.cache_policy import NO_STORE, NO_STORE_PREFIXES, never_stored
from app.extensions import db
from app.models import Event
from app.pwa import PUBLIC_BLUEPRINTS
from tests.conftest import temporary_app

#: Blueprints whose pages hold nothing personal: they may be kept by a cache (the worker keeps
#: only what its own table allows). Every other blueprint's pages must never be stored.
# (health: not personal; its answers say no-store themselves.)
SHAREABLE_BLUEPRINTS = PUBLIC_BLUEPRINTS | {
    "api",
    "region",
    "ogc",
    "embed",
    "registration",
    "health",
    "csp_report",
}


def manifest(client, query=""):
    response = client.get(f"/manifest.webmanifest{query}")
    assert response.status_code == 200
    assert response.content_type == "application/manifest+json"
    return json.loads(response.get_data(as_text=True))


def test_the_manifest_has_what_installing_needs(client):
    data = manifest(client)
    for field in ("id", "name", "short_name", "start_url", "scope", "display", "icons"):
        assert data[field], field
    assert data["name"] == "KMU-Atlas Emscher-Lippe"
    assert data["short_name"] == "KMU-Atlas"
    assert data["display"] == "standalone"
    assert data["scope"] == "/"
    assert data["start_url"].startswith(data["scope"])
    assert (data["lang"], data["dir"]) == ("de", "ltr")
    assert re.fullmatch(r"#[0-9a-f]{6}", data["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", data["background_color"])
    pngs = {
        (icon["sizes"], icon["purpose"]) for icon in data["icons"] if icon["type"] == "image/png"
    }
    assert {
        ("192x192", "any"),
        ("512x512", "any"),
        ("192x192", "maskable"),
        ("512x512", "maskable"),
    } <= pngs


def test_every_icon_of_the_manifest_is_served(client):
    for icon in manifest(client)["icons"]:
        response = client.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        assert response.content_type.startswith(icon["type"]), icon["src"]
        response.close()


def test_the_manifest_speaks_the_interface_language(client, app):
    data = manifest(client, "?lang=en")
    assert data["lang"] == "en"
    assert data["name"] == f"KMU-Atlas {app.config['REGION'].name_en}"
    assert data["description"].startswith(f"KMU-Atlas {app.config['REGION'].name_en}: ")
    assert "employers" in data["description"]


def test_the_manifest_runs_right_to_left_in_arabic(client):
    data = manifest(client, "?lang=ar")
    assert (data["lang"], data["dir"]) == ("ar", "rtl")


def test_the_theme_colour_is_the_regions(client, app):
    assert manifest(client)["theme_color"] == app.config["REGION"].theme.primary
    page = client.get("/").get_data(as_text=True)
    assert f'<meta name="theme-color" content="{app.config["REGION"].theme.primary}">' in page


@pytest.mark.parametrize(
    "path", ["/", "/veranstaltungen", "/merkliste", "/ueber", "/agentur/anmelden", "/mitmachen/"]
)
def test_every_page_links_the_manifest(client, path):
    page = client.get(path).get_data(as_text=True)
    assert re.search(r'<link rel="manifest" href="/manifest\.webmanifest\?lang=de">', page), path
    assert re.search(
        r'<link rel="apple-touch-icon" href="/static/icons/apple-touch-icon.png\?v=\w+">', page
    )


@pytest.mark.parametrize(
    ("path", "registers"),
    [
        ("/", True),
        ("/veranstaltungen", True),
        ("/merkliste", True),
        ("/offline", True),
        ("/agentur/anmelden", False),
        ("/mitmachen/", False),
        ("/einbetten/karte", False),
    ],
)
def test_only_the_public_side_registers_the_worker(client, path, registers):
    page = client.get(path).get_data(as_text=True)
    assert ('id="app-shell"' in page) is registers, path
    assert ('id="shortlist-link"' in page) is registers, path
    assert "serviceWorker" not in page  # no inline script: the module registers it


def test_the_worker_is_served_for_the_whole_site_and_never_from_a_cache(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.content_type.startswith("text/javascript")
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    shell = json.loads(re.match(r"const SHELL = (\{.*?\});\n", body).group(1))
    assert re.fullmatch(r"[0-9a-f]{16}", shell["version"])
    assert shell["offline"] == "/offline"
    assert shell["pages"] == ["/", "/merkliste"]
    for asset in (
        "/static/css/app.css",
        "/static/js/app-shell.js",
        "/static/js/atlas.js",
        "/static/js/atlas/source-layer.js",
        "/static/js/shortlist-page.js",
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet/leaflet.css",
        "/static/icons/icon-192.png",
        "/static/favicon.svg",
    ):
        # each under its content's hash (app/static_assets.py)
        assert any(url.startswith(f"{asset}?v=") for url in shell["assets"]), asset
    assert any(asset.startswith("/region/theme.css?v=") for asset in shell["assets"])
    assert 'addEventListener("fetch"' in body


def test_every_file_the_worker_caches_at_install_is_there(client):
    # One missing file would make the install fail (cache.addAll is all or nothing).
    body = client.get("/sw.js").get_data(as_text=True)
    shell = json.loads(re.match(r"const SHELL = (\{.*?\});\n", body).group(1))
    for url in [*shell["assets"], *shell["pages"], shell["offline"]]:
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


def test_the_offline_page_may_be_kept(client):
    response = client.get("/offline")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Set-Cookie" not in response.headers
    assert "Sie sind offline" in response.get_data(as_text=True)


# --- what no cache may keep ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/agentur/anmelden",
        "/agentur/",
        "/mitmachen/",
        "/mitmachen/weiter/ein-falscher-token",
        "/mitmachen/bestaetigen/ein-falscher-token",
        "/veranstaltungen/abmelden/ein-falscher-token",
        "/suchauftrag",
    ],
)
def test_workspace_questionnaire_and_personal_links_are_never_stored(client, path):
    response = client.get(path)
    assert response.headers["Cache-Control"] == NO_STORE, (path, response.status_code)


def test_the_signed_in_workspace_is_never_stored(client, auth):
    auth.login("curator")
    for path in ("/agentur/", "/agentur/eintraege", "/agentur/veranstaltungen/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == NO_STORE, path


def test_a_public_page_shown_to_signed_in_staff_is_never_stored(client, auth):
    auth.login("curator")
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == NO_STORE
    static = client.get("/static/css/app.css")
    assert static.headers.get("Cache-Control") != NO_STORE
    static.close()


def test_a_page_that_sets_a_cookie_is_private_and_the_next_one_may_be_kept(client, make_event):
    make_event("Infoabend", registration_open=True, capacity=5)
    with client.application.app_context():
        slug = db.session.scalars(db.select(Event.slug)).one()
    first = client.get(f"/veranstaltungen/{slug}")  # its registration form starts a session
    assert "session=" in first.headers.get("Set-Cookie", "")
    assert "private" in first.headers["Cache-Control"]
    # The visitor's session is not rewritten on the next pages (no Set-Cookie): they may be kept.
    for path in (f"/veranstaltungen/{slug}", "/", "/merkliste"):
        again = client.get(path)
        assert "Set-Cookie" not in again.headers, path
        assert "private" not in again.headers.get("Cache-Control", ""), path


def test_a_signed_in_session_used_from_another_browser_is_still_dropped(client, auth):
    # Only sessions with a user are protected now; for them "strong" protection still holds.
    auth.login("curator")
    assert client.get("/agentur/").status_code == 200
    response = client.get("/agentur/", headers={"User-Agent": "Ein anderer Browser"})
    assert response.status_code == 403  # signed out: the sign-in form
    assert 'name="password"' in response.get_data(as_text=True)
    assert client.get("/agentur/").status_code == 403  # and the session stays ended


def test_choosing_a_language_sets_a_cookie_and_that_answer_is_private(client):
    response = client.get("/?lang=en")
    assert "lang=en" in response.headers["Set-Cookie"]
    assert "private" in response.headers["Cache-Control"]


def sample_path(rule) -> str:
    """A path for a URL rule, its variables filled with plausible values."""
    return re.sub(
        r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: "1" if "id" in m.group(1) else "x", rule.rule
    )


def test_every_route_behind_a_login_or_a_personal_link_is_never_stored(app):
    # Found in the URL map: a new workspace or questionnaire route, or any route with a token,
    # is covered without changing this test.
    checked = 0
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0] or None
        personal = "token" in rule.arguments or blueprint not in SHAREABLE_BLUEPRINTS | {None}
        if personal:
            assert never_stored(sample_path(rule)), (rule.rule, rule.endpoint)
            checked += 1
        elif rule.endpoint != "static":
            assert not never_stored(sample_path(rule)), (rule.rule, rule.endpoint)
    assert checked > 30


def test_the_no_store_prefixes_match_whole_path_segments():
    assert never_stored("/agentur") and never_stored("/agentur/x")
    assert not never_stored("/agenturen")
    assert not never_stored("/veranstaltungen/abmelden-party")
    assert all(prefix.startswith("/") for prefix in NO_STORE_PREFIXES)


# --- contact in one tap -------------------------------------------------------------------------


def test_the_employer_page_contacts_in_one_tap(client, make_company):
    make_company(
        "Tischlerei Holzwurm",
        slug="tischlerei-holzwurm",
        lon=7.1975,
        lat=51.6146,
        phone="02361 / 12 34-5",
        email="info@holzwurm.example",
        website="https://holzwurm.example",
    )
    page = client.get("/arbeitgeber/tischlerei-holzwurm").get_data(as_text=True)
    actions = re.search(r'<p class="contact-actions">(.*?)</p>', page, re.S).group(1)
    links = dict(re.findall(r'class="contact-action contact-(\w+)" href="([^"]+)"', actions))
    assert links == {
        "call": "tel:+49236112345",
        "email": "mailto:info@holzwurm.example",
        "website": "https://holzwurm.example",
        "route": "https://www.openstreetmap.org/directions?to=51.614600%2C7.197500",
    }
    for label in ("Anrufen", "E-Mail schreiben", "Website", "Route"):
        assert f'aria-label="{label}: Tischlerei Holzwurm">{label}</a>' in actions
    assert 'rel="noopener noreferrer" aria-label="Route: ' in actions
    assert "02361 / 12 34-5" in page  # shown as written
    assert 'data-shortlist-slug="tischlerei-holzwurm"' in page  # "Merken", for the script


def test_without_a_phone_or_website_those_links_are_left_out(client, make_company):
    make_company("Stiller Betrieb", slug="stiller-betrieb", website="javascript:alert(1)")
    page = client.get("/arbeitgeber/stiller-betrieb").get_data(as_text=True)
    actions = re.search(r'<p class="contact-actions">(.*?)</p>', page, re.S).group(1)
    assert "contact-call" not in actions and "contact-email" not in actions
    assert "javascript:" not in actions
    assert "contact-route" in actions


def test_the_route_link_follows_the_route_url_setting(database_url, make_company):
    make_company("Routenbetrieb", slug="routenbetrieb", lon=7.0, lat=51.5)
    template = "https://routing.example.org/route?ziel={lat},{lon}"
    with temporary_app(database_url, ROUTE_URL=template) as app:
        page = app.test_client().get("/arbeitgeber/routenbetrieb").get_data(as_text=True)
    assert 'href="https://routing.example.org/route?ziel=51.500000,7.000000"' in page


def test_an_event_page_offers_the_route_and_merken(client, app, make_event):
    event_id = make_event("Jobmesse Marl", location=(7.09, 51.65))
    online_id = make_event(
        "Bewerbung per Video",
        attendance="online",
        online_url="https://meet.example.test/raum",
        location=None,
        venue="",
    )
    with app.app_context():
        slug, online = (db.session.get(Event, i).slug for i in (event_id, online_id))
    page = client.get(f"/veranstaltungen/{slug}").get_data(as_text=True)
    route = "https://www.openstreetmap.org/directions?to=51.650000%2C7.090000"
    assert f'class="contact-action contact-route" href="{route}"' in page
    assert f'data-shortlist-type="event" data-shortlist-slug="{slug}"' in page
    page = client.get(f"/veranstaltungen/{online}").get_data(as_text=True)
    assert "contact-route" not in page  # online only: nowhere to go
    assert f'data-shortlist-slug="{online}"' in page
