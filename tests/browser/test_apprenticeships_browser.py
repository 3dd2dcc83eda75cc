"""A baker names the apprenticeship occupation "Bäcker/in" with 2 places in the questionnaire;
after approval the public entry shows it (issue 11). Uses the shipped occupation list."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Company, StaffUser
from app.services import curation
from tests.browser.questionnaire_walk import begin_as_a_bakery, next_step

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_drafts")]


def test_a_baker_names_the_apprenticeship_and_the_entry_shows_it(
    app, page, live_server, make_staff
):
    begin_as_a_bakery(page, live_server)
    page.locator("#o-sectors input[value='10']").check(force=True)
    page.locator("#o-occupations input[value='29']").check(force=True)
    next_step(page, 4)
    page.get_by_label("Wie viele Menschen arbeiten bei Ihnen?").fill("8")
    next_step(page, 5)

    # The picker is searchable: typing "Bäcker" shows the baker among few others.
    page.locator("#s-apprenticeships").fill("Bäcker")
    baker = page.locator("#o-apprenticeships input[value='baecker']")
    baker.check()
    assert page.locator("#o-apprenticeships input[type=checkbox]:visible").count() < 10
    places = page.locator("input[name='apprenticeships-places-baecker']")
    assert places.is_visible()  # shown once the occupation is ticked
    places.fill("2")
    next_step(page, 6)
    next_step(page, 7)
    page.locator("#f-contact_name").fill("Karl Korn")
    page.locator("#f-contact_email").fill("karl@korn.example")
    next_step(page, 8)
    assert "Bäcker/in (2 Plätze)" in page.locator(".summary").text_content()
    page.get_by_label("Ich bin einverstanden", exact=False).check()
    page.get_by_role("button", name="Absenden").click()
    page.wait_for_url("**/mitmachen/danke")

    email = make_staff()
    with app.test_request_context():
        company = db.session.scalars(select(Company)).one()
        assert [(a.code, a.places) for a in company.apprenticeships] == [("baecker", 2)]
        actor = db.session.scalars(select(StaffUser).where(StaffUser.email == email)).one()
        slug = company.slug
        curation.approve(company, actor, expected_version=company.version)

    page.goto(f"{live_server}/arbeitgeber/{slug}")
    assert "Bäcker/in (2 Plätze)" in page.locator(".facts").text_content()
    page.goto(f"{live_server}/?apprenticeship=baecker")
    assert page.locator("#f-apprenticeship").input_value() == "baecker"
    page.wait_for_selector("#employer-list .employer-item")
    assert "Bäckerei Korn" in page.locator("#employer-list").text_content()
    assert page.errors == []
