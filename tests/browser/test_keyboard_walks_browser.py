"""Keyboard-only walks (issue 17): the whole questionnaire, from its start page to the thank-you
page, with Tab, Space, Enter and typing only (no mouse, no ``click()``, no ``fill()``), and an
axe-core scan of every step, of one step's error state and of the thank-you page.

(Search → list → detail with the keyboard alone is in ``test_accessibility.py``, registering for
an event in ``test_events_browser.py``.)
"""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Company, CompanyStatus
from tests.browser.navigation import new_document
from tests.browser.test_accessibility import axe_violations, tab_to

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_drafts")]


def type_into(page, selector: str, text: str) -> None:
    """Tab to the field and type ``text``."""
    tab_to(page, selector)
    page.keyboard.type(text)


def press_on(page, selector: str, key: str = "Enter") -> None:
    """Tab to a submit button and press ``key``; wait for the page it leads to."""
    tab_to(page, selector)
    with new_document(page):
        page.keyboard.press(key)


def at_step(page, number: int) -> None:
    """Step ``number`` of 8 is shown, and axe finds nothing on it."""
    assert page.locator("#progress-text").count(), (page.url, page.locator("main").inner_text())
    assert page.locator("#progress-text").text_content() == f"Schritt {number} von 8"
    assert axe_violations(page) == []


def test_the_whole_questionnaire_with_the_keyboard_alone(app, page, live_server):
    page.goto(f"{live_server}/mitmachen/")
    assert axe_violations(page) == []
    page.locator("body").press("Tab")
    press_on(page, "main form button[type=submit]")
    at_step(page, 1)

    type_into(page, "#f-name", "Tischlerei Holzwurm")
    type_into(page, "#f-description", "Möbel nach Maß.")
    press_on(page, "button[value=next]")
    at_step(page, 2)

    type_into(page, "#f-street", "Hauptstraße")
    type_into(page, "#f-house_number", "5")
    type_into(page, "#f-postal_code", "45768")
    type_into(page, "#f-town", "Marl")
    press_on(page, "button[value=next]")
    at_step(page, 3)

    type_into(page, "#s-sectors", "Holz")
    tab_to(page, "#o-sectors input[type=checkbox]")
    page.keyboard.press("Space")
    type_into(page, "#s-occupations", "Holz")
    page.locator("#o-occupations label:visible").first.wait_for()
    tab_to(page, "#o-occupations input[type=checkbox]")
    page.keyboard.press("Space")
    shown = page.locator("#o-occupations input[type=checkbox]:visible").count()
    assert shown < 100, shown  # the search narrowed the choice
    press_on(page, "button[value=next]")
    at_step(page, 4)

    type_into(page, "#f-employees", "12")
    press_on(page, "button[value=next]")
    at_step(page, 5)

    tab_to(page, "#f-offers_apprenticeships")
    page.keyboard.press("Space")
    press_on(page, "button[value=next]")
    at_step(page, 6)

    tab_to(page, "#f-family input[type=checkbox]")
    page.keyboard.press("Space")
    press_on(page, "button[value=next]")
    at_step(page, 7)

    type_into(page, "#f-contact_name", "Erika Muster")
    type_into(page, "#f-contact_email", "erika@holzwurm")
    press_on(page, "button[value=next]")
    at_step(page, 7)  # the error state
    assert "Das ist keine gültige E-Mail-Adresse" in page.locator(".error-box").text_content()
    tab_to(page, "#f-contact_email")
    page.keyboard.press("End")
    page.keyboard.type(".example")
    press_on(page, "button[value=next]")
    at_step(page, 8)

    assert "Tischlerei Holzwurm" in page.locator(".summary").text_content()
    tab_to(page, "#f-consent")
    page.keyboard.press("Space")
    press_on(page, "button[value=submit]")
    page.wait_for_url("**/mitmachen/danke")
    assert page.locator("h1").text_content() == "Vielen Dank!"
    assert axe_violations(page) == []
    assert page.errors == []

    with app.app_context():
        company = db.session.scalars(select(Company)).one()
        assert (company.name, company.status) == ("Tischlerei Holzwurm", CompanyStatus.PENDING)
        assert company.contact_email == "erika@holzwurm.example"
        assert company.employees == 12
        assert company.offers_apprenticeships
        assert company.sectors and company.occupations and company.family_criteria
