"""Embedding in a real browser: a page on another origin frames the embed map (markers load
inside the iframe, with the filter), framing the start page is refused, and the builder and
the embedded map pass axe."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.test_accessibility import axe_violations
from tests.fixtures import EMPLOYERS

pytestmark = pytest.mark.browser

#: Recklinghausen's employers with flexible hours: A and C of tests.fixtures.
FILTER = "municipality=05562032&family=flexible_hours"


@pytest.fixture
def known(make_company):
    return {letter: make_company(**fields) for letter, fields in EMPLOYERS.items()}


@pytest.fixture
def partner_site():
    """A second local web server (another origin): ``partner_site(html)`` serves ``html`` as
    its page and returns the page's address."""
    pages = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(html: str) -> str:
        pages["/partner.html"] = html
        return f"http://127.0.0.1:{server.server_port}/partner.html"

    yield serve
    server.shutdown()
    thread.join()
    server.server_close()


def test_another_site_frames_the_embed_map_but_not_the_start_page(
    page, live_server, known, partner_site
):
    url = partner_site(
        "<!doctype html><html lang='de'><head><meta charset='utf-8'><title>Partner</title>"
        "</head><body><h1>Gemeinde</h1>"
        f"<iframe id='embed' src='{live_server}/einbetten/karte?{FILTER}' title='Karte'"
        " width='100%' height='500'></iframe>"
        f"<iframe id='start' src='{live_server}/' title='Start' width='100%' height='300'"
        " onload='window.startLoaded = true'></iframe></body></html>"
    )
    requests = []  # (the requesting frame's path, the request's URL)
    page.on(
        "request", lambda request: requests.append((urlsplit(request.frame.url).path, request.url))
    )
    page.goto(url)
    assert urlsplit(page.url).port != urlsplit(live_server).port  # another origin
    embed = page.locator("#embed").element_handle().content_frame()
    embed.wait_for_function(
        "() => { const atlas = document.getElementById('atlas');"
        " return atlas && Number(atlas.dataset.loads) >= 1 && atlas.dataset.loaded === 'true'; }",
        timeout=15_000,
    )
    # the markers of the two matching employers are drawn inside the iframe
    assert embed.locator("#atlas").get_attribute("data-cluster-sum") == "2"
    assert embed.locator(".atlas-marker, .atlas-cluster").count() >= 1
    assert "2 Arbeitgeber gefunden" in embed.locator("#employer-count").inner_text()
    # its data requests carry the filter
    data_requests = [
        parse_qs(urlsplit(request).query)
        for frame, request in requests
        if frame == "/einbetten/karte" and urlsplit(request).path == "/api/features/employers"
    ]
    assert data_requests
    for query in data_requests:
        assert query["municipality"] == ["05562032"] and query["family"] == ["flexible_hours"]
    open_link = embed.locator("#embed-open")
    assert open_link.get_attribute("target") == "_blank"
    assert "municipality=05562032" in open_link.get_attribute("href")
    # the start page is refused in its frame: the frame has finished, without the map page
    page.wait_for_function("() => window.startLoaded === true", timeout=15_000)
    start = page.locator("#start").element_handle().content_frame()
    assert start.locator("#atlas").count() == 0
    assert start.locator("#filter-form").count() == 0


def test_builder_and_embedded_map_have_no_wcag_violations(page, live_server, known):
    page.goto(f"{live_server}/einbetten")
    assert axe_violations(page) == []
    page.goto(f"{live_server}/einbetten?art=karte&municipality=05562032&sector=C#embed-result")
    page.locator("#embed-preview").wait_for()
    assert page.locator("#copy-code").is_visible()  # the button is shown with JavaScript
    page.locator("#copy-code").click()
    page.locator("#copy-status").filter(has_text="kopier").wait_for()
    assert axe_violations(page) == []
    page.goto(f"{live_server}/einbetten/karte?municipality=05562032&sector=C")
    page.wait_for_function(
        "() => document.getElementById('atlas').dataset.loaded === 'true'", timeout=15_000
    )
    page.locator(".atlas-marker").first.click(force=True)
    page.locator(".leaflet-popup-content").wait_for()
    details = page.locator(".leaflet-popup-content a", has_text="Details ansehen")
    assert details.get_attribute("target") == "_blank"
    assert axe_violations(page) == []


def wider_than(page, pixels: int) -> list[str]:
    """The elements that reach past ``pixels`` from the left (for a failure's message)."""
    return page.evaluate(
        """(pixels) => [...document.querySelectorAll("body *")]
          .filter((node) => node.getBoundingClientRect().right > pixels)
          .slice(0, 8)
          .map((node) => `${node.tagName}#${node.id}.${node.className}`)""",
        pixels,
    )


def test_builder_works_on_a_phone(browser, live_server, known):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.route("https://tiles.example.test/**", lambda route: route.fulfill(status=204))
    page.goto(f"{live_server}/einbetten")
    page.locator("#m-municipality").select_option("05562032")
    page.locator("#embed-map-form button[type=submit]").click()
    page.locator("#embed-code").wait_for()
    assert "municipality=05562032" in page.locator("#embed-code").input_value()
    page.wait_for_load_state("load")  # measured with the page's stylesheets, not before them
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, wider_than(page, 375)  # nothing wider than the phone
    assert axe_violations(page) == []
    context.close()
