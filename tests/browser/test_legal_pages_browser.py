"""The legal pages (issue 17) in a browser: no WCAG 2.1 AA violations (axe-core) on a desktop
and a phone, nothing wider than the phone, and the footer's legal links reached by keyboard."""

import pytest

from tests.browser.test_accessibility import axe_violations

pytestmark = pytest.mark.browser

LEGAL = ["/impressum", "/datenschutz", "/barrierefreiheit"]
VIEWPORTS = {"desktop": (1366, 800), "phone": (390, 844)}


@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("path", [*LEGAL, "/barrierefreiheit?lang=ar", "/impressum?lang=en"])
def test_the_legal_pages_have_no_wcag_violations(browser, live_server, tmp_path, path, size):
    width, height = VIEWPORTS[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=size == "phone"
    )
    page = context.new_page()
    page.goto(f"{live_server}{path}")
    assert page.locator("main h1").is_visible()
    assert axe_violations(page) == []
    # nothing sticks out sideways (long e-mail addresses and placeholders wrap)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    links = page.locator("footer nav.legal-links a")
    assert [links.nth(i).get_attribute("href") for i in range(3)] == LEGAL
    for i in range(3):
        box = links.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 24
    page.screenshot(path=tmp_path / "page.png", full_page=True)
    context.close()


def test_the_footer_links_are_reached_with_the_tab_key(page, live_server):
    page.goto(f"{live_server}/")
    page.locator("footer a[href='/einbetten']").focus()
    reached = []
    while len(reached) < 10 and reached[-1:] != ["/barrierefreiheit"]:
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.getAttribute('href')"))
    assert [href for href in reached if href in LEGAL] == LEGAL
    page.keyboard.press("Enter")  # on the accessibility statement's link
    page.wait_for_url("**/barrierefreiheit")
    assert page.locator("h1").text_content() == "Erklärung zur Barrierefreiheit"
