"""Accessibility: an axe-core scan (WCAG 2.1 A and AA rules) and keyboard-only use."""

from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from tests.browser.test_start_page_browser import open_map, wait_loaded
from tests.fixtures import EMPLOYERS

pytestmark = pytest.mark.browser

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def known(make_company):
    return {letter: make_company(**fields) for letter, fields in EMPLOYERS.items()}


def axe_violations(page):
    if not Path(AXE).exists():
        pytest.fail(f"{AXE} is missing: run `make test` (npm ci installs axe-core).")
    # Evaluated, not added as an inline <script>: the pages' Content-Security-Policy would
    # (rightly) block an inline script without their nonce.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:5]) for v in result["violations"]
    ]


def tab_to(page, selector: str, limit: int = 600) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"{selector} cannot be reached with Tab")


@pytest.mark.parametrize("query", ["", "?near=Marl&radius_km=25&family=part_time", "?lang=en"])
def test_map_and_list_page_have_no_wcag_violations(page, live_server, known, query):
    open_map(page, f"{live_server}/{query}")
    page.locator(".atlas-marker").first.click(force=True)
    page.locator(".leaflet-popup-content").wait_for()
    assert axe_violations(page) == []


def test_a_search_suggestion_has_no_wcag_violations(page, live_server, known):
    open_map(page, f"{live_server}/?q=Elektor")
    assert page.locator("#search-suggestion").text_content() == "Meinten Sie: Elektro?"
    assert axe_violations(page) == []


@pytest.mark.parametrize("query", ["", "?lang=en", "?lang=ar"])
def test_the_easy_language_page_has_no_wcag_violations(page, live_server, query):
    page.goto(f"{live_server}/leichte-sprache{query}")
    assert page.locator("article.easy-language[lang=de]").is_visible()
    assert axe_violations(page) == []


def test_error_state_has_no_wcag_violations(page, live_server, known):
    page.goto(f"{live_server}/?near=Atlantis")
    wait_loaded(page, 1)
    assert axe_violations(page) == []


def test_detail_page_has_no_wcag_violations(page, live_server, known):
    page.goto(f"{live_server}/arbeitgeber/test-{known['A']}")
    page.locator(".employer-map .leaflet-container").wait_for()
    assert axe_violations(page) == []


def test_phone_layout_has_no_wcag_violations(browser, live_server, known):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.route("https://tiles.example.test/**", lambda route: route.fulfill(status=204))
    open_map(page, f"{live_server}/?lang=en")
    assert page.locator("#filters").get_attribute("open") is None  # filters start folded
    page.locator("#filters summary").click()
    assert page.locator("#f-sector").is_visible()
    assert axe_violations(page) == []
    context.close()


def test_filters_and_list_work_with_the_keyboard_alone(page, live_server, known):
    open_map(page, live_server)
    page.locator("body").press("Tab")  # skip link first
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Tab")  # home link
    page.keyboard.press("Tab")  # events link
    assert page.evaluate("document.activeElement.textContent") == "Veranstaltungen"
    page.keyboard.press("Tab")  # questionnaire link
    assert page.evaluate("document.activeElement.textContent") == "Ihr Unternehmen auf die Karte"
    page.keyboard.press("Tab")  # the page in Leichte Sprache
    assert page.evaluate("document.activeElement.textContent") == "Leichte Sprache"
    page.keyboard.press("Tab")  # the shortlist
    assert page.evaluate("document.activeElement.id") == "shortlist-link"
    page.keyboard.press("Tab")  # the language switch: its select, then its button
    assert page.evaluate("document.activeElement.id") == "site-language"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "language-submit"
    page.keyboard.press("Tab")  # filter summary
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-q"
    page.keyboard.type("Elektro")
    page.keyboard.press("Enter")
    wait_loaded(page, 2)
    assert page.locator("#employer-count").text_content() == "1 Arbeitgeber gefunden"

    # Tick a checkbox with the space bar.
    tab_to(page, "#filter-form input[name=size][value=small]")
    page.keyboard.press("Space")
    wait_loaded(page, 3)
    assert page.locator("#filter-form input[name=size][value=small]").is_checked()
    assert page.locator("#employer-count").text_content() == "1 Arbeitgeber gefunden"

    # From the list to the detail page with Enter (Tab on, past the map's controls and markers).
    tab_to(page, "#employer-list .employer-link")
    page.keyboard.press("Enter")
    page.wait_for_url("**/arbeitgeber/**")
    assert page.locator("h1").text_content() == "Elektro Kaya"


def test_map_markers_open_with_the_keyboard(page, live_server, known):
    open_map(page, f"{live_server}/?q=Elektro")
    marker = page.locator(".atlas-marker")
    marker.focus()
    assert marker.get_attribute("role") == "button"
    assert marker.get_attribute("title") == "Elektro Kaya"
    page.keyboard.press("Enter")
    assert page.locator(".leaflet-popup-content h2").text_content() == "Elektro Kaya"
    # The details come when the popup opens; their links take the keyboard too.
    details = page.locator(".leaflet-popup-content .employer-popup .details-link")
    details.wait_for()
    details.focus()
    assert page.evaluate("document.activeElement.textContent") == "Details ansehen"
