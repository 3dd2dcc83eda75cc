"""The e-mails to staff about their own accounts and about erased entries (German, the
workspace's language; kept apart from :mod:`app.notifications`, whose texts are the
jobseekers' and translated into every language). Registered as mail writers by
:func:`app.notifications.init_app`."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.i18n import DEFAULT_LANGUAGE
from app.models import StaffUser
from app.notifications import absolute_url
from app.services.mail import Mail

#: Where a curator checks an event's text (the events workspace's edit page).
EVENT_EDIT_ENDPOINT = "events_admin.edit"
#: What a staff member is told changed on their account (audit actions of the change).
SECURITY_CHANGES = {
    "password_changed": lambda: _("Das Passwort Ihres Kontos wurde geändert."),
    "totp_enabled": lambda: _(
        "Für Ihr Konto ist jetzt ein zweiter Faktor (Authenticator-App) eingerichtet."
    ),
    "totp_disabled": lambda: _(
        "Der zweite Faktor (Authenticator-App) Ihres Kontos wurde abgeschaltet."
    ),
    "totp_reset": lambda: _(
        "Ein Admin hat den zweiten Faktor Ihres Kontos zurückgesetzt. Bei der nächsten "
        "Anmeldung richten Sie ihn neu ein."
    ),
    "recovery_code_used": lambda: _(
        "Bei einer Anmeldung mit Ihrem Konto wurde ein Wiederherstellungscode verwendet."
    ),
}


def security_mail(user: StaffUser, change: str) -> Mail:
    """Tell a staff member (in German, the workspace's language) that their password or
    second factor changed, and what to do if it was not them (ASVS 2.2.3)."""
    endpoint = "security.index"
    link = absolute_url(endpoint) if endpoint in current_app.view_functions else None
    with force_locale(DEFAULT_LANGUAGE):
        subject = _("Sicherheit Ihres Kontos im KMU-Atlas geändert")
        body = render_template(
            "curation/mail_security.txt", user=user, change=SECURITY_CHANGES[change](), link=link
        )
    return Mail(user.email, subject, body)


def entry_erased_mail(
    recipient: StaffUser, entry_id: int, events_naming: tuple[int, ...] = ()
) -> Mail:
    """Tell a curator (in German, the agency's language) that a business had its entry erased:
    the entry's number only, no personal data, and links to the agency's events whose text
    still names the business (to be checked by hand)."""
    with force_locale(DEFAULT_LANGUAGE):
        subject = _("Ein Eintrag wurde auf Wunsch des Betriebs gelöscht")
        body = render_template(
            "curation/mail_entry_erased.txt",
            recipient=recipient,
            entry_id=entry_id,
            link=absolute_url("curation.audit_log"),
            events=[
                absolute_url(EVENT_EDIT_ENDPOINT, event_id=event_id) for event_id in events_naming
            ],
        )
    return Mail(recipient.email, subject, body)
