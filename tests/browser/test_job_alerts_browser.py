"""Job alerts in a real browser (issue 15): the box below the list follows the filter panel, a
subscription from the map stores exactly the map's search, and an alert's change link turns the
box into "save this search onto my alert"."""

from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import JobAlert
from app.services import alerts
from tests.browser.navigation import new_document
from tests.browser.test_accessibility import axe_violations

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def no_alerts_left(app):
    """The shared fixtures do not know the job_alerts table: empty it after each test."""
    yield
    with app.app_context():
        db.session.execute(text("TRUNCATE job_alerts, outbox_messages RESTART IDENTITY"))
        db.session.commit()


def wait_loaded(page, loads):
    """Wait until the page has finished its ``loads``-th data load."""
    page.wait_for_function(
        "(loads) => { const atlas = document.getElementById('atlas');"
        " return atlas && Number(atlas.dataset.loads) >= loads"
        " && atlas.dataset.loaded === 'true'; }",
        arg=loads,
        timeout=15_000,
    )


def hidden_filter(page) -> list[tuple[str, str]]:
    pairs = page.eval_on_selector_all(
        "#alert-filter input[type=hidden]", "inputs => inputs.map(i => [i.name, i.value])"
    )
    return [tuple(pair) for pair in pairs]


def address_filter(page) -> list[tuple[str, str]]:
    """The filter in the address bar (what the map shows), without the list's order and page."""
    query = parse_qsl(urlsplit(page.url).query)
    return [(name, value) for name, value in query if name not in ("sort", "page")]


def stored(app) -> list[JobAlert]:
    with app.app_context():
        return list(db.session.scalars(select(JobAlert).order_by(JobAlert.id)))


def test_subscribing_from_the_map_stores_the_maps_search(page, live_server, app, make_company):
    make_company("Dachdeckerei Sturm", sectors=("43",), employees=20)
    make_company("Bäckerei Korn", sectors=("10",))
    page.goto(live_server)
    wait_loaded(page, 1)
    assert hidden_filter(page) == []

    page.select_option("#f-sector", "F")
    wait_loaded(page, 2)
    assert hidden_filter(page) == [("sector", "F")]
    page.check("#filter-form input[name=size][value=small]")
    wait_loaded(page, 3)
    page.check("#filter-form input[name=size][value=micro]")
    wait_loaded(page, 4)
    page.fill("#f-near", "45657")
    page.press("#f-near", "Enter")
    wait_loaded(page, 5)
    assert hidden_filter(page) == address_filter(page)
    assert dict(hidden_filter(page))["size"] == "micro,small"  # as the map asks (form order)

    page.click("#reset-filters")
    wait_loaded(page, 6)
    assert hidden_filter(page) == []
    page.select_option("#f-sector", "F")
    wait_loaded(page, 7)
    page.check("#filter-form input[name=size][value=small]")
    wait_loaded(page, 8)
    shown = address_filter(page)
    assert hidden_filter(page) == shown == [("sector", "F"), ("size", "small")]

    page.fill("#alert-email", "alex@example.org")
    page.check("#alert-consent")
    with new_document(page):
        page.click("#alert-submit")
    assert urlsplit(page.url).path == "/suchauftrag/gesendet"
    assert page.locator("h1").text_content() == "Bitte prüfen Sie Ihre E-Mails"
    assert "Baugewerbe" in page.locator("main").text_content()
    (alert,) = stored(app)
    assert alert.email == "alex@example.org"
    assert parse_qsl(alert.filter_query) == shown
    assert page.errors == []


def test_a_change_link_saves_the_maps_search_onto_the_same_alert(page, live_server, app):
    with app.test_request_context():
        search = alerts.parse_search(MultiDict({"sector": "F"}))
        alerts.subscribe("alex@example.org", search, "de", alerts.ALERT_CONSENT_VERSION)
        alert = db.session.scalar(select(JobAlert))
        alerts.confirm(alert)
        token = alerts.link_token(alert)
    page.goto(f"{live_server}/?sector=F#suchauftrag={token}")
    wait_loaded(page, 1)
    assert page.locator("#job-alert-title").text_content() == "Ihren Suchauftrag ändern"
    assert page.locator("#alert-email").is_hidden()
    jump = page.locator(".alert-jump a").text_content()
    assert jump == "Ihren Suchauftrag ändern: die Suche unter der Liste speichern"
    assert "suchauftrag" not in page.url  # the token left the address bar
    page.select_option("#f-sector", "C")
    wait_loaded(page, 2)
    with new_document(page):
        page.click("#alert-submit")
    assert "Ihr Suchauftrag hat jetzt diese Suche" in page.locator("main").text_content()
    (changed,) = stored(app)
    assert (changed.id, changed.filter_query) == (alert.id, "sector=C")

    page.goto(live_server)  # saved: the box is for new alerts again
    wait_loaded(page, 1)
    assert page.locator("#job-alert-title").text_content() == "Suchauftrag per E-Mail"
    assert page.locator("#alert-email").is_visible()
    assert page.errors == []


@pytest.mark.parametrize(
    "path",
    [
        "/suchauftrag?sector=F&near=45657",
        "/suchauftrag?near=Atlantis",
        "/suchauftrag/gesendet?sector=F",
        "/datenschutz",
        "/datenschutz?lang=ar",
    ],
)
def test_the_alert_and_privacy_pages_have_no_wcag_violations(page, live_server, path):
    page.goto(f"{live_server}{path}")
    assert axe_violations(page) == []


def test_the_form_with_errors_has_no_wcag_violations_and_keeps_the_input(page, live_server, app):
    page.goto(f"{live_server}/suchauftrag?sector=F")
    page.fill("#a-email", "keine-adresse")
    with new_document(page):
        page.click("#a-submit")
    assert page.locator("#a-errors").is_visible()
    assert page.input_value("#a-email") == "keine-adresse"
    assert page.get_attribute("#a-consent", "aria-invalid") == "true"
    assert axe_violations(page) == []
    assert stored(app) == []
