"""The forgiving name search in a real browser: a typo finds the bakery, and "Meinten Sie"
offers the published spelling, which searches without reloading the page."""

from urllib.parse import parse_qs, urlsplit

import pytest

from app.models import CompanyStatus
from tests.browser.test_start_page_browser import open_map, wait_loaded

pytestmark = pytest.mark.browser


@pytest.fixture
def bakeries(make_company):
    make_company("Bäckerei Schulte", employees=5)
    make_company("Dachdeckerei Hagedorn", lon=7.21, lat=51.62)
    make_company("Bäckerei Geheim", lon=7.19, lat=51.61, status=CompanyStatus.PENDING)


def test_typing_a_typo_finds_the_bakery_and_the_suggestion_searches_it(page, live_server, bakeries):
    open_map(page, live_server)
    page.evaluate("window.__sameDocument = true")
    page.fill("#f-q", "Bäkerei")
    wait_loaded(page, 2)
    assert page.locator("#employer-list .employer-link").all_text_contents() == ["Bäckerei Schulte"]
    suggestion = page.locator("#search-suggestion")
    assert suggestion.text_content() == "Meinten Sie: Bäckerei?"
    link = suggestion.get_by_role("link", name="Bäckerei")
    assert parse_qs(urlsplit(link.get_attribute("href")).query)["q"] == ["Bäckerei"]
    assert link.bounding_box()["height"] >= 44
    assert link.get_attribute("lang") == "de"  # a spelling from employers' names, as written

    link.click()
    wait_loaded(page, 3)
    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert page.locator("#f-q").input_value() == "Bäckerei"
    assert page.evaluate("document.activeElement.id") == "f-q"
    assert suggestion.text_content() == ""
    assert page.locator("#employer-list .employer-link").all_text_contents() == ["Bäckerei Schulte"]
    assert parse_qs(urlsplit(page.url).query)["q"] == ["Bäckerei"]
    assert "Geheim" not in page.content()
    assert page.errors == []


def test_the_server_rendered_suggestion_searches_in_place(page, live_server, bakeries):
    open_map(page, f"{live_server}/?q=B%C3%A4kerei")
    page.evaluate("window.__sameDocument = true")
    assert page.locator("#employer-count").text_content() == "1 Arbeitgeber gefunden"
    page.locator("#search-suggestion a").click()
    wait_loaded(page, 2)
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("#f-q").input_value() == "Bäckerei"
    assert page.locator("#search-suggestion").text_content() == ""


def test_nonsense_shows_no_suggestion(page, live_server, bakeries):
    open_map(page, live_server)
    page.fill("#f-q", "xqzvwj")
    wait_loaded(page, 2)
    assert page.locator("#employer-count").text_content() == "0 Arbeitgeber gefunden"
    assert page.locator("#list-empty").is_visible()
    assert page.locator("#search-suggestion").text_content() == ""
    assert page.locator("#search-suggestion").is_hidden()
