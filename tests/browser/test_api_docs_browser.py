"""The API documentation page (/api/docs): no WCAG violations (axe-core), readable on a phone
(nothing wider than the screen but the code boxes, which scroll themselves), keyboard
reachable links."""

import pytest

from tests.browser.test_accessibility import axe_violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["de", "en"])
def test_docs_page_has_no_wcag_violations(page, live_server, lang):
    page.goto(f"{live_server}/api/docs?lang={lang}")
    page.locator("#api-contents").wait_for()
    assert axe_violations(page) == []


def test_docs_page_fits_a_phone(browser, live_server):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/api/docs")
        page.locator("#api-contents").wait_for()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, width
        # The contents link to each operation's section.
        first = page.locator(".api-contents a").first
        target = first.get_attribute("href")
        first.click()
        assert page.locator(f"{target}-title").is_visible()
        assert axe_violations(page) == []
    finally:
        context.close()
