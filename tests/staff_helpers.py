"""Helpers for the workspace tests: form data of an entry, reading pages, mails and audit."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Company, OutboxMessage
from app.services import questionnaire as questionnaire_service
from questionnaire.engine import form_data


def entry_form(app, company_id: int, **changes) -> dict:
    """The staff edit form of an entry as it would be posted, with ``changes`` applied."""
    with app.test_request_context():
        company = db.session.get(Company, company_id)
        data = form_data(
            questionnaire_service.entry_step(), questionnaire_service.company_answers(company)
        )
        data["version"] = str(company.version)
    data.update(changes)
    posted = {}
    for key, value in data.items():
        if value is True:
            posted[key] = "y"
        elif value is False or value is None:
            continue
        else:
            posted[key] = value
    return posted


def version_in(html: str) -> str:
    """The hidden entry version of a workspace page."""
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def audit_actions(app, company_id: int) -> list[str]:
    """The audit actions recorded for an entry, oldest first."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.company_id == company_id)
                .order_by(AuditEntry.id)
            )
        )


def mails(app) -> list[OutboxMessage]:
    """Every e-mail sent so far, oldest first."""
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def company(app, company_id: int) -> Company:
    """A detached copy of an entry, relations loaded."""
    with app.app_context():
        found = db.session.get(Company, company_id)
        _ = (found.sectors, found.occupations, found.family_criteria, found.certificates)
        db.session.expunge_all()
        return found
