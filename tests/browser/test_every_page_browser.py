"""Every public page, found in the app itself, in a desktop and a phone browser (issue 17).

The pages are the GET rules of the blueprints visitors use (jobseekers' blueprints,
:data:`app.i18n.JOBSEEKER_BLUEPRINTS`, and the businesses' questionnaire and data rights), so a
new page is checked without a change here. A rule whose address names a file (``.ics``,
``.json``, ``sw.js``, …) is not a page; the others are fetched first and checked in the browser
when they answer HTML (the API, the health checks and the JSON export answer something else:
for them, only that they answer without a server error and set no cookie but the session). The
variable parts come from fixture data made for each test: an employer, an event with a
registration, a job alert, a questionnaire draft and the tokens of their links; a new rule
with a part :func:`samples` does not know fails the test.

For each page at 1366×800 (and each jobseekers' page at 390×844 too): axe-core finds no WCAG
2.1 A/AA violation; ``<html lang>`` is set; the first Tab reaches the skip link, which moves the
focus to ``<main>``; the next focused element shows it (outline or shadow); no request goes to a
host other than the app and the configured tile server; and the only cookie is the session
cookie (set by the pages that keep a form's CSRF token or a draft). The language cookie comes
only with a visitor's explicit choice
(:func:`test_the_language_cookie_comes_only_with_the_visitors_choice`): it stores that choice
and is strictly necessary for the service the visitor asked for (§ 25 (2) Nr. 2 TDDDG).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.i18n import GERMAN_ENGLISH_ENDPOINTS, JOBSEEKER_BLUEPRINTS
from app.models import Company, Event, JobAlert
from app.services import alerts, registrations
from app.services import questionnaire as questionnaire_service
from tests.browser.conftest import PNG_1X1, serving
from tests.browser.navigation import new_document
from tests.browser.test_accessibility import axe_violations
from tests.conftest import (
    TILE_URL,
    app_on_shared_engine,
    company_maker,
    event_maker,
    temporary_app,
    test_database_url,
)

pytestmark = pytest.mark.browser

#: The businesses' blueprints whose pages are public too.
BUSINESS_BLUEPRINTS = frozenset({"questionnaire", "data_rights"})
SIZES = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}
TILE_HOST = urlsplit(TILE_URL).netloc
#: The one cookie a page may set without the visitor's choice (the test app's name for it).
SESSION_COOKIE = "session"


def public_rules() -> list[tuple[str, str]]:
    """(endpoint, rule) of every GET rule of the public blueprints whose address is not a file."""
    url = test_database_url().render_as_string(hide_password=False)
    with temporary_app(url) as app:
        rules = sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))
    found = []
    for rule in rules:
        blueprint = rule.endpoint.partition(".")[0]
        if "GET" not in rule.methods or "." not in rule.endpoint:
            continue  # static files
        if blueprint not in JOBSEEKER_BLUEPRINTS | BUSINESS_BLUEPRINTS:
            continue
        if "." in rule.rule.rsplit("/", 1)[-1]:
            continue  # the address names a file: an .ics, sw.js, the manifest, robots.txt …
        found.append((rule.endpoint, rule.rule))
    return found


PUBLIC_RULES = public_rules()
#: Every page at desktop size; at phone size the jobseekers' pages (not the developers').
CASES = [("desktop", endpoint, rule) for endpoint, rule in PUBLIC_RULES] + [
    ("phone", endpoint, rule)
    for endpoint, rule in PUBLIC_RULES
    if endpoint.partition(".")[0] in JOBSEEKER_BLUEPRINTS
    and endpoint not in GERMAN_ENGLISH_ENDPOINTS
]


# The pages only read: one app, one server and one set of fixture data serve the whole module
# (they replace the function-scoped fixtures of the same names here).
@pytest.fixture(scope="module")
def app(database_url, shared_engine):
    """The app for the whole module; its data and drafts are removed afterwards."""
    with app_on_shared_engine(database_url, shared_engine) as app:
        yield app
        with app.app_context():
            db.session.execute(text("TRUNCATE questionnaire_drafts CASCADE"))
            db.session.commit()


@pytest.fixture(scope="module")
def live_server(app):
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def samples(app):
    """An employer, an event with a registration, a confirmed job alert and a questionnaire
    draft; the values of the rules' variable parts."""
    company_id = company_maker(app)("Elektro Kaya", email="post@kaya.example")
    event_id = event_maker(app)("Infoabend Ausbildung", registration_open=True, capacity=10)
    with app.test_request_context():
        company = db.session.get(Company, company_id)
        event = db.session.get(Event, event_id)
        registration = registrations.register(
            event,
            "Alex Beispiel",
            "alex@example.test",
            "",
            "de",
            registrations.REGISTRATION_CONSENT_VERSION,
        ).registration
        search = alerts.parse_search(MultiDict())
        alerts.subscribe("alex@example.test", search, "de", alerts.ALERT_CONSENT_VERSION)
        alert = db.session.scalar(select(JobAlert))
        alerts.confirm(alert)
        draft = questionnaire_service.start_draft("de")
        db.session.commit()
        edit = questionnaire_service.edit_token(company)
        link = alerts.link_token(alert)
        return {
            "slug": {"public.employer": company.slug, None: event.slug},
            "step_key": {None: questionnaire_service.definition().keys[0]},
            "feature_id": {None: company_id},
            "key": {None: "events"},
            "kind": {None: "childcare"},
            "token": {
                "registration.cancel": registrations.cancel_token(registration),
                "alerts.confirm": alerts.confirm_token(alert),
                "alerts.change": link,
                "alerts.unsubscribe": link,
                "questionnaire.resume": questionnaire_service.resume_token(draft),
                "questionnaire.edit": edit,
                "data_rights.overview": edit,
                "data_rights.export": edit,
                "data_rights.erase": edit,
            },
        }


def path_of(rule: str, endpoint: str, samples: dict) -> str:
    """The rule's path with its variable parts filled in from :func:`samples`."""
    path = []
    for part in rule.split("/"):
        if part.startswith("<"):
            name = part.strip("<>").rpartition(":")[2]
            values = samples.get(name, {})
            value = values.get(endpoint, values.get(None))
            if value is None:
                pytest.fail(f"{endpoint} ({rule}): add a value for <{name}> to samples()")
            part = str(value)
        path.append(part)
    return "/".join(path)


@pytest.fixture(scope="module")
def tab(request, browser):
    """One browser context per page size for the whole module; every request is recorded."""
    size = request.param
    context = browser.new_context(
        viewport=SIZES[size], is_mobile=size == "phone", has_touch=size == "phone", locale="de-DE"
    )
    page = context.new_page()
    page.size = size
    page.requests = []
    page.errors = []
    page.on("request", lambda req: page.requests.append(req.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.route(
        f"https://{TILE_HOST}/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PNG_1X1),
    )
    yield page
    context.close()


@pytest.fixture
def fresh_tab(tab):
    """The size's page, without the cookies and requests of the page before."""
    tab.context.clear_cookies()
    tab.goto("about:blank")
    tab.requests.clear()
    tab.errors.clear()
    return tab


#: The outline and shadow of an element (argument), or of the focused one.
STYLE = """(element) => {
  const style = getComputedStyle(element || document.activeElement);
  return {outline: style.outlineStyle === "none" ? "0px" : style.outlineWidth,
          shadow: style.boxShadow};
}"""


def assert_focus_visible(page) -> None:
    """The focused element has an outline or a shadow, which it loses with the focus."""
    element = page.evaluate_handle("() => document.activeElement")
    described = element.evaluate("(node) => node.outerHTML.slice(0, 120)")
    focused = page.evaluate(STYLE)
    assert focused["outline"] != "0px" or focused["shadow"] != "none", described
    element.evaluate("(node) => node.blur()")
    assert element.evaluate(STYLE) != focused, described


@pytest.mark.parametrize(
    ("tab", "endpoint", "rule"), CASES, ids=[f"{s}-{e}" for s, e, _ in CASES], indirect=["tab"]
)
def test_every_public_page_is_accessible_and_private(
    app, live_server, tab, fresh_tab, samples, endpoint, rule
):
    page = fresh_tab
    path = path_of(rule, endpoint, samples)
    answer = app.test_client().get(path)
    if answer.mimetype != "text/html":
        # Not a page for a person (the API, the health checks, the JSON export): it answers
        # without a server error (the sample values need not name a row it has) and sets no
        # cookie but the session either.
        assert answer.status_code < 500, (path, answer.status_code)
        cookies = [header.split("=", 1)[0] for header in answer.headers.getlist("Set-Cookie")]
        assert set(cookies) <= {"session"}, (path, cookies)
        return

    page.goto(f"{live_server}{path}")
    assert page.locator("html").get_attribute("lang") == "de"
    assert axe_violations(page) == []

    # The first Tab reaches the skip link, which shows its focus and moves it to <main>.
    page.locator("body").press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("(node) => node === document.activeElement")
    focused = page.evaluate(STYLE)
    assert focused["outline"] != "0px" or focused["shadow"] != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    assert skip.evaluate(STYLE) != focused
    # The next Tab goes into the content, whose element shows its focus too.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement !== document.body")
    assert_focus_visible(page)

    hosts = {urlsplit(url).netloc for url in page.requests if not url.startswith("data:")}
    assert hosts <= {urlsplit(live_server).netloc, TILE_HOST}, hosts
    cookies = {cookie["name"] for cookie in page.context.cookies()}
    assert cookies <= {SESSION_COOKIE}, cookies
    assert page.errors == []


@pytest.mark.parametrize("tab", ["desktop"], indirect=True)
def test_the_language_cookie_comes_only_with_the_visitors_choice(live_server, tab, fresh_tab):
    page = fresh_tab
    page.goto(f"{live_server}/ueber")
    assert not [c for c in page.context.cookies() if c["name"] == "lang"]
    page.select_option("#site-language", "en")
    with new_document(page):
        page.locator(".language-submit").click()
    assert page.locator("html").get_attribute("lang") == "en"
    [cookie] = [c for c in page.context.cookies() if c["name"] == "lang"]
    assert (cookie["value"], cookie["httpOnly"], cookie["sameSite"]) == ("en", True, "Lax")
