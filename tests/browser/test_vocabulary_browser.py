"""Everyday words in a real browser: the questionnaire's pickers and the start page's search."""

import pytest

from tests.browser.questionnaire_walk import begin_as_a_bakery, next_step

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_drafts")]


def type_into_picker(page, key, words):
    """Type into a picker's search box and wait until the vocabulary's suggestions are shown."""
    page.locator(f"#s-{key}").fill(words)
    page.wait_for_function(
        "([key, words]) => document.getElementById(`o-${key}`).dataset.vocabulary === words",
        arg=[key, words],
    )


def test_a_baker_finds_sector_and_occupation_by_typing_baecker(page, live_server):
    begin_as_a_bakery(page, live_server)

    # The official label says "Herstellung von Nahrungs- und Futtermitteln", not "Bäcker".
    type_into_picker(page, "sectors", "Bäcker")
    food = page.locator("#o-sectors input[value='10']")
    assert food.is_visible()
    assert page.locator("#o-sectors input[value='43']").is_hidden()
    food.check()

    type_into_picker(page, "occupations", "Bäcker")
    food_occupations = page.locator("#o-occupations input[value='29']")
    assert food_occupations.is_visible()
    food_occupations.check()
    visible = page.locator("#o-occupations label:visible")
    assert 0 < visible.count() < 10
    # The apprenticeship picker's part of this run is added with the apprenticeship step.

    next_step(page, 4)
    page.get_by_role("button", name="Zurück", exact=True).click()
    assert page.locator("#o-sectors input[value='10']").is_checked()
    assert page.locator("#o-occupations input[value='29']").is_checked()


def test_start_page_search_box_sets_the_sector_select(page, live_server):
    page.goto(f"{live_server}/")
    box = page.locator("#vocabulary-search")
    page.wait_for_function("() => document.getElementById('vocabulary-search').dataset.ready")
    assert box.is_visible()
    page.get_by_label("Beruf oder Branche suchen").fill("Baecker")
    page.wait_for_function(
        "() => Number(document.getElementById('vocabulary-search').dataset.results) > 0"
    )
    options = page.locator("#vocabulary-suggestions [role=option]")
    first = options.first
    assert first.get_attribute("data-kind") == "sectors"
    assert first.get_attribute("data-code") == "10"
    page.get_by_label("Beruf oder Branche suchen").press("Enter")
    assert page.locator("#f-sector").input_value() == "10"
    assert page.locator("#vocabulary-suggestions").is_hidden()

    page.get_by_label("Beruf oder Branche suchen").fill("Elektirker")
    page.wait_for_function(
        "() => Number(document.getElementById('vocabulary-search').dataset.results) > 0"
    )
    page.locator("#vocabulary-suggestions [role=option][data-kind=occupations]").first.click()
    assert page.locator("#f-occupation").input_value() == "26"
