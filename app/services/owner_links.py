"""The owner's links to an entry (edit and confirm) and how to revoke them.

Every edit and confirm link names the entry's ``link_generation``; raising it makes every link
sent so far invalid (the owner then sees the "link invalid" page). It is raised when the owner
asks for a new link, when the entry leaves the map (archived, rejected, merged away) and when
staff revoke the links by hand.
"""

from __future__ import annotations

from sqlalchemy import delete, update

from app.extensions import db
from app.models import Company, QuestionnaireDraft, StaffUser
from app.services import audit, mail
from app.services import questionnaire as questionnaire_service


def renew(company: Company) -> None:
    """Raise the entry's link generation, in the current transaction (the caller commits).

    Done as one UPDATE that leaves the entry's version alone: a new link is no change of the
    entry, and must not make a curator's open edit conflict.
    """
    db.session.execute(
        update(Company)
        .where(Company.id == company.id)
        .values(link_generation=Company.link_generation + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(company, ["link_generation"])


def send_new_links(address: str) -> None:
    """Send a new edit link to the contact e-mail of each published entry whose contact is
    ``address`` (the "edit_link" mail); the links sent before stop working. One transaction:
    the mails go out after it has committed. An unknown address sends nothing (and says so to
    no one)."""
    for company in questionnaire_service.published_by_contact(address):
        renew(company)
        mail.queue(mail.compose("edit_link", company=company))
    db.session.commit()


def close_open_edits(company: Company) -> None:
    """Delete the owner's unsubmitted edit drafts of the entry (opened through a link that is
    now revoked), so that a session holding one cannot go on with it."""
    db.session.execute(
        delete(QuestionnaireDraft)
        .where(
            QuestionnaireDraft.kind == "edit",
            QuestionnaireDraft.company_id == company.id,
            QuestionnaireDraft.submitted_at.is_(None),
        )
        .execution_options(synchronize_session=False)
    )


def revoke(company: Company, actor: StaffUser) -> None:
    """Staff revoke every edit and confirm link sent for the entry, and end the edits opened
    through them; recorded in the audit log."""
    renew(company)
    close_open_edits(company)
    audit.record("revoke_links", company, actor=actor)
    db.session.commit()
