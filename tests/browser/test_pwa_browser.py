"""The installable app in Chromium: the installability criteria (manifest fields, icons, a
service worker with a fetch handler that answers offline), the start page and the last search
opening offline with the offline notice, the worker's route table (nothing of the workspace,
the questionnaire or personal links is ever kept), and an update that waits for the user."""

from __future__ import annotations

import contextlib
import re

import pytest
from playwright.sync_api import Error as PlaywrightError

from app.cache_policy import never_stored
from tests.browser.conftest import serving
from tests.browser.navigation import new_document
from tests.browser.test_start_page_browser import open_map, wait_loaded
from tests.conftest import app_on_shared_engine
from tests.integration.test_pwa import sample_path
from tests.unit.test_pwa import TEL_EXAMPLES

pytestmark = pytest.mark.browser

OFFLINE_TEXT = "Sie sind offline – angezeigt wird der zuletzt geladene Stand."
UPDATE_BUTTON = "Neue Version verfügbar – neu laden"


#: Resolves once no service worker of the page is installing (its cache filled or given up).
SETTLED = """async () => {
  const registration = await navigator.serviceWorker.getRegistration();
  const worker = registration && registration.installing;
  if (!worker) return;
  await new Promise((done) => {
    worker.addEventListener("statechange", () => worker.state !== "installing" && done());
  });
}"""


def settle(page):
    """Wait until no service worker of the page is installing (a closed page has none)."""
    with contextlib.suppress(PlaywrightError):
        page.evaluate(SETTLED)


@pytest.fixture
def app(app):
    """The app with its service worker switched on (the test configuration leaves it off)."""
    app.config["SERVICE_WORKER"] = True
    return app


@pytest.fixture
def page(live_server, page):
    """The shared page, opened after the server and closed before it, and only once the
    service worker has finished installing: none of its requests is cut off or outlives the
    test's server and database."""
    yield page
    settle(page)


def installed(page, url):
    """Open ``url`` and wait until the service worker controls the page."""
    page.goto(url)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)


def cached_urls(page) -> list[str]:
    """Every address in the app's caches."""
    return page.evaluate(
        """async () => {
          const urls = [];
          for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
          }
          return urls;
        }"""
    )


@pytest.fixture
def known(make_company):
    return {
        "sonne": make_company("Bäckerei Sonne", slug="baeckerei-sonne", phone="02361 555"),
        "mond": make_company("Elektro Mond", slug="elektro-mond", lon=7.10, lat=51.65),
    }


def test_the_installability_criteria_are_met(page, live_server, known):
    installed(page, live_server)
    manifest = page.evaluate(
        """async () => {
          const link = document.querySelector('link[rel=manifest]');
          return (await fetch(link.href)).json();
        }"""
    )
    assert manifest["name"] and manifest["short_name"]
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        size = page.evaluate(
            """async (src) => {
              const image = new Image();
              image.src = src;
              await image.decode();
              return `${image.naturalWidth}x${image.naturalHeight}`;
            }""",
            icon["src"],
        )
        if icon["type"] == "image/png":
            assert size == icon["sizes"], icon["src"]
    state = page.evaluate("navigator.serviceWorker.ready.then((r) => [r.scope, r.active.state])")
    assert state[0] == f"{live_server}/"
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == f"{live_server}/sw.js"
    assert page.errors == []


def test_the_start_page_opens_offline_after_one_visit(page, live_server, known):
    installed(page, live_server)
    open_map(page, live_server)  # now through the worker: page and map data are kept
    assert page.locator("#offline-notice").count() == 0
    seen = page.locator(".atlas-marker").first.get_attribute("title")
    open_popup(page, seen).locator(".employer-popup").wait_for()  # its details are kept too
    page.locator(".leaflet-popup-close-button").click()
    page.context.set_offline(True)
    page.reload()
    wait_loaded(page, 1)
    assert page.locator("h1").text_content() == "Arbeitgeber in Emscher-Lippe"
    assert page.locator("#employer-count").text_content() == "2 Arbeitgeber gefunden"
    assert page.locator(".atlas-marker").count() == 2  # the map data came from the cache
    notice = page.locator("#offline-notice")
    notice.wait_for()
    assert notice.text_content() == OFFLINE_TEXT
    assert page.locator("#app-status").get_attribute("role") == "status"
    # The same search in another map view answers with the last results; another search has none.
    answers = page.evaluate(
        """async () => {
          const get = (query) => fetch(`/api/features/employers?${query}`).then(
            async (response) => (await response.json()).features.length, () => "offline");
          return [
            await get("bbox=7.0,51.5,7.3,51.7&zoom=9&properties=marker"),
            await get("q=Sonne&zoom=9&properties=marker"),
          ];
        }"""
    )
    assert answers == [2, "offline"]
    # The popup opened before shows its details; the other one says they could not be loaded
    # and still links the employer's page.
    # The details arrive after the popup opens (from the worker's cache), so wait for them.
    open_popup(page, seen).locator(".employer-popup .employer-address").wait_for()
    page.locator(".leaflet-popup-close-button").click()
    other = page.locator(f".atlas-marker:not([title='{seen}'])").get_attribute("title")
    popup = open_popup(page, other)
    failed = popup.locator(".popup-failed")
    failed.wait_for()
    assert failed.get_attribute("role") == "status"
    assert failed.text_content() == (
        "Die Angaben konnten nicht geladen werden. Bitte versuchen Sie es noch einmal."
    )
    assert popup.locator("h2").text_content() == other
    assert (
        popup.get_by_role("link", name="Details ansehen")
        .get_attribute("href")
        .startswith("/arbeitgeber/")
    )
    page.wait_for_timeout(200)  # the worker's "from the cache" messages for those answers
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.locator("#offline-notice").wait_for(state="detached")


def open_popup(page, title: str):
    """Open the popup of the employer marker titled ``title``; its content box. On a loaded
    machine a click can miss the marker while the page still shifts (seen once in a hundred
    runs): then it is clicked once more."""
    marker = page.locator(f".atlas-marker[title='{title}']")
    marker.click()
    popup = page.locator(".leaflet-popup-content")
    try:
        popup.wait_for(timeout=5_000)
    except PlaywrightError:
        marker.click()
        popup.wait_for()
    return popup


def test_the_last_search_and_viewed_pages_open_offline_others_show_the_offline_page(
    page, live_server, known
):
    installed(page, live_server)
    open_map(page, f"{live_server}/?q=Sonne")
    page.goto(f"{live_server}/arbeitgeber/baeckerei-sonne?q=Sonne")
    page.context.set_offline(True)
    page.goto(f"{live_server}/?q=Sonne")
    wait_loaded(page, 1)
    assert page.locator("#employer-list .employer-link").all_text_contents() == ["Bäckerei Sonne"]
    page.locator("#offline-notice").wait_for()
    page.goto(f"{live_server}/arbeitgeber/baeckerei-sonne?q=Sonne")
    assert page.locator("h1").text_content() == "Bäckerei Sonne"
    page.locator("#offline-notice").wait_for()
    page.goto(f"{live_server}/arbeitgeber/elektro-mond")  # never visited
    assert page.locator("h1").text_content() == "Sie sind offline"
    assert page.get_by_role("link", name="Zur Merkliste").is_visible()


#: (address, method, request mode, what the worker does)
ROUTE_CASES = [
    ("/agentur/", "GET", "navigate", "pass"),
    ("/agentur/eintraege/5", "GET", "navigate", "pass"),
    ("/agentur/anmelden", "GET", "navigate", "pass"),
    ("/mitmachen/", "GET", "navigate", "pass"),
    ("/mitmachen/schritt/kontakt", "GET", "navigate", "pass"),
    ("/mitmachen/weiter/eyJ0b2tlbiI6MX0.signatur", "GET", "navigate", "pass"),
    ("/mitmachen/bestaetigen/eyJ0b2tlbiI6MX0.signatur", "GET", "navigate", "pass"),
    ("/veranstaltungen/abmelden/eyJ0b2tlbiI6MX0.signatur", "GET", "navigate", "pass"),
    ("/veranstaltungen/jobmesse/anmelden", "GET", "navigate", "pass"),
    ("/veranstaltungen/jobmesse/angemeldet", "GET", "navigate", "pass"),
    ("/suchauftrag", "GET", "navigate", "pass"),
    ("/suchauftrag/abmelden/eyJ0b2tlbiI6MX0.signatur", "GET", "navigate", "pass"),
    ("/", "POST", "navigate", "pass"),
    ("/api/employers", "POST", "cors", "pass"),
    ("https://tiles.example.test/12/2130/1370.png", "GET", "no-cors", "pass"),
    ("https://tile.openstreetmap.org/12/2130/1370.png", "GET", "no-cors", "pass"),
    ("/sw.js", "GET", "same-origin", "pass"),
    ("/manifest.webmanifest?lang=de", "GET", "cors", "pass"),
    ("/einbetten/karte", "GET", "navigate", "pass"),
    ("/ogc/collections", "GET", "navigate", "pass"),
    ("/api/openapi.json", "GET", "cors", "pass"),
    ("/api/taxonomies/search?q=b%C3%A4cker", "GET", "cors", "pass"),
    ("/veranstaltungen.ics", "GET", "navigate", "pass"),
    ("/veranstaltungen/jobmesse.ics", "GET", "navigate", "pass"),
    ("/", "GET", "cors", "pass"),  # a page fetched by a script is not a navigation
    ("/static/css/app.css", "GET", "no-cors", "static"),
    ("/static/js/atlas/list.js", "GET", "cors", "static"),
    ("/region/theme.css?v=abc", "GET", "no-cors", "static"),
    ("/region/logo.svg?v=abc", "GET", "no-cors", "static"),
    ("/api/employers?bbox=6.9,51.4,7.4,51.8&zoom=10", "GET", "cors", "data"),
    ("/api/employers/list?q=B%C3%A4ckerei", "GET", "cors", "data"),
    ("/api/features/events", "GET", "cors", "data"),
    ("/api/features/kita/list", "GET", "cors", "data"),
    ("/api/layers/kita", "GET", "cors", "data"),
    ("/api/region/outline", "GET", "cors", "data"),
    ("/api/employers/17", "GET", "cors", "data"),
    ("/api/features/employers/17", "GET", "cors", "data"),
    ("/api/employers/17x", "GET", "cors", "pass"),
    ("/", "GET", "navigate", "page"),
    ("/?near=Marl&radius_km=10", "GET", "navigate", "page"),
    ("/arbeitgeber/baeckerei-sonne?q=Sonne", "GET", "navigate", "page"),
    ("/veranstaltungen", "GET", "navigate", "page"),
    ("/veranstaltungen/kalender?monat=2031-03", "GET", "navigate", "page"),
    ("/veranstaltungen/jobmesse-2031-03-05", "GET", "navigate", "page"),
    ("/merkliste?arbeitgeber=baeckerei-sonne", "GET", "navigate", "page"),
    ("/offline", "GET", "navigate", "page"),
    ("/ueber", "GET", "navigate", "page"),
]


def load_worker(page, live_server):
    """The worker's script in a plain page, to call its routing function and read its table."""
    page.goto(f"{live_server}/offline")
    page.add_script_tag(url=f"{live_server}/sw.js")


@pytest.fixture(scope="module")
def worker_script(browser, database_url, shared_engine):
    """A page with the worker's script loaded, and the server's address: one for all routing
    cases, which only call the script's functions."""
    with app_on_shared_engine(database_url, shared_engine) as app, serving(app) as server:
        context = browser.new_context()
        page = context.new_page()
        load_worker(page, server)
        yield page, server
        context.close()


@pytest.mark.parametrize(
    ("address", "method", "mode", "strategy"),
    ROUTE_CASES,
    ids=[f"{m} {a} ({mode})" for a, m, mode, _ in ROUTE_CASES],
)
def test_the_worker_route_for(worker_script, address, method, mode, strategy):
    page, server = worker_script
    url = address if address.startswith("https://") else f"{server}{address}"
    found = page.evaluate(
        "([url, method, mode]) => strategyFor(url, method, mode)", [url, method, mode]
    )
    assert found == strategy


def test_no_route_behind_a_login_or_a_personal_link_is_handled_by_the_worker(
    app, page, live_server
):
    load_worker(page, live_server)
    paths = sorted(
        {sample_path(rule) for rule in app.url_map.iter_rules() if never_stored(sample_path(rule))}
    )
    assert len(paths) > 30
    strategies = page.evaluate(
        "(paths) => paths.map((path) => [path, strategyFor(location.origin + path)])", paths
    )
    assert {path: found for path, found in strategies if found != "pass"} == {}


def test_the_worker_keeps_no_answer_marked_private_or_no_store(page, live_server, auth):
    load_worker(page, live_server)
    keepable = page.evaluate(
        """async (paths) => {
          const found = {};
          for (const path of paths) found[path] = keepable(await fetch(path), { page: true });
          return found;
        }""",
        ["/offline", "/merkliste", "/agentur/anmelden", "/mitmachen/", "/?lang=en", "/agentur/"],
    )
    assert keepable == {
        "/offline": True,
        "/merkliste": True,
        "/agentur/anmelden": False,  # private, no-store
        "/mitmachen/": False,  # private, no-store
        "/?lang=en": False,  # sets the language cookie: private
        "/agentur/": False,  # redirected to the sign-in, and no-store
    }


def test_workspace_questionnaire_and_personal_links_never_reach_a_cache(
    page, live_server, known, make_staff
):
    installed(page, live_server)
    email = make_staff("curator")
    page.goto(f"{live_server}/agentur/anmelden")
    page.get_by_label("E-Mail").fill(email)
    page.get_by_label("Passwort").fill("ein sicheres Passwort 2026")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r".*/agentur/.*"))
    for path in ("/agentur/", "/agentur/eintraege", "/", "/arbeitgeber/baeckerei-sonne"):
        page.goto(f"{live_server}{path}")
    page.goto(f"{live_server}/mitmachen/")
    page.goto(f"{live_server}/veranstaltungen/abmelden/ein-link")
    urls = cached_urls(page)
    assert urls, "the shell is cached"
    personal = [url for url in urls if re.search(r"/(agentur|mitmachen|suchauftrag)|abmelden", url)]
    assert personal == []
    # Signed in, even the public pages were not kept (they may show what the public does not).
    assert f"{live_server}/arbeitgeber/baeckerei-sonne" not in urls


def test_a_new_version_waits_until_the_user_reloads(app, page, live_server, known):
    installed(page, live_server)
    open_map(page, live_server)
    old = app.extensions["pwa_version"]
    app.extensions["pwa_version"] = "0123456789abcdef"
    try:
        page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        button = page.get_by_role("button", name=UPDATE_BUTTON)
        button.wait_for(timeout=20_000)
        # The running page goes on with the old version meanwhile.
        names = page.evaluate("caches.keys()")
        assert any(old in name for name in names) and any("0123456789abcdef" in n for n in names)
        page.locator("#f-q").fill("Sonne")
        page.locator("#f-q").press("Enter")
        wait_loaded(page, 2)
        assert page.locator("#employer-list .employer-link").all_text_contents() == [
            "Bäckerei Sonne"
        ]
        # The click reloads the page; the map may still be moving (a hash change), which is
        # not the reload.
        with new_document(page):
            button.click()
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        assert page.evaluate("navigator.serviceWorker.controller.state") == "activated"
        # The new version took over before the reload and deleted the old version's caches;
        # nothing created one again. The new version's caches are all there.
        names = page.evaluate("caches.keys()")
        assert not [name for name in names if old in name], names
        parts = ("shell", "static", "pages", "data")
        assert {f"kmu-atlas-{part}-0123456789abcdef" for part in parts} <= set(names), names
        wait_loaded(page, 1)
        assert page.locator("#update-notice").count() == 0
        assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => !r.waiting)")
    finally:
        app.extensions["pwa_version"] = old


def test_the_browsers_tel_links_match_the_servers(page, live_server):
    page.goto(f"{live_server}/offline")
    phones = [phone for phone, _ in TEL_EXAMPLES]
    found = page.evaluate(
        "async (phones) => { const m = await import('/static/js/contact.js');"
        " return phones.map((phone) => m.telHref(phone)); }",
        phones,
    )
    assert found == [href for _, href in TEL_EXAMPLES]


def test_the_shortlist_opens_offline(page, live_server, known):
    installed(page, live_server)
    page.evaluate(
        "localStorage.setItem('kmu-atlas-merkliste', JSON.stringify(["
        "{type: 'employer', slug: 'elektro-mond'}, {type: 'employer', slug: 'baeckerei-sonne'}]))"
    )
    page.goto(f"{live_server}/merkliste")
    page.wait_for_url("**/merkliste?arbeitgeber=elektro-mond,baeckerei-sonne")
    page.context.set_offline(True)
    page.goto(f"{live_server}/offline")  # the offline page's link to the shortlist
    page.get_by_role("link", name="Zur Merkliste").click()
    page.wait_for_url("**/merkliste?arbeitgeber=elektro-mond,baeckerei-sonne")
    names = page.locator(".shortlist-name a").all_text_contents()
    assert names == ["Elektro Mond", "Bäckerei Sonne"]
    page.locator("#offline-notice").wait_for()


def test_switching_the_worker_off_removes_it_from_the_browser(app, page, live_server, known):
    installed(page, live_server)
    assert page.evaluate("caches.keys()")
    app.config["SERVICE_WORKER"] = False
    page.reload()
    page.wait_for_function(
        "async () => (await navigator.serviceWorker.getRegistrations()).length === 0"
    )
    # The next page is no longer the worker's; its caches are gone.
    page.goto(f"{live_server}/ueber")
    assert page.evaluate("navigator.serviceWorker.controller") is None
    page.wait_for_function("async () => (await caches.keys()).length === 0")
