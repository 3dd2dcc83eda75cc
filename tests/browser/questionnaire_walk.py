"""Walking the questionnaire in a browser: shared by the questionnaire's browser tests."""

import pytest
from sqlalchemy import text

from app.extensions import db


@pytest.fixture
def clean_drafts(app):
    """Remove the drafts and mails a browser walk leaves behind."""
    yield
    with app.app_context():
        db.session.execute(text("TRUNCATE questionnaire_drafts, outbox_messages CASCADE"))
        db.session.commit()


def next_step(page, number):
    """Press "Weiter" and wait for step ``number`` of 8."""
    page.get_by_role("button", name="Weiter", exact=True).click()
    page.wait_for_url("**/mitmachen/schritt/**")
    assert page.locator("#progress-text").text_content() == f"Schritt {number} von 8"
