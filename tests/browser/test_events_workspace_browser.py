"""The events workspace in a real browser: a partner signs in with the keyboard, creates an
event through the form and finds it in the list; WCAG 2.1 AA (axe-core) on the events list,
the event form and the organisations pages."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Event, EventStatus
from tests.browser.navigation import new_document
from tests.browser.test_accessibility import axe_violations
from tests.conftest import STAFF_PASSWORD, default_start

pytestmark = pytest.mark.browser


def sign_in_with_keyboard(page, live_server, email, path="/agentur/veranstaltungen/"):
    page.goto(f"{live_server}{path}")
    page.locator("#login-email").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(STAFF_PASSWORD)
    with new_document(page):
        page.keyboard.press("Enter")
    assert page.url.endswith(path)


@pytest.fixture
def partner(make_organisation, make_staff, make_company):
    organisation_id = make_organisation("Jobcenter Marl", review_required=False)
    make_company("Elektro Funke")
    return make_staff("partner", email="p@jobcenter.example", organisation_id=organisation_id)


def test_partner_creates_an_event_and_sees_it_in_the_list(page, live_server, partner, app):
    sign_in_with_keyboard(page, live_server, partner)
    assert page.get_by_role("heading", name="Veranstaltungen").is_visible()
    page.get_by_role("link", name="Neue Veranstaltung").focus()
    with new_document(page):
        page.keyboard.press("Enter")
    assert axe_violations(page) == []
    day = default_start(21).date()
    page.get_by_label("Titel", exact=True).fill("Bewerbungstraining im Rathaus")
    page.get_by_label("Art der Veranstaltung").select_option("training")
    page.get_by_label("Datum des Beginns").fill(day.isoformat())
    page.get_by_label("Uhrzeit des Beginns").fill("10:00")
    page.get_by_label("Uhrzeit des Endes").fill("12:30")
    page.get_by_label("Veranstaltungsort (Name)").fill("Rathaus Marl")
    page.get_by_label("Postleitzahl").fill("45768")
    page.get_by_label("Ort", exact=True).fill("Marl")
    page.get_by_label("Arbeitsuchende").check()
    employer = page.locator("#company_ids option", has_text="Elektro Funke").get_attribute("value")
    page.get_by_label("Beteiligte Arbeitgeber").select_option(employer)
    page.get_by_role("button", name="Veranstaltung anlegen").click()
    page.wait_for_url(re.compile(r"/agentur/veranstaltungen/\d+$"))
    assert page.get_by_text("Die Veranstaltung ist angelegt und veröffentlicht.").is_visible()
    assert axe_violations(page) == []
    workspace_nav = page.get_by_role("navigation", name="Arbeitsbereich der Agentur")
    workspace_nav.get_by_role("link", name="Veranstaltungen", exact=True).click()
    page.wait_for_url(f"{live_server}/agentur/veranstaltungen/")
    row = page.locator("#events-table tr", has_text="Bewerbungstraining im Rathaus")
    assert row.is_visible()
    assert "veröffentlicht" in row.inner_text()
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.title.like("Bewerbungstraining%")))
        assert event.status is EventStatus.PUBLISHED and event.kind == "training"
        assert [c.name for c in event.companies] == ["Elektro Funke"]


def test_form_errors_are_accessible(page, live_server, partner):
    sign_in_with_keyboard(page, live_server, partner, "/agentur/veranstaltungen/neu")
    page.get_by_role("button", name="Veranstaltung anlegen").click()
    page.locator("#form-errors").wait_for()
    assert page.locator("#title[aria-invalid='true']").count() == 1
    assert axe_violations(page) == []


def test_events_and_organisation_pages_have_no_wcag_violations(
    page, live_server, make_staff, make_event, make_organisation
):
    organisation_id = make_organisation("Kammer Test", review_required=True)
    event_id = make_event("Jobmesse", organisation="Kammer Test", status="pending")
    email = make_staff("admin")
    sign_in_with_keyboard(page, live_server, email)
    for path in (
        "/agentur/veranstaltungen/",
        "/agentur/veranstaltungen/?pruefen=1",
        "/agentur/veranstaltungen/neu",
        f"/agentur/veranstaltungen/{event_id}",
        f"/agentur/veranstaltungen/{event_id}/anmeldungen",
        "/agentur/organisationen/",
        "/agentur/organisationen/neu",
        f"/agentur/organisationen/{organisation_id}",
    ):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("load")
        assert axe_violations(page) == [], path
