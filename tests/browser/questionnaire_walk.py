"""Walking the questionnaire in a browser: shared by the questionnaire's browser tests."""


def next_step(page, number):
    """Press "Weiter" and wait for step ``number`` of 8."""
    page.get_by_role("button", name="Weiter", exact=True).click()
    page.wait_for_url("**/mitmachen/schritt/**")
    assert page.locator("#progress-text").text_content() == f"Schritt {number} von 8"


def begin_as_a_bakery(page, live_server):
    """Start the questionnaire as "Bäckerei Korn" in Marl and arrive at step 3 (sectors)."""
    page.goto(f"{live_server}/mitmachen/")
    page.get_by_role("button", name="Jetzt beginnen").click()
    page.get_by_label("Name des Unternehmens").fill("Bäckerei Korn")
    page.get_by_label("Kurzbeschreibung").fill("Brot und Brötchen seit 1921.")
    next_step(page, 2)
    page.get_by_label("Straße").fill("Hauptstraße")
    page.get_by_label("Hausnummer").fill("5")
    page.locator("#f-town").fill("Marl")
    page.get_by_label("Postleitzahl").fill("45768")
    next_step(page, 3)
