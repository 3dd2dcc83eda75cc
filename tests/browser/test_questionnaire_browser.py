"""The questionnaire in a real browser: every step, the pin dragged, nothing lost going back."""

import pytest
from geoalchemy2.shape import to_shape
from sqlalchemy import select

from app.extensions import db
from app.models import Company, CompanyStatus
from app.services import questionnaire as service
from tests.browser.questionnaire_walk import next_step
from tests.browser.test_accessibility import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_drafts")]


def test_complete_the_questionnaire_with_the_pin_dragged(app, page, live_server):
    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Ihr Unternehmen auf die Karte").click()
    page.get_by_role("button", name="Jetzt beginnen").click()
    assert page.locator("#progress-text").text_content() == "Schritt 1 von 8"
    assert page.locator("progress").get_attribute("value") == "1"
    page.get_by_label("Name des Unternehmens").fill("Tischlerei Holzwurm")
    page.get_by_label("Kurzbeschreibung").fill("Möbel nach Maß.")
    next_step(page, 2)

    page.get_by_label("Straße").fill("Hauptstraße")
    page.get_by_label("Hausnummer").fill("5")
    page.locator("#f-town").fill("Marl")
    page.get_by_label("Postleitzahl").fill("45768")
    page.get_by_label("Postleitzahl").press("Tab")  # change: the pin jumps to the postal code
    suggested = service_point(app, "45768")
    page.wait_for_function(
        "(lat) => document.getElementById('f-location').value.startsWith(lat)",
        arg=f"{suggested[1]:.3f}"[:6],
    )
    marker = page.locator("#pin-map .leaflet-marker-icon")
    box = marker.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y - 40, steps=8)
    page.mouse.up()
    dragged = page.locator("#f-location").input_value()
    lat, lon = (float(v) for v in dragged.split(","))
    assert lon > suggested[0] and lat > suggested[1]
    next_step(page, 3)

    page.locator("#s-sectors").fill("Holz")
    visible = page.locator("#o-sectors label:visible")
    assert 0 < visible.count() < 10
    page.get_by_label("Herstellung von Holz-, Flecht-, Korb- und Korkwaren (ohne Möbel)").check()
    page.get_by_label("Holzbe- und -verarbeitung", exact=False).first.check()
    next_step(page, 4)

    page.get_by_label("Wie viele Menschen arbeiten bei Ihnen?").fill("12")
    page.get_by_role("button", name="Zurück", exact=True).click()
    assert page.locator("#progress-text").text_content() == "Schritt 3 von 8"
    assert page.get_by_label(
        "Herstellung von Holz-, Flecht-, Korb- und Korkwaren (ohne Möbel)"
    ).is_checked()
    next_step(page, 4)
    assert page.get_by_label("Wie viele Menschen arbeiten bei Ihnen?").input_value() == "12"
    next_step(page, 5)

    page.get_by_label("Wir bilden aus (Ausbildungsplätze)").check()
    next_step(page, 6)
    page.get_by_label("Teilzeit möglich").check()
    next_step(page, 7)
    page.locator("#f-contact_name").fill("Erika Muster")
    page.locator("#f-contact_email").fill("erika@holzwurm")
    page.get_by_role("button", name="Weiter", exact=True).click()
    assert "Das ist keine gültige E-Mail-Adresse" in page.locator(".error-box").text_content()
    assert page.locator("#f-contact_name").input_value() == "Erika Muster"
    page.locator("#f-contact_email").fill("erika@holzwurm.example")
    next_step(page, 8)

    assert "Tischlerei Holzwurm" in page.locator(".summary").text_content()
    page.get_by_label("Ich bin einverstanden", exact=False).check()
    page.get_by_role("button", name="Absenden").click()
    page.wait_for_url("**/mitmachen/danke")
    assert page.locator("h1").text_content() == "Vielen Dank!"
    assert page.errors == []

    with app.app_context():
        company = db.session.scalars(select(Company)).one()
        assert company.status is CompanyStatus.PENDING
        point = to_shape(company.location)
        assert (round(point.y, 5), round(point.x, 5)) == (round(lat, 5), round(lon, 5))
        assert [d.code for d in company.sectors] == ["16"]


def service_point(app, postal_code):
    with app.app_context():
        return service.suggest_point(postal_code)


def test_questionnaire_pages_have_no_wcag_violations(page, live_server):
    page.goto(f"{live_server}/mitmachen/")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Jetzt beginnen").click()
    page.get_by_role("button", name="Weiter", exact=True).click()  # errors shown
    assert page.locator(".field-error").count() == 2
    assert axe_violations(page) == []
