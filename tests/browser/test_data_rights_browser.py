"""A business's data rights in the browser, by keyboard on a phone-sized screen: the edit link,
the JSON download, the erasure; each page without WCAG violations (axe-core)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Company
from app.services import questionnaire as questionnaire_service
from tests.browser.test_accessibility import axe_violations

NAME = "Feinwerk Tastatur GmbH"


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


@pytest.fixture
def edit_path(app, make_company, clean_drafts):
    entry_id = make_company(
        NAME, email="post@feinwerk.example", contact_email="chefin@feinwerk.example"
    )
    with app.app_context():
        token = questionnaire_service.edit_token(db.session.get(Company, entry_id))
    return f"/mitmachen/aendern/{token}"


def tab_to(page, text: str, limit: int = 120) -> None:
    """Press Tab until the focused element's text (or label) contains ``text``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return (e.labels && e.labels.length ? e.labels[0].textContent : e.textContent)"
            " || ''; }"
        )
        if text in focused:
            return
    pytest.fail(f"{text!r} is not reachable with the Tab key")


def test_download_and_erase_by_keyboard(app, live_server, phone_page, edit_path):
    page = phone_page
    page.goto(f"{live_server}{edit_path}")
    page.get_by_role("heading", name="Ihre Daten").wait_for()
    assert axe_violations(page) == []

    tab_to(page, "Alle Daten herunterladen (JSON)")
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename.startswith("kmu-atlas-")
    assert download.suggested_filename.endswith(".json")
    with open(download.path(), encoding="utf-8") as file:
        assert json.load(file)["entry"]["name"] == NAME

    tab_to(page, "Eintrag und Daten löschen")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Eintrag und Daten löschen").wait_for()
    assert axe_violations(page) == []

    # Sent without the tick: the error is announced and leads to the box.
    tab_to(page, "Endgültig löschen")
    page.keyboard.press("Enter")
    page.locator("#form-errors").wait_for()
    assert axe_violations(page) == []
    with app.app_context():
        assert db.session.scalar(select(Company.id).where(Company.name == NAME)) is not None

    tab_to(page, "Ja, ich möchte den Eintrag")
    page.keyboard.press("Space")
    assert page.locator("#f-confirm").is_checked()
    tab_to(page, "Endgültig löschen")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Ihr Eintrag ist gelöscht").wait_for()
    assert NAME not in page.content()
    assert axe_violations(page) == []
    assert page.errors == []
    with app.app_context():
        assert db.session.scalar(select(Company.id).where(Company.name == NAME)) is None

    page.goto(f"{live_server}{edit_path}")
    assert page.get_by_role("heading", name="Dieser Link ist nicht (mehr) gültig").is_visible()
