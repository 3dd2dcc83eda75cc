"""Keeping entries fresh: due / waiting / flagged around the 12- and 3-month boundaries,
reminder e-mails with their two links, the one-click confirmation and the workspace page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import AuditEntry, Company, CompanyStatus, OutboxMessage
from app.services import freshness, tokens
from tests.staff_helpers import version_in

CONFIRM_PATH = re.compile(r"https?://[^/\s]+(/mitmachen/bestaetigen/[^\s]+)")
EDIT_PATH = re.compile(r"https?://[^/\s]+(/mitmachen/aendern/[^\s]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def set_times(app, company_id: int, **columns: str) -> None:
    """Set timestamp columns to SQL expressions, e.g. confirmed_at="now() - interval '1 day'"."""
    assignments = ", ".join(f"{column} = {expression}" for column, expression in columns.items())
    with app.app_context():
        db.session.execute(
            text(f"UPDATE companies SET {assignments} WHERE id = :id"),
            {"id": company_id},
        )
        db.session.commit()


def ago(months: int, days: int = 0) -> str:
    """An SQL expression: ``months`` months and ``days`` days before now."""
    return f"now() - interval '{months} months' - interval '{days} days'"


def states(app) -> dict[str, set[str]]:
    with app.app_context():
        return {
            "due": {item.company.name for item in freshness.due()},
            "waiting": {item.company.name for item in freshness.waiting()},
            "flagged": {item.company.name for item in freshness.flagged()},
        }


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def company(app, company_id: int) -> Company:
    with app.app_context():
        return db.session.get(Company, company_id)


def audit_actions(app, company_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        return list(
            db.session.execute(
                select(AuditEntry.action, AuditEntry.actor_label)
                .where(AuditEntry.company_id == company_id)
                .order_by(AuditEntry.id)
            ).tuples()
        )


def test_due_waiting_and_flagged_around_the_boundaries(app, make_company):
    fresh = make_company("Fast ein Jahr")
    set_times(app, fresh, confirmed_at=ago(12, -1))
    stale = make_company("Gut ein Jahr")
    set_times(app, stale, confirmed_at=ago(12, 1))
    by_publication = make_company("Nur veröffentlicht")
    set_times(app, by_publication, published_at=ago(13))
    by_creation = make_company("Nur angelegt")
    set_times(app, by_creation, created_at=ago(13))
    recent_publication = make_company("Alt angelegt, neu veröffentlicht")
    set_times(app, recent_publication, created_at=ago(20), published_at=ago(1))
    for status in (CompanyStatus.PENDING, CompanyStatus.ARCHIVED, CompanyStatus.REJECTED):
        hidden = make_company(f"Nicht öffentlich {status}", status=status)
        set_times(app, hidden, confirmed_at=ago(24))
    waiting = make_company("Erinnert, Frist läuft")
    set_times(app, waiting, confirmed_at=ago(15), reminder_sent_at=ago(3, -1))
    flagged = make_company("Erinnert, Frist vorbei")
    set_times(app, flagged, confirmed_at=ago(16), reminder_sent_at=ago(3, 1))
    last_period = make_company("Erinnerung aus der letzten Runde")
    set_times(app, last_period, confirmed_at=ago(13), reminder_sent_at=ago(24))
    answered = make_company("Nach der Erinnerung bestätigt")
    set_times(app, answered, confirmed_at=ago(0, 1), reminder_sent_at=ago(2))

    assert states(app) == {
        "due": {
            "Gut ein Jahr",
            "Nur veröffentlicht",
            "Nur angelegt",
            "Erinnerung aus der letzten Runde",
        },
        "waiting": {"Erinnert, Frist läuft"},
        "flagged": {"Erinnert, Frist vorbei"},
    }
    with app.app_context():
        assert freshness.counts() == freshness.FreshnessCounts(due=4, waiting=1, flagged=1)
        assert freshness.counts().overdue == 6


def test_now_can_be_given(app, make_company):
    entry = make_company("Zeitreise")
    set_times(app, entry, confirmed_at="timestamptz '2024-01-15 12:00+00'")
    with app.app_context():
        assert freshness.due(datetime(2025, 1, 14, tzinfo=UTC)) == []
        assert [i.company.id for i in freshness.due(datetime(2025, 1, 16, tzinfo=UTC))] == [entry]


def test_reminder_mail_has_both_links_and_is_sent_once(app, make_company):
    entry = make_company("Bäckerei Korn", contact_email="inhaber@korn.test")
    set_times(app, entry, confirmed_at=ago(13))
    silent = make_company("Ohne Adresse", contact_email="")
    set_times(app, silent, confirmed_at=ago(13))

    with app.test_request_context():
        report = freshness.send_reminders()
        assert [c.id for c in report.sent] == [entry]
        assert [c.id for c in report.no_address] == [silent]

    (message,) = outbox(app)
    assert message.recipient == "inhaber@korn.test"
    assert "Bäckerei Korn" in message.body
    confirm_path = CONFIRM_PATH.search(message.body).group(1)
    edit_path = EDIT_PATH.search(message.body).group(1)
    with app.app_context():
        token = confirm_path.rsplit("/", 1)[1]
        assert freshness.company_from_confirm_token(token).id == entry
        assert tokens.read_token("edit", edit_path.rsplit("/", 1)[1]) == (entry, 1)
    assert company(app, entry).reminder_sent_at is not None
    assert audit_actions(app, entry) == [("remind", "system")]
    assert states(app)["waiting"] == {"Bäckerei Korn"}
    assert states(app)["due"] == {"Ohne Adresse"}

    with app.test_request_context():
        again = freshness.send_reminders()
    assert again.sent == []
    assert len(outbox(app)) == 1


def reminded_entry(app, make_company, **columns) -> tuple[int, str]:
    """A due entry, reminded: its id and the path of the confirm link in the mail."""
    entry = make_company("Malerbetrieb Pinsel", contact_email="post@pinsel.test", **columns)
    set_times(app, entry, confirmed_at=ago(14))
    with app.test_request_context():
        freshness.send_reminders()
    return entry, CONFIRM_PATH.search(outbox(app)[-1].body).group(1)


def test_confirm_link_shows_a_button_and_only_the_post_confirms(app, client, make_company):
    entry, path = reminded_entry(app, make_company)
    before = company(app, entry).confirmed_at

    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Malerbetrieb Pinsel" in html
    assert "Ja, die Angaben stimmen noch" in html
    assert 'method="post"' in html
    assert "/mitmachen/aendern/" in html
    assert company(app, entry).confirmed_at == before  # a GET (a mail scanner) changes nothing

    assert client.post(path).status_code == 400  # no CSRF token
    assert company(app, entry).confirmed_at == before

    done = client.post(path, data={"csrf_token": CSRF.search(html).group(1)})
    assert done.status_code == 200
    assert "Vielen Dank" in done.get_data(as_text=True)
    with app.app_context():
        confirmed = db.session.get(Company, entry).confirmed_at
        assert db.session.scalar(select(func.now())) - confirmed < timedelta(minutes=5)
    assert audit_actions(app, entry) == [("remind", "system"), ("confirm", "owner")]
    assert states(app) == {"due": set(), "waiting": set(), "flagged": set()}
    with app.app_context():
        (record,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "confirm"))
        assert record.actor_id is None
        assert record.before["confirmed_at"] != record.after["confirmed_at"]


def test_a_tampered_confirm_link_is_refused(app, client, make_company):
    entry, path = reminded_entry(app, make_company)
    tampered = path[:-3] + ("xyz" if not path.endswith("xyz") else "abc")
    page = client.get(tampered)
    assert page.status_code == 404
    assert "nicht (mehr) gültig" in page.get_data(as_text=True)
    with app.app_context():
        edit = tokens.make_token("edit", entry, 1)  # a token for another purpose
    assert client.get(f"/mitmachen/bestaetigen/{edit}").status_code == 404


def test_an_expired_confirm_link_says_so(app, client, make_company, monkeypatch):
    _entry, path = reminded_entry(app, make_company)
    monkeypatch.setitem(tokens.PURPOSES, "confirm", -1)
    page = client.get(path)
    assert page.status_code == 410
    assert "abgelaufen" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "change",
    ["status = 'archived'", "status = 'pending'", "link_generation = link_generation + 1"],
)
def test_confirm_link_of_an_entry_no_longer_published_or_revoked_is_refused(
    app, client, make_company, change
):
    entry, path = reminded_entry(app, make_company)
    page = client.get(path)
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    with app.app_context():
        db.session.execute(text(f"UPDATE companies SET {change} WHERE id = :id"), {"id": entry})
        db.session.commit()
    assert client.get(path).status_code == 404
    assert client.post(path, data={"csrf_token": token}).status_code == 404
    assert audit_actions(app, entry) == [("remind", "system")]


def test_send_reminders_command(app, runner, make_company):
    entry = make_company("Dachdecker Ziegel", contact_email="chef@ziegel.test")
    set_times(app, entry, confirmed_at=ago(13))
    silent = make_company("Schreinerei Stumm", contact_email="")
    set_times(app, silent, confirmed_at=ago(13))

    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Sent 1 reminder(s)." in result.output
    assert "Schreinerei Stumm" in result.output
    (message,) = outbox(app)
    assert "http://localhost/mitmachen/bestaetigen/" in message.body
    assert "http://localhost/mitmachen/aendern/" in message.body

    again = runner.invoke(args=["send-reminders"])
    assert "Sent 0 reminder(s)." in again.output
    assert len(outbox(app)) == 1


def test_send_reminders_command_uses_base_url(app, runner, make_company):
    app.config["BASE_URL"] = "https://atlas.example.org/karte"
    entry = make_company("Dachdecker Ziegel", contact_email="chef@ziegel.test")
    set_times(app, entry, confirmed_at=ago(13))
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert "https://atlas.example.org/karte/mitmachen/bestaetigen/" in outbox(app)[0].body


def test_freshness_page_is_for_staff_only(client, auth):
    assert client.get("/agentur/aktualitaet/").status_code == 403
    assert auth.post("/agentur/aktualitaet/erinnern").status_code == 403


def test_freshness_page_lists_the_three_groups_and_sends_reminders(app, client, auth, make_company):
    due = make_company("Fällig GmbH", contact_email="a@faellig.test")
    set_times(app, due, confirmed_at=ago(13))
    silent = make_company("Ohne Mail KG", contact_email="")
    set_times(app, silent, confirmed_at=ago(13))
    waiting = make_company("Wartet AG")
    set_times(app, waiting, confirmed_at=ago(14), reminder_sent_at=ago(1))
    flagged = make_company("Vorgemerkt OHG")
    set_times(app, flagged, confirmed_at=ago(17), reminder_sent_at=ago(4))
    make_company("Frisch eG")
    auth.login("curator")

    page = client.get("/agentur/aktualitaet/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for name in ("Fällig GmbH", "Ohne Mail KG", "Wartet AG", "Vorgemerkt OHG"):
        assert name in html
    assert "Frisch eG" not in html
    assert "keine Adresse" in html
    assert f'href="/agentur/eintraege/{flagged}"' in html
    archive = f'action="/agentur/eintraege/{flagged}/archivieren"'
    assert archive in html
    assert html.count("/archivieren") == 1
    assert html.count("<caption>") == 3

    sent = auth.post("/agentur/aktualitaet/erinnern", follow_redirects=True)
    assert sent.status_code == 200
    text_after = sent.get_data(as_text=True)
    assert "1 Erinnerung verschickt." in text_after
    assert "1 fälliger Eintrag hat keine Kontakt-E-Mail." in text_after
    assert [m.recipient for m in outbox(app)] == ["a@faellig.test"]
    with app.app_context():
        (record,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "remind"))
        assert record.actor_label == "curator@agentur.test"

    version = company(app, flagged).version
    archived = auth.post(f"/agentur/eintraege/{flagged}/archivieren", {"version": str(version)})
    assert archived.status_code == 303
    assert company(app, flagged).status is CompanyStatus.ARCHIVED


def test_a_reminder_leaves_a_curators_open_edit_without_a_conflict(app, client, auth, make_company):
    """A reminder sets its time without raising the entry's version: a curator who opened
    the entry before it was sent saves without a false conflict, and the time stays."""
    entry = make_company("Bäckerei Frisch", contact_email="inhaber@frisch.test")
    set_times(app, entry, confirmed_at=ago(13))
    auth.login()
    page = client.get(f"/agentur/eintraege/{entry}").get_data(as_text=True)
    version = version_in(page)
    with app.test_request_context():
        assert [c.id for c in freshness.send_reminders().sent] == [entry]
    assert company(app, entry).version == int(version)
    response = auth.post(
        f"/agentur/eintraege/{entry}/archivieren", {"version": version, "reason": "Zu."}
    )
    assert response.status_code == 303
    archived = company(app, entry)
    assert archived.status is CompanyStatus.ARCHIVED
    assert archived.reminder_sent_at is not None
    assert [action for action, _ in audit_actions(app, entry)] == ["remind", "archive"]


def test_an_entry_changed_after_it_was_listed_is_skipped(app, make_company, monkeypatch):
    """Changed by someone else between the list of due entries and its reminder: no mail,
    no reminder time, reported as skipped (it stays due)."""
    entry = make_company("Tischlerei Span", contact_email="post@span.test")
    set_times(app, entry, confirmed_at=ago(13))
    listed = freshness.due

    def then_changed(now):
        found = listed(now)
        with app.app_context():  # another session: a curator's save
            other = db.session.get(Company, entry)
            other.description = "Neu beschrieben."
            db.session.commit()
        return found

    monkeypatch.setattr(freshness, "due", then_changed)
    with app.test_request_context():
        report = freshness.send_reminders()
        assert report.sent == [] and [c.id for c in report.skipped] == [entry]
    monkeypatch.undo()
    assert outbox(app) == []
    assert company(app, entry).reminder_sent_at is None
    assert states(app)["due"] == {"Tischlerei Span"}
