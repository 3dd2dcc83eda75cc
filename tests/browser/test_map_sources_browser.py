"""The map's feature sources in the browser: the legend, filter rules read from the declared
parameters (radius default, the badge), and one Leaflet layer per declared source."""

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.test_start_page_browser import loads, open_map, wait_loaded
from tests.fixtures import EMPLOYERS

pytestmark = pytest.mark.browser


@pytest.fixture
def known(make_company):
    return {letter: make_company(**fields) for letter, fields in EMPLOYERS.items()}


def declared(page, name):
    """The first source's declaration of the parameter ``name``, as the page hands it over."""
    return page.evaluate(
        "(name) => JSON.parse(document.getElementById('atlas').dataset.config)"
        ".sources[0].parameters.find((p) => p.name === name)",
        name,
    )


def settle(page):
    """Wait until the map has stopped moving after opening (a view adjustment may load once
    more) and nothing is in flight."""
    page.wait_for_timeout(500)
    wait_loaded(page, loads(page))


def test_legend_names_the_employer_source(page, live_server, known):
    open_map(page, live_server)
    legend = page.locator("#atlas .atlas-legend")
    assert legend.is_visible()
    entries = page.get_by_role("list", name="Legende", exact=True).get_by_role("listitem")
    # Employers, events, then the layer kinds (switched off, app/data/layer_kinds.json).
    assert entries.locator(".atlas-legend-label").all_text_contents() == [
        "Arbeitgeber",
        "Veranstaltungen",
        "Kinderbetreuung",
        "Wohnungsangebote",
        "Haltestellen",
        "Bildungsangebote",
    ]
    assert entries.first.get_attribute("data-source") == "employers"
    # The legend's symbol looks like a marker but is none: the marker count stays the map's.
    assert page.locator(".atlas-marker").count() == int(
        page.locator("#atlas").get_attribute("data-markers")
    )
    assert page.errors == []


def test_legend_in_english(page, live_server, known):
    open_map(page, f"{live_server}/?lang=en")
    entries = page.get_by_role("list", name="Legend", exact=True).get_by_role("listitem")
    assert entries.locator(".atlas-legend-label").all_text_contents()[0] == "Employers"


def test_reset_restores_the_declared_radius_and_the_badge_ignores_it(page, live_server, known):
    open_map(page, live_server)
    radius = declared(page, "radius_km")
    assert radius["requires"] == "near" and radius["countsAsFilter"] is False
    assert page.locator("#f-radius").input_value() == radius["default"] == "10"

    settle(page)
    # With no place the radius changes nothing: no reload of the list, no badge.
    requests = len(page.requests)
    page.select_option("#f-radius", "50")
    page.wait_for_timeout(400)
    assert not [url for url in page.requests[requests:] if "/api/employers/list" in url]
    assert page.locator("#filters .badge").count() == 0

    before = loads(page)
    page.fill("#f-near", "Marl")
    page.locator("#f-near").press("Enter")
    wait_loaded(page, before + 1)
    assert parse_qs(urlsplit(page.url).query) == {
        "near": ["Marl"],
        "radius_km": ["50"],
        "sort": ["distance"],
    }
    assert page.locator("#filters .badge").text_content() == "1 aktiv"  # the place, not the radius

    before = loads(page)
    page.locator("#reset-filters").click()
    wait_loaded(page, before + 1)
    assert page.locator("#f-radius").input_value() == "10"
    assert page.locator("#f-near").input_value() == ""
    assert page.locator("#filters .badge").count() == 0
    assert urlsplit(page.url).query == ""
    assert page.locator("#employer-count").text_content() == "7 Arbeitgeber gefunden"


def with_extra_source(page, live_server, source):
    """Serve the start page with ``source`` appended to data-config's sources."""

    def handle(route):
        response = route.fetch()
        body = response.text()
        match = re.search(r'data-config="([^"]*)"', body)
        config = json.loads(html.unescape(match.group(1)))
        config["sources"].append(source)
        attribute = html.escape(json.dumps(config), quote=True)
        body = body[: match.start(1)] + attribute + body[match.end(1) :]
        route.fulfill(response=response, body=body)

    page.route(re.compile(rf"^{re.escape(live_server)}/(\?.*)?$"), handle)


def test_each_declared_source_gets_its_own_layer_and_legend_entry(page, live_server, known):
    # A second source (here the employer endpoint again, under another key and with no marker
    # classes of its own) is drawn as a layer of its own next to the employers.
    with_extra_source(
        page,
        live_server,
        {
            "key": "demo",
            "label": "Demo-Punkte",
            "mapUrl": "/api/employers",
            "parameters": [{"name": "sector", "type": "choice", "multiple": True}],
        },
    )
    open_map(page, live_server)
    entries = page.get_by_role("list", name="Legende", exact=True).get_by_role("listitem")
    labels = entries.locator(".atlas-legend-label").all_text_contents()
    assert labels[0] == "Arbeitgeber" and labels[-1] == "Demo-Punkte"  # layer kinds between
    atlas = page.locator("#atlas")
    employer_markers = page.locator(".atlas-marker").count()
    assert employer_markers == int(atlas.get_attribute("data-markers")) > 0
    assert page.locator(".atlas-feature").count() == employer_markers  # same rows, own layer

    # The extra source reads only the parameters it declares: a size filter narrows the
    # employers, not the demo points; a sector filter narrows both.
    settle(page)
    before = loads(page)
    page.check("#filter-form input[name=size][value=small]")
    wait_loaded(page, before + 1)
    assert page.locator(".atlas-feature").count() == employer_markers
    assert page.locator(".atlas-marker").count() == int(atlas.get_attribute("data-markers"))
    assert page.locator(".atlas-marker").count() < employer_markers
    page.select_option("#f-sector", "F")
    wait_loaded(page, before + 2)
    requests = [url for url in page.requests if "/api/employers?" in url]
    assert any("sector=F" in url and "size=" not in url for url in requests)
    assert page.errors == []
