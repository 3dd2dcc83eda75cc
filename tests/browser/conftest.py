"""Browser fixtures: the app served on a loopback port, and Debian's Chromium via Playwright.

Tiles are answered by the test itself (a 1×1 PNG), so no test reaches the network; every request
the page makes is recorded on ``page.requests``.

Every browser context a test opens (through ``browser.new_context``/``new_page`` or the ``page``
fixture) watches for Content-Security-Policy violations in every frame; a test during which the
browser blocked anything fails (:func:`no_csp_violations`). So every page any browser test
visits is also a test of the policy. (Write ``wait_for_function`` predicates as functions,
``"() => …"``: Playwright turns a bare expression into code with ``eval``, which the policy
blocks.)
"""

import base64
import os
import threading
from contextlib import contextmanager

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import text
from werkzeug.serving import make_server

from app.extensions import db
from tests.conftest import TILE_URL

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


#: Runs in every frame before its own scripts: each violation becomes a console message.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.effectiveDirective} blocked `
    + `${event.blockedURI || "inline code"} on ${event.documentURI} line ${event.lineNumber}`);
});
"""
#: The violations seen since the current test started.
CSP_VIOLATIONS: list[str] = []


def watch_csp(context):
    """Record ``context``'s CSP violations in :data:`CSP_VIOLATIONS`."""
    context.add_init_script(CSP_LISTENER)

    def on_console(message):
        if message.text.startswith("CSP violation:"):
            CSP_VIOLATIONS.append(message.text)

    context.on("console", on_console)
    return context


class CspWatchingBrowser:
    """Playwright's browser, whose every new context watches for CSP violations."""

    def __init__(self, browser):
        self._browser = browser

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def new_context(self, **kwargs):
        return watch_csp(self._browser.new_context(**kwargs))

    def new_page(self, **kwargs):
        context = self.new_context(**kwargs)
        page = context.new_page()
        page.on("close", lambda _page: context.close())
        return page


@pytest.fixture(autouse=True)
def no_csp_violations():
    """Fail a browser test during which the browser blocked anything under the policy."""
    CSP_VIOLATIONS.clear()
    yield
    assert not CSP_VIOLATIONS, "Content-Security-Policy violations:\n" + "\n".join(CSP_VIOLATIONS)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test` (it installs it).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield CspWatchingBrowser(browser)
        browser.close()


@contextmanager
def serving(app):
    """``app`` served on a free loopback port (its base URL) until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def live_server(app):
    with serving(app) as url:
        yield url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = context.new_page()
    page.requests = []
    page.errors = []
    page.dialogs = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    tile_host = TILE_URL.split("/{z}")[0]
    page.route(
        f"{tile_host}/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PNG_1X1),
    )
    yield page
    context.close()


@pytest.fixture
def clean_drafts(app):
    """Remove the drafts and mails a browser walk leaves behind."""
    yield
    with app.app_context():
        db.session.execute(text("TRUNCATE questionnaire_drafts, outbox_messages CASCADE"))
        db.session.commit()
