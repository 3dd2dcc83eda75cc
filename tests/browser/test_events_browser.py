"""Events in the browser (issue 13): the list with its filter form, the month calendar (also on
a phone), an event's page with its small map, registering with the keyboard alone, the map
layer "Veranstaltungen" on the start page, and axe with zero violations in German and English
at desktop and phone width. Tiles are answered locally; nothing reaches the network."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import Event
from tests.browser.conftest import PNG_1X1
from tests.browser.test_accessibility import axe_violations
from tests.browser.test_start_page_browser import loads, open_map, wait_loaded
from tests.conftest import TILE_URL, default_start

pytestmark = pytest.mark.browser

BERLIN = ZoneInfo("Europe/Berlin")
GLADBECK = {"postal_code": "45964", "town": "Gladbeck", "location": (6.987, 51.571)}
PHONE = {"width": 390, "height": 844}
#: A month far enough ahead to hold only the test's own series.
MONTH = "2031-03"


@pytest.fixture
def agenda(app, make_event, make_company):
    """A training in Gladbeck, an info event with registration in Recklinghausen, an online
    event, and a weekly series in March 2031; their slugs."""
    company = make_company(name="Metallbau Kaya")
    series_start = datetime(2031, 3, 5, 15, tzinfo=BERLIN)
    ids = {
        "training": make_event(
            "Schweißkurs für Einsteiger",
            kind="training",
            starts_at=default_start(3),
            description="Grundlagen.\nMit Schutzkleidung.",
            **GLADBECK,
        ),
        "info": make_event(
            "Infoabend Ausbildung",
            registration_open=True,
            capacity=10,
            starts_at=default_start(4, hour=18),
            target_groups=["school_leavers"],
            accessibility="Rampe am Eingang.",
            company_ids=[company],
        ),
        "online": make_event(
            "Bewerbung per Video",
            attendance="online",
            online_url="https://meet.example.test/raum",
            location=None,
            postal_code="",
            town="",
            venue="",
            starts_at=default_start(5),
        ),
        "series": make_event(
            "Jobcafé",
            rrule="FREQ=WEEKLY;COUNT=4",
            postal_code="45768",
            town="Marl",
            location=(7.09, 51.65),
            starts_at=series_start,
            ends_at=series_start + timedelta(hours=2),
        ),
    }
    with app.app_context():
        return {key: db.session.get(Event, value).slug for key, value in ids.items()}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="de-DE")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.route(
        f"{TILE_URL.split('/{z}')[0]}/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PNG_1X1),
    )
    yield page
    context.close()


def shown_slugs(page) -> list[str]:
    return page.locator(".event-item").evaluate_all("(items) => items.map((i) => i.dataset.event)")


def test_the_list_filters_without_javascript_help(page, live_server, agenda):
    page.goto(f"{live_server}/veranstaltungen")
    assert page.locator("h1").text_content().startswith("Veranstaltungen in")
    assert shown_slugs(page) == [agenda["training"], agenda["info"], agenda["online"]]
    assert (
        page.locator(".event-item", has_text="Bewerbung per Video")
        .locator(".event-meta")
        .text_content()
        .split("·")[1]
        .strip()
        == "Online"
    )
    page.select_option("#f-kind", "training")
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_url("**/veranstaltungen?*kind=training*")
    assert shown_slugs(page) == [agenda["training"]]
    assert page.locator("#f-kind").input_value() == "training"
    subscribe = page.get_by_role("link", name="Als Kalender abonnieren")
    assert subscribe.get_attribute("href") == "/veranstaltungen.ics?kind=training"
    page.get_by_role("link", name="Monatsansicht").click()
    page.wait_for_url("**/veranstaltungen/kalender?kind=training")
    assert page.locator("#month-calendar caption").is_visible()
    assert page.errors == []


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_bad_filter_link_shows_the_message_and_keeps_the_form(
    page, phone, live_server, agenda, size
):
    page = page if size == "desktop" else phone
    response = page.goto(f"{live_server}/veranstaltungen?municipality=99999999&q=Kurs")
    assert response.status == 400
    assert page.locator("#f-q").is_visible()  # the panel stays open, even on a phone
    assert "Unbekannte Gemeinde „99999999“" in page.locator("#filter-error").text_content()
    assert page.locator("#f-q").input_value() == "Kurs"
    assert page.locator("#f-municipality").get_attribute("aria-invalid") == "true"


def test_the_calendar_shows_the_series_and_moves_between_months(page, live_server, agenda):
    page.goto(f"{live_server}/veranstaltungen/kalender?monat={MONTH}")
    table = page.get_by_role("table", name="März 2031")
    assert table.is_visible()
    assert page.locator("thead th").count() == 7
    days = page.locator("td.cal-day:has(.cal-events a)").evaluate_all(
        "(cells) => cells.map((c) => c.dataset.day)"
    )
    assert days == ["2031-03-05", "2031-03-12", "2031-03-19", "2031-03-26"]
    page.get_by_role("link", name="April 2031").click()
    page.wait_for_url("**/kalender?monat=2031-04")
    assert page.get_by_role("table", name="April 2031").is_visible()
    assert page.locator("td.cal-day .cal-events a").count() == 0
    page.get_by_role("link", name="März 2031").click()
    page.locator("td.cal-day .cal-events a").first.click()
    page.wait_for_url(f"**/veranstaltungen/{agenda['series']}")
    assert page.locator("h1").text_content() == "Jobcafé"


def test_the_calendar_becomes_a_day_list_on_a_phone(phone, live_server, agenda):
    phone.goto(f"{live_server}/veranstaltungen/kalender?monat={MONTH}")
    # Only the days with events are shown, each with its full date, one under the other.
    visible = phone.locator("td.cal-day:visible")
    assert visible.count() == 4
    assert visible.first.locator(".cal-date").text_content().startswith("Mittwoch, 5. März 2031")
    assert phone.locator("thead").is_hidden()
    # The filters start folded on a phone (the dates come first) and open on a tap.
    assert phone.locator("#event-filters").get_attribute("open") is None
    phone.locator("#event-filters summary").click()
    assert phone.locator("#f-kind").is_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing sticks out sideways
    link = visible.first.locator("a")
    box = link.bounding_box()
    assert box["height"] >= 44 and box["width"] > 100
    assert phone.errors == []


def test_the_event_page_shows_its_place_on_a_small_map(page, live_server, agenda):
    page.goto(f"{live_server}/veranstaltungen/{agenda['training']}")
    assert page.locator("h1").text_content() == "Schweißkurs für Einsteiger"
    container = page.locator(".event-map .leaflet-container")
    container.wait_for()
    page.locator(".event-map .leaflet-tile-loaded").first.wait_for()
    assert page.locator(".event-map .leaflet-marker-icon").count() == 1
    assert page.locator(".event-description").text_content() == "Grundlagen.\nMit Schutzkleidung."
    assert (
        page.locator(".event-description").evaluate("(node) => getComputedStyle(node).whiteSpace")
        == "pre-line"
    )
    third_party = [
        url
        for url in page.requests
        if not url.startswith(live_server) and not url.startswith("https://tiles.example.test/")
    ]
    assert third_party == []
    assert page.errors == []


def test_the_event_and_employer_pages_link_each_other(page, live_server, agenda):
    page.goto(f"{live_server}/veranstaltungen/{agenda['info']}")
    page.get_by_role("link", name="Metallbau Kaya").click()
    page.wait_for_url("**/arbeitgeber/**")
    page.get_by_role("link", name="Infoabend Ausbildung").click()
    page.wait_for_url(f"**/veranstaltungen/{agenda['info']}")


def test_registering_with_the_keyboard_alone(page, live_server, agenda, app):
    page.goto(f"{live_server}/veranstaltungen/{agenda['info']}")
    name = page.locator("#r-name")
    page.locator("body").press("Tab")
    for _ in range(80):
        if name.evaluate("(node) => node === document.activeElement"):
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("the registration form cannot be reached with Tab")
    page.keyboard.type("Alex Beispiel")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "r-email"
    page.keyboard.type("alex@example.test")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "r-note"
    page.keyboard.type("Ich komme mit dem Rollstuhl.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "r-consent"
    page.keyboard.press("Space")
    assert page.locator("#r-consent").is_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/veranstaltungen/{agenda['info']}/angemeldet")
    assert page.locator("h1").is_visible()
    with app.app_context():
        from app.models import EventRegistration

        [registration] = db.session.query(EventRegistration).all()
        assert registration.name == "Alex Beispiel"
        assert registration.note == "Ich komme mit dem Rollstuhl."


def test_the_start_page_has_the_event_layer_switched_off(page, live_server, agenda):
    open_map(page, f"{live_server}/#map=11/51.60/7.10")
    page.wait_for_timeout(400)
    wait_loaded(page, loads(page))
    box = page.locator('.atlas-legend input[data-layer="events"]')
    assert not box.is_checked()
    assert page.locator(".leaflet-marker-pane .event-marker").count() == 0
    assert not [url for url in page.requests if "/api/features/events" in url]
    before = loads(page)
    box.click()
    wait_loaded(page, before + 1)
    markers = page.locator(".leaflet-marker-pane .event-marker")
    assert markers.count() == 3  # the training, the info event and the series; not online
    page.locator(".leaflet-marker-pane .event-marker[title='Infoabend Ausbildung']").click(
        force=True
    )
    popup = page.locator(".leaflet-popup-content")
    assert popup.locator("h2").text_content() == "Infoabend Ausbildung"
    details = popup.get_by_role("link", name="Details ansehen")
    assert details.get_attribute("href") == f"/veranstaltungen/{agenda['info']}"
    assert page.errors == []


PAGES = {
    "list": "/veranstaltungen",
    "calendar": f"/veranstaltungen/kalender?monat={MONTH}",
    "detail": "/veranstaltungen/{info}",
}


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("which", list(PAGES))
def test_event_pages_have_no_wcag_violations(
    browser, page, phone, live_server, agenda, which, language, width
):
    tab = page if width == "desktop" else phone
    path = PAGES[which].format(**agenda)
    separator = "&" if "?" in path else "?"
    tab.goto(f"{live_server}{path}{separator}lang={language}")
    assert tab.locator("html").get_attribute("lang") == language
    if which == "detail":
        tab.locator(".event-map .leaflet-container").wait_for()
    assert axe_violations(tab) == []
