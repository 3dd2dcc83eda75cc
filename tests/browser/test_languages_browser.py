"""The languages of the region in the browser (issue 15): Arabic is right to left and the
layout mirrors (the brand, the filter panel and the list on the other side), the language
switch works with the keyboard alone and keeps the search, the map's script marks employers'
texts as German, and axe finds no WCAG 2.1 AA violation in Arabic and Turkish on the map
page, an employer's page and the event list (desktop and phone)."""

from __future__ import annotations

import pytest

from tests.browser.navigation import new_document
from tests.browser.test_accessibility import axe_violations
from tests.browser.test_start_page_browser import open_map, wait_loaded
from tests.fixtures import EMPLOYERS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def known(make_company, make_event):
    ids = {letter: make_company(**fields) for letter, fields in EMPLOYERS.items()}
    make_event("Infoabend Ausbildung", description="Wir stellen Berufe vor.")
    return ids


def box(page, selector):
    return page.locator(selector).first.bounding_box()


def test_arabic_is_right_to_left_and_the_layout_mirrors(page, live_server, known):
    open_map(page, f"{live_server}/?lang=de")
    assert page.locator("html").get_attribute("dir") == "ltr"
    german = {name: box(page, selector) for name, selector in SIDES.items()}
    open_map(page, f"{live_server}/?lang=ar")
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.locator("html").get_attribute("dir") == "rtl"
    arabic = {name: box(page, selector) for name, selector in SIDES.items()}
    width = page.viewport_size["width"]
    for name in SIDES:
        # the same element, on the other side of the page: mirrored around the middle
        assert german[name]["x"] < width / 2 < arabic[name]["x"] + arabic[name]["width"], name
        mirrored = width - (arabic[name]["x"] + arabic[name]["width"])
        assert abs(mirrored - german[name]["x"]) < 40, (name, german[name], arabic[name])
    # the filter panel is on the right, the map on its left
    assert box(page, "#filters")["x"] > box(page, "#atlas")["x"]
    # text starts on the right: a filter's label ends where its select ends
    label, select = box(page, "label[for=f-sector]"), box(page, "#f-sector")
    assert abs((label["x"] + label["width"]) - (select["x"] + select["width"])) < 20
    # the page does not scroll sideways (nothing hidden off the left edge, like the honeypot)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


#: Elements whose side the page's direction decides.
SIDES = {"brand": ".site-header .brand", "filters": "#filters", "heading": ".intro h1"}


def test_the_switch_works_with_the_keyboard_and_keeps_the_search(page, live_server, known):
    open_map(page, f"{live_server}/?sector=C&lang=de")
    # a filter set on the page after it loaded (the script changes the address) is kept too
    page.check("#filter-form input[name=offers][value=apprenticeship]")
    wait_loaded(page, 2)
    page.evaluate("window.stillHere = true")
    page.locator("#site-language").focus()
    page.keyboard.press("End")  # the last language: Українська (no submit on change)
    assert page.evaluate("window.stillHere") is True
    assert page.locator("#site-language").input_value() == "uk"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "language-submit"
    with new_document(page):
        page.keyboard.press("Enter")
    wait_loaded(page, 1)
    assert page.locator("html").get_attribute("lang") == "uk"
    assert page.locator("#f-sector").input_value() == "C"  # the search is kept
    assert page.locator("#filter-form input[value=apprenticeship]").is_checked()
    assert page.locator("#site-language").input_value() == "uk"
    # the cookie keeps the choice
    page.goto(f"{live_server}/veranstaltungen")
    assert page.locator("html").get_attribute("lang") == "uk"


def test_the_switch_fits_the_header_on_a_phone(browser, live_server, known):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.route("https://tiles.example.test/**", lambda route: route.fulfill(status=204))
    for language in ("de", "ar"):
        open_map(page, f"{live_server}/?lang={language}")
        header = box(page, ".site-header")
        for selector in ("#site-language", ".language-submit"):
            control = box(page, selector)
            assert control["height"] >= 44, (language, selector)
            assert header["x"] <= control["x"] and control["x"] + control["width"] <= PHONE["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


def test_the_scripts_mark_employers_texts_german_and_format_numbers(page, live_server, known):
    open_map(page, f"{live_server}/?lang=ar")
    # a list rendered by the script (a filter change)
    page.check("#filter-form input[name=offers][value=jobs]")
    wait_loaded(page, 2)
    link = page.locator("#employer-list .employer-link").first
    assert link.get_attribute("lang") == "de" and link.get_attribute("dir") == "auto"
    assert page.locator("#employer-list .employer-meta bdi[lang=de]").count() >= 1
    # a popup: the name as written, in German, inside the Arabic page
    page.locator(".atlas-marker").first.click(force=True)
    popup = page.locator(".leaflet-popup-content")
    popup.locator(".employer-popup").wait_for()  # the details come when the popup opens
    assert popup.locator(".employer-name bdi[lang=de]").count() == 1
    assert popup.evaluate("(node) => getComputedStyle(node).direction") == "rtl"
    # distances with Latin digits in Arabic, as the server writes them
    page.goto(f"{live_server}/?lang=ar&near=45657&radius_km=25&sort=distance")
    wait_loaded(page, 1)
    page.check("#filter-form input[name=offers][value=jobs]")
    wait_loaded(page, 2)
    meta = page.locator("#employer-list .employer-meta").first.text_content()
    assert any(c.isdigit() and c.isascii() for c in meta)
    assert not any("\u0660" <= c <= "\u0669" for c in meta), meta


@pytest.mark.parametrize("language", ["ar", "tr"])
def test_map_page_has_no_wcag_violations(page, live_server, known, language):
    open_map(page, f"{live_server}/?lang={language}")
    page.locator(".atlas-marker").first.click(force=True)
    page.locator(".leaflet-popup-content").wait_for()
    assert axe_violations(page) == []


@pytest.mark.parametrize("language", ["ar", "tr"])
def test_employer_page_has_no_wcag_violations(page, live_server, known, language):
    page.goto(f"{live_server}/arbeitgeber/test-{known['A']}?lang={language}")
    page.locator(".employer-map .leaflet-container").wait_for()
    assert axe_violations(page) == []


@pytest.mark.parametrize("language", ["ar", "tr"])
def test_event_list_has_no_wcag_violations(page, live_server, known, language):
    page.goto(f"{live_server}/veranstaltungen?lang={language}")
    assert page.locator(".event-item").count() == 1
    assert axe_violations(page) == []


@pytest.mark.parametrize("language", ["ar", "tr"])
def test_phone_layout_has_no_wcag_violations(browser, live_server, known, language):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.route("https://tiles.example.test/**", lambda route: route.fulfill(status=204))
    open_map(page, f"{live_server}/?lang={language}")
    assert axe_violations(page) == []
    page.goto(f"{live_server}/veranstaltungen?lang={language}")
    assert axe_violations(page) == []
    context.close()
