"""flask retention run (issue 17): import uploads after 30 days, questionnaire drafts once no
link can open them, sent or failed outbox mails after 90 days; unsent mail is kept; a second
run and a dry run delete nothing; the privacy page states the same periods."""

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from app.config import ConfigError, load_settings
from app.extensions import db
from app.models import ImportUpload, OutboxMessage, QuestionnaireDraft
from app.services import accounts, questionnaire, tokens
from tests.conftest import temporary_app, test_config


def aged(model, row_id: int, column: str, days: float) -> None:
    """Set a row's time ``column`` to ``days`` days ago."""
    db.session.execute(
        update(model).where(model.id == row_id).values({column: func.now() - timedelta(days=days)})
    )
    db.session.commit()


def ids(model) -> set[int]:
    return set(db.session.scalars(select(model.id)))


@pytest.fixture
def stored(app, make_staff, make_company):
    """Old and young uploads, drafts and mails, by name -> id; the drafts are removed after
    the test (the app's clean-up empties the other tables)."""
    email = make_staff("curator")
    company_id = make_company()
    made = {}
    with app.app_context():
        staff_id = accounts.by_email(email).id
        for name, days in (("upload_old", 31), ("upload_young", 29)):
            upload = ImportUpload(staff_id=staff_id, filename=f"{name}.csv", kind="csv")
            upload.content = b"name\nTest\n"
            db.session.add(upload)
            db.session.commit()
            made[name] = upload.id
            aged(ImportUpload, upload.id, "created_at", days)
        for name, kind, days, submitted in (
            ("draft_old", "new", 32, False),  # resume link (30 days) expired
            ("draft_young", "new", 30.5, False),  # a link made a day later may still live
            ("draft_submitted", "new", 400, True),  # the record behind an entry: kept
            ("edit_old", "edit", 92, False),  # edit links (90 days) expired
            ("edit_young", "edit", 60, False),  # an edit link may still reopen it
        ):
            draft = QuestionnaireDraft(
                kind=kind,
                company_id=company_id if kind == "edit" else None,
                answers={"name": name},
                raw_input={},
                submitted_at=func.now() if submitted else None,
            )
            db.session.add(draft)
            db.session.commit()
            made[name] = draft.id
            aged(QuestionnaireDraft, draft.id, "updated_at", days)
        for name, days, sent, error in (
            ("mail_sent_old", 91, True, ""),
            ("mail_failed_old", 91, False, "550 no such user"),
            ("mail_unsent_old", 91, False, ""),
            ("mail_sent_young", 89, True, ""),
        ):
            message = OutboxMessage(
                recipient="someone@example.org",
                subject=name,
                body="…",
                transport="smtp",
                error=error,
                sent_at=func.now() if sent else None,
                draft_id=made["draft_old"],
            )
            db.session.add(message)
            db.session.commit()
            made[name] = message.id
            aged(OutboxMessage, message.id, "created_at", days)
    yield made
    with app.app_context():
        db.session.execute(
            delete(QuestionnaireDraft).where(
                QuestionnaireDraft.id.in_(
                    [v for k, v in made.items() if "draft" in k or "edit" in k]
                )
            )
        )
        db.session.commit()


def test_retention_deletes_the_old_and_keeps_the_young(app, runner, stored):
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Import uploads older than 30 days: 1 deleted.",
        "Abandoned questionnaire drafts (links expired): 2 deleted.",
        "Sent or failed outbox mails older than 90 days: 2 deleted.",
        "Kept 1 outbox mail(s) older than 90 days that were never sent and have no error: "
        "check the mail delivery (MAIL_SMTP_HOST) and the log.",
    ]
    with app.app_context():
        assert stored["upload_young"] in ids(ImportUpload)
        assert stored["upload_old"] not in ids(ImportUpload)
        drafts = ids(QuestionnaireDraft)
        assert {stored[k] for k in ("draft_young", "draft_submitted", "edit_young")} <= drafts
        assert not {stored["draft_old"], stored["edit_old"]} & drafts
        assert ids(OutboxMessage) == {stored["mail_unsent_old"], stored["mail_sent_young"]}
        # the kept mail lost its link to the deleted draft, nothing else
        kept = db.session.get(OutboxMessage, stored["mail_unsent_old"])
        assert kept.draft_id is None and kept.subject == "mail_unsent_old"

    again = runner.invoke(args=["retention", "run"])
    assert again.exit_code == 0, again.output
    assert "Import uploads older than 30 days: 0 deleted." in again.output
    assert "Abandoned questionnaire drafts (links expired): 0 deleted." in again.output
    assert "Sent or failed outbox mails older than 90 days: 0 deleted." in again.output
    assert "Kept 1 outbox mail(s)" in again.output  # still said, still kept


def test_a_dry_run_counts_and_deletes_nothing(app, runner, stored):
    with app.app_context():
        before = (ids(ImportUpload), ids(QuestionnaireDraft), ids(OutboxMessage))
    result = runner.invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Import uploads older than 30 days: 1 would be deleted." in result.output
    assert "Abandoned questionnaire drafts (links expired): 2 would be deleted." in result.output
    assert "Sent or failed outbox mails older than 90 days: 2 would be deleted." in result.output
    with app.app_context():
        assert (ids(ImportUpload), ids(QuestionnaireDraft), ids(OutboxMessage)) == before


def test_the_periods_come_from_the_settings(database_url, stored):
    with temporary_app(
        database_url, RETENTION_UPLOAD_DAYS="20", RETENTION_OUTBOX_DAYS="100"
    ) as app:
        result = app.test_cli_runner().invoke(args=["retention", "run", "--dry-run"])
        privacy = app.test_client().get("/datenschutz").get_data(as_text=True)
    assert "Import uploads older than 20 days: 2 would be deleted." in result.output
    assert "Sent or failed outbox mails older than 100 days: 0 would be deleted." in result.output
    assert "löschen wir 20 Tage nach dem Hochladen" in privacy
    assert "Wir löschen sie 100 Tage nach dem Versand" in privacy


def test_the_privacy_page_states_the_default_periods(client):
    html = client.get("/datenschutz").get_data(as_text=True)
    assert "löschen wir 30 Tage nach dem Hochladen" in html
    assert "Wir löschen sie 90 Tage nach dem Versand" in html
    assert "abgelaufen ist: 30 Tage nach der letzten Bearbeitung" in html
    assert "veröffentlichten Eintrag löschen wir 90 Tage nach der letzten Bearbeitung" in html


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("RETENTION_UPLOAD_DAYS", "0"),
        ("RETENTION_OUTBOX_DAYS", "1"),
        ("RETENTION_UPLOAD_DAYS", "x"),
    ],
)
def test_bad_retention_settings_are_refused(database_url, setting, value):
    with pytest.raises(ConfigError, match=setting):
        load_settings(test_config(database_url, **{setting: value}))


def test_opening_a_draft_s_link_keeps_it_from_deletion(app, client, runner, stored):
    """A draft untouched for 32 days whose owner opens it with a link made 10 days ago (say,
    from the "saved" page, which changes nothing): opening it notes a new link, so the
    retention run keeps it."""
    with app.app_context():
        draft = db.session.get(QuestionnaireDraft, stored["draft_old"])
        token = tokens.make_token("resume", draft.id, draft.token_generation)
    page = client.get(f"/mitmachen/weiter/{token}", follow_redirects=True)
    assert page.status_code == 200
    with app.app_context():
        age = db.session.scalar(
            select(func.now() - QuestionnaireDraft.updated_at).where(
                QuestionnaireDraft.id == stored["draft_old"]
            )
        )
        assert age < timedelta(minutes=1)
        # at most one write a day: a second link leaves the time alone
        aged(QuestionnaireDraft, stored["draft_old"], "updated_at", 0.5)
        draft = db.session.get(QuestionnaireDraft, stored["draft_old"])
        questionnaire.resume_token(draft)
        age = db.session.scalar(
            select(func.now() - QuestionnaireDraft.updated_at).where(
                QuestionnaireDraft.id == stored["draft_old"]
            )
        )
        assert age > timedelta(hours=11)
    result = runner.invoke(args=["retention", "run"])
    assert "Abandoned questionnaire drafts (links expired): 1 deleted." in result.output
    with app.app_context():
        assert stored["draft_old"] in ids(QuestionnaireDraft)
