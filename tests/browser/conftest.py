"""Browser fixtures: the app served on a loopback port, and Debian's Chromium via Playwright.

Tiles are answered by the test itself (a 1×1 PNG), so no test reaches the network; every request
the page makes is recorded on ``page.requests``.
"""

import base64
import os
import threading

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
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


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
