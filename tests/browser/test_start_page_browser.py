"""The start page in a real browser: markers, popups, and no third-party requests."""

from urllib.parse import urlsplit

import pytest

from app.models import CompanyStatus
from tests.conftest import TILE_URL

pytestmark = pytest.mark.browser

RECKLINGHAUSEN = (7.1975, 51.6146)


def open_map(page, url):
    page.goto(url)
    page.wait_for_selector("#atlas[data-loaded=true]", timeout=15_000)


def test_map_shows_the_published_employers_and_their_count(page, live_server, make_company):
    lon, lat = RECKLINGHAUSEN
    for offset in range(3):
        make_company(f"Betrieb {offset}", lon=lon + offset * 0.08, lat=lat)
    make_company("Noch nicht freigegeben", lon=lon, lat=lat - 0.08, status=CompanyStatus.PENDING)
    open_map(page, live_server)
    assert page.locator("#employer-count").text_content() == "3 Arbeitgeber auf der Karte"
    assert page.locator("#atlas").get_attribute("data-markers") == "3"
    assert page.locator("path.leaflet-interactive").count() == 3
    assert page.errors == []


def test_browser_contacts_no_host_but_the_app_and_the_tile_server(page, live_server, make_company):
    make_company("Betrieb")
    open_map(page, live_server)
    page.wait_for_load_state("networkidle")
    hosts = {urlsplit(url).netloc for url in page.requests}
    assert hosts == {urlsplit(live_server).netloc, urlsplit(TILE_URL).netloc}


def test_popup_builds_hostile_text_as_plain_text(page, live_server, make_company):
    lon, lat = RECKLINGHAUSEN
    names = ["<img src=x onerror=alert(1)>", "${alert(1)}", "Backslash GmbH"]
    for index, name in enumerate(names):
        make_company(
            name,
            lon=lon + index * 0.08,
            lat=lat,
            description="Pfad C:\\neu" if index == 2 else "",
            website="javascript:alert(1)" if index == 1 else "",
        )
    open_map(page, live_server)
    shown = {}
    markers = page.locator("path.leaflet-interactive")
    assert markers.count() == 3
    for index in range(3):
        markers.nth(index).click(force=True)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        shown[popup.locator("h2").text_content()] = popup.inner_text()
        assert popup.locator("img").count() == 0
        assert popup.locator("a[href^='javascript:']").count() == 0
        page.locator(".leaflet-popup-close-button").click()
        page.locator(".leaflet-popup").wait_for(state="detached")
    assert set(shown) == set(names)
    assert "Pfad C:\\neu" in shown["Backslash GmbH"]
    assert page.dialogs == []
    assert page.errors == []
