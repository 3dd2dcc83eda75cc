"""Embedding on partner websites: the builder's snippet, the framed map and event list, and
which pages other sites may frame (frame-ancestors / X-Frame-Options)."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from app import create_app
from app.config import ConfigError, frame_ancestors
from app.models import CompanyStatus
from tests.conftest import default_start, temporary_app, test_config

#: Gladbeck's AGS (geodata/regions/emscher_lippe/region.json) and a point in the town.
GLADBECK = "05562014"
GLADBECK_POINT = {"lon": 6.993, "lat": 51.573}
RECKLINGHAUSEN = "05562032"
BBOX = "6.5,51.3,7.6,51.9"


def snippet_src(page: str) -> str:
    """The src of the iframe in the builder's read-only textarea."""
    code = re.search(r'<textarea id="embed-code"[^>]*>(.*?)</textarea>', page, re.S)
    assert code, "no snippet on the page"
    iframe = html.unescape(code.group(1))
    assert iframe.startswith("<iframe ") and iframe.endswith("></iframe>")
    assert 'loading="lazy"' in iframe and 'width="100%"' in iframe
    return html.unescape(re.search(r'src="([^"]+)"', iframe).group(1))


def snippet_attribute(page: str, name: str) -> str:
    code = re.search(r'<textarea id="embed-code"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    return html.unescape(re.search(rf'{name}="([^"]*)"', html.unescape(code)).group(1))


def query_of(url: str) -> dict[str, str]:
    return {key: ",".join(values) for key, values in parse_qs(urlsplit(url).query).items()}


def data_config(page: str) -> dict:
    raw = re.search(r'id="atlas"[^>]*data-config="([^"]+)"', page).group(1)
    return json.loads(html.unescape(raw))


@pytest.fixture
def employers(make_company):
    """Gladbeck manufacturing with part-time work (the match), and one each that misses one
    condition, or is not published."""
    gladbeck = {"municipality_ags": GLADBECK, "town": "Gladbeck", "postal_code": "45964"}
    return {
        "match": make_company(
            "Gladbecker Metallbau",
            sectors=("25",),
            family=("part_time",),
            **gladbeck,
            **GLADBECK_POINT,
        ),
        "other_sector": make_company(
            "Gladbecker Dachdecker",
            sectors=("43",),
            family=("part_time",),
            **gladbeck,
            **GLADBECK_POINT,
        ),
        "no_family": make_company(
            "Gladbecker Gießerei", sectors=("24",), **gladbeck, **GLADBECK_POINT
        ),
        "elsewhere": make_company(
            "Recklinghäuser Metallbau", sectors=("25",), family=("part_time",)
        ),
        "pending": make_company(
            "Gladbecker Wartebetrieb",
            sectors=("25",),
            family=("part_time",),
            status=CompanyStatus.PENDING,
            **gladbeck,
            **GLADBECK_POINT,
        ),
    }


# --- the builder -----------------------------------------------------------------------------
def test_builder_page_offers_both_choices(client):
    response = client.get("/einbetten")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="embed-map-form"' in page and 'id="embed-events-form"' in page
    assert f'value="{GLADBECK}"' in page  # the municipalities come from the region
    assert 'name="layer"' in page and 'value="transit"' in page  # the configured layer kinds
    assert "embed-code" not in page  # nothing chosen yet


def test_builder_makes_a_map_snippet_with_the_chosen_filters(database_url):
    with temporary_app(database_url, BASE_URL="https://atlas.example.org") as app:
        client = app.test_client()
        response = client.get(
            "/einbetten?art=karte&municipality="
            + GLADBECK
            + "&sector=c&family=part_time&family=home_office&layer=transit&hoehe=640"
        )
        page = response.get_data(as_text=True)
    assert response.status_code == 200
    src = snippet_src(page)
    assert src.startswith("https://atlas.example.org/einbetten/karte?")
    assert query_of(src) == {
        "sector": "C",
        "municipality": GLADBECK,
        "family": "part_time,home_office",
        "layer": "transit",
    }
    assert snippet_attribute(page, "height") == "640"
    assert "Karte der Arbeitgeber" in snippet_attribute(page, "title")
    # the preview frames the same address
    assert f'id="embed-preview" src="{html.escape(src)}"' in page
    # the form keeps the choice
    assert re.search(r'value="part_time" checked', page)
    assert re.search(r'value="home_office" checked', page)
    assert re.search(r'<option value="transit" selected>', page)


def test_builder_makes_an_event_list_snippet(client):
    response = client.get(
        f"/einbetten?art=veranstaltungen&kind=info_event&municipality={GLADBECK}&free=yes"
        "&attendance=on_site&sprache=en"
    )
    assert response.status_code == 200
    src = snippet_src(response.get_data(as_text=True))
    assert urlsplit(src).path == "/einbetten/veranstaltungen"
    assert urlsplit(src).scheme in ("http", "https")  # absolute
    assert query_of(src) == {
        "kind": "info_event",
        "municipality": GLADBECK,
        "free": "yes",
        "attendance": "on_site",
        "lang": "en",
    }


@pytest.mark.parametrize(
    ("query", "parameter", "message", "kept"),
    [
        ("art=karte&sector=ZZ", "sector", "Unbekannter Wirtschaftszweig „ZZ“", '"ZZ" selected'),
        ("art=karte&layer=bunker", "layer", "Unbekannte Ebene „bunker“", '"bunker" selected'),
        ("art=karte&hoehe=50", "hoehe", "Die Höhe muss eine ganze Zahl", 'value="50"'),
        (
            "art=veranstaltungen&kind=party",
            "kind",
            "Unbekannte Art der Veranstaltung „party“",
            '"party" selected',
        ),
        ("art=plakat", "art", "Wählen Sie, was eingebunden werden soll", None),
    ],
)
def test_builder_refuses_a_bad_parameter_with_a_message(client, query, parameter, message, kept):
    response = client.get(f"/einbetten?{query}")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert message in page
    assert f'data-parameter="{parameter}"' in page
    assert "embed-code" not in page  # no snippet for a bad choice
    if kept:
        assert kept in page  # what was typed is still in the form


# --- the embedded map ------------------------------------------------------------------------
FILTER = f"municipality={GLADBECK}&sector=C&family=part_time"


def test_embedded_map_carries_the_filters_to_its_data_requests(client, employers):
    response = client.get(f"/einbetten/karte?{FILTER}&layer=transit")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<meta name="robots" content="noindex">' in page
    assert 'class="site-header"' not in page and 'class="site-footer"' not in page
    config = data_config(page)
    assert config["embed"] == {
        "query": {"sector": "C", "municipality": GLADBECK, "family": "part_time"},
        "layer": "transit",
    }
    primary = config["sources"][0]
    assert primary["key"] == "employers"
    assert "transit" in [source["key"] for source in config["sources"]]
    # the count and the link into the atlas follow the filter
    assert "1 Arbeitgeber gefunden" in page
    link = re.search(r'<a class="embed-open" id="embed-open" href="([^"]+)"([^>]*)>', page)
    assert query_of(html.unescape(link.group(1))) == config["embed"]["query"]
    assert urlsplit(html.unescape(link.group(1))).path == "/"
    assert 'target="_blank"' in link.group(2) and 'rel="noopener"' in link.group(2)
    # the map data the page's script asks for: the same parameters, only the match
    for url in (primary["mapUrl"], "/api/employers"):
        data = client.get(f"{url}?{FILTER}&zoom=18&bbox={BBOX}").get_json()
        names = [feature["properties"]["name"] for feature in data["features"]]
        assert names == ["Gladbecker Metallbau"], url
    # and without the filter there is more
    everything = client.get(f"{primary['mapUrl']}?zoom=18&bbox={BBOX}").get_json()
    assert len(everything["features"]) == 4


def test_embedded_map_refuses_a_bad_filter(client, employers):
    response = client.get("/einbetten/karte?municipality=99999999")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert 'data-parameter="municipality"' in page
    assert "Unbekannte Gemeinde „99999999“" in page
    assert client.get("/einbetten/karte?layer=bunker").status_code == 400


# --- the embedded event list -----------------------------------------------------------------
def test_embedded_event_list_shows_only_matching_published_upcoming_events(client, make_event):
    gladbeck = {"municipality_ags": GLADBECK, "town": "Gladbeck", "postal_code": "45964"}
    make_event("Infoabend Gladbeck", **gladbeck)
    make_event("Jobmesse Gladbeck", kind="job_fair", **gladbeck)
    make_event("Infoabend Recklinghausen", municipality_ags=RECKLINGHAUSEN)
    make_event("Infoabend Gladbeck ungeprüft", status="pending", **gladbeck)
    make_event("Infoabend Gladbeck abgelehnt", status="rejected", **gladbeck)
    past = default_start(days=-10)
    make_event(
        "Infoabend Gladbeck vorbei", starts_at=past, ends_at=past + timedelta(hours=2), **gladbeck
    )
    response = client.get(f"/einbetten/veranstaltungen?kind=info_event&municipality={GLADBECK}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<meta name="robots" content="noindex">' in page
    assert 'class="site-header"' not in page
    titles = re.findall(
        r'class="event-link" href="([^"]+)" target="_blank" rel="noopener"[^>]*>([^<]+)<', page
    )
    assert [title for _href, title in titles] == ["Infoabend Gladbeck"]
    assert urlsplit(html.unescape(titles[0][0])).path.startswith("/veranstaltungen/")
    assert urlsplit(html.unescape(titles[0][0])).scheme in ("http", "https")
    link = re.search(r'id="embed-open" href="([^"]+)"', page).group(1)
    assert query_of(html.unescape(link)) == {"kind": "info_event", "municipality": GLADBECK}
    # without filters: every published upcoming one, nothing else
    page = client.get("/einbetten/veranstaltungen").get_data(as_text=True)
    shown = {
        title
        for _href, title in re.findall(
            r'class="event-link" href="([^"]+)" target="_blank" rel="noopener"[^>]*>([^<]+)<', page
        )
    }
    assert shown == {"Infoabend Gladbeck", "Jobmesse Gladbeck", "Infoabend Recklinghausen"}


def test_embedded_event_list_refuses_a_bad_filter(client):
    response = client.get("/einbetten/veranstaltungen?free=vielleicht")
    assert response.status_code == 400
    assert 'data-parameter="free"' in response.get_data(as_text=True)


# --- framing ---------------------------------------------------------------------------------
def frame_ancestors_of(response) -> str:
    """The ``frame-ancestors`` directive of the response's policy (the rest is checked in
    test_security_headers.py)."""
    directives = response.headers["Content-Security-Policy"].split(";")
    [found] = [d.strip() for d in directives if d.strip().startswith("frame-ancestors")]
    return found


def assert_not_frameable(response, url):
    assert response.headers.get("X-Frame-Options") == "DENY", url
    assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", ""), url


def test_only_the_embed_pages_may_be_framed(client, employers, make_event):
    make_event("Infoabend")
    for url in (f"/einbetten/karte?{FILTER}", "/einbetten/veranstaltungen?kind=info_event"):
        response = client.get(url)
        assert response.status_code == 200
        assert "X-Frame-Options" not in response.headers, url
        assert frame_ancestors_of(response) == "frame-ancestors *", url
    # a bad filter's answer is still the embed page (the partner's frame shows the message)
    assert "X-Frame-Options" not in client.get("/einbetten/karte?sector=ZZ").headers
    for url in (
        "/",
        f"/arbeitgeber/test-{employers['match']}",
        "/veranstaltungen",
        "/einbetten",
        "/einbetten?art=karte&sector=ZZ",
        "/agentur/anmelden",
        "/api/employers",
        "/gibt-es-nicht",
    ):
        response = client.get(url)
        assert response.status_code in (200, 404, 422), url
        assert_not_frameable(response, url)


def test_the_sites_that_may_frame_are_configurable(database_url):
    sites = "https://www.gladbeck.de, https://*.kreis-re.de"
    with temporary_app(database_url, EMBED_FRAME_ANCESTORS=sites) as app:
        client = app.test_client()
        policy = frame_ancestors_of(client.get("/einbetten/veranstaltungen"))
        assert policy == "frame-ancestors 'self' https://www.gladbeck.de https://*.kreis-re.de"
        assert_not_frameable(client.get("/"), "/")


@pytest.mark.parametrize(
    "value",
    ["javascript:alert(1)", "https://a.example/; script-src *", "* https://a.example", "ftp://x"],
)
def test_a_bad_frame_ancestors_setting_stops_start_up(database_url, value):
    with pytest.raises(ConfigError) as raised:
        create_app(test_config(database_url, EMBED_FRAME_ANCESTORS=value))
    message = str(raised.value)
    assert message.startswith("EMBED_FRAME_ANCESTORS")
    assert message.count(".") >= 1 and "\n" not in message


def test_frame_ancestors_values():
    assert frame_ancestors(None) == "*"
    assert frame_ancestors("  ") == "*"
    assert frame_ancestors("'self'") == "'self'"
    assert frame_ancestors("https://www.gladbeck.de/ http://localhost:8080") == (
        "'self' https://www.gladbeck.de http://localhost:8080"
    )


def test_a_policy_a_view_set_is_kept(database_url):
    from flask import Response

    with temporary_app(database_url) as app:
        app.add_url_rule(
            "/eigene-policy",
            "own_policy",
            lambda: Response("x", headers={"Content-Security-Policy": "default-src 'self'"}),
        )
        app.add_url_rule(
            "/eigene-ancestors",
            "own_ancestors",
            lambda: Response("x", headers={"Content-Security-Policy": "frame-ancestors 'self'"}),
        )
        client = app.test_client()
        own = client.get("/eigene-policy").headers["Content-Security-Policy"]
        assert own == "default-src 'self'; frame-ancestors 'none'"
        kept = client.get("/eigene-ancestors").headers["Content-Security-Policy"]
        assert kept == "frame-ancestors 'self'"
