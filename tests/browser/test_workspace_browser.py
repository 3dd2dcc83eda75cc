"""The agency workspace in a real browser: signing in with the keyboard, reviewing, moving the
pin while editing, and WCAG 2.1 AA on every workspace page (axe-core)."""

import re

import pytest

from app.extensions import db
from app.models import ChangeRequest, Company, CompanyStatus
from tests.browser.navigation import new_document
from tests.browser.test_accessibility import axe_violations
from tests.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def workspace(app, make_company, make_staff):
    """A pending entry, a published one with a change request, and an admin account."""
    pending = make_company(
        "Dachdeckerei Sturm",
        status=CompanyStatus.PENDING,
        contact_email="ina@sturm.example",
        contact_name="Ina Sturm",
        description="Dächer.",
        street="Ring",
        house_number="1",
    )
    published = make_company("Elektro Funke", contact_email="f@funke.example")
    with app.app_context():
        change = ChangeRequest(company_id=published, values={"name": "Elektro Funke & Co"})
        db.session.add(change)
        db.session.commit()
        change_id = change.id
    email = make_staff("admin")
    return {"pending": pending, "published": published, "change": change_id, "email": email}


def sign_in_with_keyboard(page, live_server, email):
    page.goto(f"{live_server}/agentur/pruefen")
    page.keyboard.press("Tab")  # skip link
    page.locator("#login-email").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(STAFF_PASSWORD)
    with new_document(page):
        page.keyboard.press("Enter")
    assert page.url.endswith("/agentur/pruefen")
    assert page.get_by_role("heading", name="Zu prüfen").is_visible()


def test_sign_in_review_and_approve_with_the_keyboard(page, live_server, workspace, app):
    sign_in_with_keyboard(page, live_server, workspace["email"])
    page.get_by_role("link", name="Dachdeckerei Sturm").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/agentur/eintraege/\d+$"))
    page.get_by_role("button", name="Freigeben").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Der Eintrag ist veröffentlicht").wait_for(timeout=10_000)
    with app.app_context():
        assert db.session.get(Company, workspace["pending"]).status is CompanyStatus.PUBLISHED


def test_moving_the_pin_while_editing_saves_the_new_point(page, live_server, workspace, app):
    sign_in_with_keyboard(page, live_server, workspace["email"])
    page.goto(f"{live_server}/agentur/eintraege/{workspace['pending']}/bearbeiten")
    page.wait_for_selector("#pin-map[data-ready='true']")
    marker = page.locator("#pin-map .leaflet-marker-icon")
    page.locator("#pin-map").scroll_into_view_if_needed()
    box = marker.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 80, box["y"] + 40, steps=8)
    page.mouse.up()
    typed = page.locator("#f-location").input_value()
    assert typed and typed != "51.614600,7.197500"
    page.get_by_role("checkbox", name=re.compile("Bauplanung")).first.check()
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url(re.compile(r"/agentur/eintraege/\d+$"))
    lat, lon = (float(part) for part in typed.split(","))
    with app.app_context():
        x, y = db.session.execute(
            db.text("SELECT ST_X(location), ST_Y(location) FROM companies WHERE id = :i"),
            {"i": workspace["pending"]},
        ).one()
    assert (round(x, 5), round(y, 5)) == (round(lon, 5), round(lat, 5))


def test_workspace_pages_have_no_wcag_violations(page, live_server, workspace):
    page.goto(f"{live_server}/agentur/anmelden")
    assert axe_violations(page) == []
    sign_in_with_keyboard(page, live_server, workspace["email"])
    for path in (
        "/agentur/",
        "/agentur/pruefen",
        "/agentur/eintraege",
        f"/agentur/eintraege/{workspace['pending']}",
        f"/agentur/eintraege/{workspace['pending']}/bearbeiten",
        f"/agentur/aenderungen/{workspace['change']}",
        "/agentur/aktualitaet/",
        "/agentur/import",
        "/agentur/export",
        "/agentur/protokoll",
        "/agentur/konten/",
        "/agentur/?lang=en",
    ):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("load")
        assert axe_violations(page) == [], path
