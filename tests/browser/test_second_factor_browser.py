"""The second factor in the browser, with the keyboard only: a curator enrols (the code
computed from the secret the page shows, as an authenticator app would) and signs in with
password and code; every new page passes axe-core's WCAG 2.1 AA checks."""

import time

import pyotp
import pytest

from tests.browser.navigation import new_document
from tests.browser.test_accessibility import axe_violations
from tests.conftest import STAFF_PASSWORD


@pytest.fixture
def curator(make_staff):
    return make_staff("curator")


def type_into(page, selector, text):
    page.locator(selector).focus()
    page.keyboard.type(text)


def press_enter_on(page, locator):
    locator.focus()
    with new_document(page):
        page.keyboard.press("Enter")


def sign_in_with_password(page, live_server, email):
    page.goto(f"{live_server}/agentur/anmelden")
    type_into(page, "#login-email", email)
    page.keyboard.press("Tab")
    page.keyboard.type(STAFF_PASSWORD)
    with new_document(page):
        page.keyboard.press("Enter")


def test_enrol_and_sign_in_with_the_keyboard(page, live_server, curator):
    sign_in_with_password(page, live_server, curator)
    assert page.url.endswith("/agentur/")
    press_enter_on(page, page.get_by_role("link", name="Sicherheit"))
    assert page.get_by_role("heading", name="Konto / Sicherheit").is_visible()
    assert axe_violations(page) == []

    press_enter_on(page, page.get_by_role("button", name="Zweiten Faktor einrichten"))
    assert page.get_by_role(
        "img", name="QR-Code zum Einrichten in der Authenticator-App"
    ).is_visible()
    assert axe_violations(page) == []
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    type_into(page, "#enrol-code", totp.now())
    with new_document(page):
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", name="Der zweite Faktor ist eingerichtet").is_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert axe_violations(page) == []

    press_enter_on(page, page.get_by_role("button", name="Abmelden"))
    sign_in_with_password(page, live_server, curator)
    assert page.url.endswith("/agentur/anmelden/code")
    assert page.get_by_role("heading", name="Code eingeben").is_visible()
    assert page.evaluate("document.activeElement.id") == "login-code"  # ready to type
    assert axe_violations(page) == []
    page.keyboard.type(totp.at(time.time() + 30))
    with new_document(page):
        page.keyboard.press("Enter")
    assert page.url.endswith("/agentur/")
    assert page.get_by_role("heading", name="Übersicht").is_visible()


def test_a_wrong_code_is_announced(page, live_server, curator, app):
    sign_in_with_password(page, live_server, curator)
    page.goto(f"{live_server}/agentur/konto/sicherheit/zweiter-faktor")
    type_into(page, "#enrol-code", "000000")
    with new_document(page):
        page.keyboard.press("Enter")
    assert page.get_by_role("alert").inner_text().startswith("Der Code stimmt nicht")
    assert page.locator("#enrol-code").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []
