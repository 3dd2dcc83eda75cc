"""Issue 11, part 3, in a real browser on a phone (390×844, touch): the e-mail field of the
"save for later" page is full width and tall enough to tap, and the pin step shows in words,
not as coordinates, whether a point is set."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_drafts")]


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="de-DE", has_touch=True, is_mobile=True
    )
    page = context.new_page()
    page.route(
        "https://tiles.example.test/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=b""),
    )
    yield page
    context.close()


def first_step(page, live_server):
    """Start the questionnaire and fill in its first step."""
    page.goto(f"{live_server}/mitmachen/")
    page.get_by_role("button", name="Jetzt beginnen").click()
    page.get_by_label("Name des Unternehmens").fill("Tischlerei Holzwurm")
    page.get_by_label("Kurzbeschreibung").fill("Möbel nach Maß.")


def test_the_save_for_later_email_field_is_full_width_and_tappable(phone, live_server):
    first_step(phone, live_server)
    phone.get_by_role("button", name="Später weitermachen").click()
    phone.wait_for_url("**/mitmachen/gespeichert")
    field = phone.locator("#f-email").bounding_box()
    row = phone.locator("#f-email").locator("xpath=..").bounding_box()
    assert field["height"] >= 44
    assert field["width"] >= row["width"] - 1  # the whole width of its form row
    assert field["width"] >= 300


def test_the_pin_step_shows_words_not_coordinates(phone, live_server):
    first_step(phone, live_server)
    phone.get_by_role("button", name="Weiter", exact=True).click()
    phone.wait_for_url("**/schritt/location")
    phone.wait_for_selector("#pin-map[data-ready=true]", state="attached")
    status = phone.locator("#p-location")
    assert status.is_visible()
    assert status.text_content() == "Noch kein Punkt auf der Karte gesetzt"
    phone.get_by_label("Postleitzahl").fill("45768")
    phone.get_by_label("Postleitzahl").press("Tab")  # the pin goes to the postal code
    phone.wait_for_function("() => document.getElementById('f-location').value !== ''")
    assert status.text_content() == "Punkt auf der Karte gesetzt"
    assert phone.locator("#f-location").get_attribute("type") == "hidden"
    visible = phone.locator("main").inner_text()
    assert not re.search(r"\d+\.\d{4,}", visible), "no coordinates on the page"
