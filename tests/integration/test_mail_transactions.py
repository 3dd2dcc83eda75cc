"""A mail belongs to the transaction of the change it tells about (issue 10).

It is recorded in that transaction and delivered only after the commit: a rolled-back change
records and sends no mail, and a failed delivery is recorded on the outbox row without undoing
(or failing) the change.
"""

import smtplib

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import Company, CompanyStatus, StaffUser
from app.services import curation, freshness, mail
from tests.staff_helpers import audit_actions, company, mails

OWNER = "owner@betrieb.example"


@pytest.fixture
def smtp(app, monkeypatch):
    """SMTP delivery switched on, with a fake server: the list of (recipient, subject, status
    of the entry as another connection sees it at that moment) of every mail it received."""
    app.config["MAIL_SMTP_HOST"] = "smtp.example.test"
    sent = []

    def fake_send(recipient, subject, body, headers=None):
        with db.engine.connect() as other:  # what is committed when the mail goes out
            status = other.scalar(text("SELECT status FROM companies ORDER BY id LIMIT 1"))
        sent.append((recipient, subject, status))

    monkeypatch.setattr(mail, "_smtp_send", fake_send)
    return sent


@pytest.fixture
def pending(make_company, make_staff):
    make_staff()
    return make_company("Dachdeckerei Sturm", status=CompanyStatus.PENDING, contact_email=OWNER)


def approve(app, company_id: int) -> None:
    with app.test_request_context():
        entry = db.session.get(Company, company_id)
        actor = db.session.scalar(select(StaffUser))
        curation.approve(entry, actor, entry.version)


def test_mail_goes_out_after_the_change_is_committed(app, smtp, pending):
    approve(app, pending)
    assert smtp == [(OWNER, "Ihr Eintrag im KMU-Atlas ist freigeschaltet", "published")]
    (message,) = mails(app)
    assert message.transport == "smtp"
    assert message.sent_at is not None
    assert message.error == ""


def test_a_rolled_back_decision_records_and_sends_no_mail(app, smtp, pending, monkeypatch):
    def commit_fails(company):  # a concurrent change caught at the commit
        curation._guarded(company, lambda: (_ for _ in ()).throw(StaleDataError()))

    monkeypatch.setattr(curation, "commit_or_conflict", commit_fails)
    with pytest.raises(curation.EditConflict):
        approve(app, pending)
    assert company(app, pending).status is CompanyStatus.PENDING
    assert audit_actions(app, pending) == []
    assert mails(app) == []
    assert smtp == []


def test_a_reminder_whose_commit_fails_records_and_sends_no_mail(
    app, smtp, make_company, monkeypatch
):
    entry = make_company("Bäckerei Korn", contact_email=OWNER)
    with app.app_context():
        db.session.execute(
            text("UPDATE companies SET confirmed_at = now() - interval '13 months' WHERE id = :i"),
            {"i": entry},
        )
        db.session.commit()

    def commit_fails():  # the database goes away at the commit
        db.session.flush()
        raise OperationalError("COMMIT", {}, Exception("connection lost"))

    with app.test_request_context():
        with monkeypatch.context() as patch:
            patch.setattr(db.session, "commit", commit_fails)
            with pytest.raises(OperationalError):  # the job stops; the entry stays due
                freshness.send_reminders()
        db.session.rollback()
    assert company(app, entry).reminder_sent_at is None
    assert mails(app) == []
    assert smtp == []


def test_a_rolled_back_mail_is_not_sent_by_a_later_commit(app, smtp, pending):
    with app.test_request_context():
        mail.queue(mail.Mail(OWNER, "Betreff", "Text"))
        db.session.get(Company, pending).name = "Nie gespeichert"
        db.session.rollback()
        db.session.get(Company, pending).description = "Gespeichert"
        db.session.commit()
    assert company(app, pending).description == "Gespeichert"
    assert company(app, pending).name == "Dachdeckerei Sturm"
    assert mails(app) == []
    assert smtp == []


def test_a_mail_in_a_savepoint_waits_for_the_outer_commit(app, smtp, pending):
    with app.test_request_context():
        with db.session.begin_nested():
            mail.queue(mail.Mail(OWNER, "Betreff", "Text"))
        assert smtp == []  # the savepoint is released, the transaction is not committed
        db.session.rollback()
    assert mails(app) == []
    assert smtp == []


def test_a_failed_delivery_is_recorded_and_does_not_undo_the_change(
    app, smtp, pending, monkeypatch
):
    def refused(recipient, subject, body, headers=None):
        raise smtplib.SMTPRecipientsRefused({recipient: (550, b"no such user")})

    monkeypatch.setattr(mail, "_smtp_send", refused)
    approve(app, pending)  # no error reaches the caller
    assert company(app, pending).status is CompanyStatus.PUBLISHED
    assert audit_actions(app, pending) == ["approve"]
    (message,) = mails(app)
    assert message.recipient == OWNER
    assert message.sent_at is None
    assert "no such user" in message.error


def test_a_failed_delivery_in_the_workspace_still_shows_the_decision(
    app, client, auth, pending, monkeypatch
):
    app.config["MAIL_SMTP_HOST"] = "smtp.example.test"
    monkeypatch.setattr(
        mail, "_smtp_send", lambda *args: (_ for _ in ()).throw(OSError("connection refused"))
    )
    auth.login()
    version = company(app, pending).version
    response = auth.post(f"/agentur/eintraege/{pending}/freigeben", {"version": str(version)})
    assert response.status_code == 303
    assert company(app, pending).status is CompanyStatus.PUBLISHED
    assert mails(app)[0].error == "connection refused"
