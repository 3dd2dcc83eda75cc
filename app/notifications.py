"""The e-mails the app writes: one function per kind renders its template and builds its
absolute links (from BASE_URL). This is web-layer work; services decide who is told what and
ask for the text through :func:`app.services.mail.compose`, which calls the writers
:func:`init_app` registers here.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from app.features.filters import FilterError
from app.i18n import DEFAULT_LANGUAGE, current_language
from app.models import (
    Company,
    CompanyStatus,
    EventRegistration,
    JobAlert,
    Organisation,
    QuestionnaireDraft,
    StaffUser,
)
from app.services import alerts, apprenticeships, curation, freshness, mail, registrations
from app.services import questionnaire as questionnaire_service
from app.services.mail import Mail

#: Subjects of the mails that tell the owner of a curation decision.
DECISION_SUBJECTS = {
    "approved": lambda: _("Ihr Eintrag im KMU-Atlas ist freigeschaltet"),
    "rejected": lambda: _("Ihr Eintrag im KMU-Atlas wurde nicht freigeschaltet"),
    "archived": lambda: _("Ihr Eintrag im KMU-Atlas wurde archiviert"),
    "change_applied": lambda: _("Ihre Änderung im KMU-Atlas ist übernommen"),
    "change_rejected": lambda: _("Ihre Änderung im KMU-Atlas wurde nicht übernommen"),
}


def init_app(app: Flask) -> None:
    """Register the writers of the mails that services send."""
    from app import staff_notifications  # imports this module's absolute_url

    mail.register_writers(
        app,
        {
            "decision": decision_mail,
            "reminder": reminder_mail,
            "received": received_mail,
            "edit_link": edit_link_mail,
            **{kind: partial(registration_mail, kind) for kind in REGISTRATION_SUBJECTS},
            "feed_broken": feed_broken_mail,
            "entry_erased": staff_notifications.entry_erased_mail,
            "staff_security": staff_notifications.security_mail,
            "alert_confirm": alert_confirm_mail,
            "alert_exists": alert_exists_mail,
            "alert_limit": alert_limit_mail,
            "alert_digest": alert_digest_mail,
        },
    )
    mail.add_delivery_listener(app, alerts.delivery_outcome)


def absolute_url(endpoint: str, **values) -> str:
    """A full link for an e-mail (BASE_URL if set, else the current host)."""
    base = current_app.config["BASE_URL"]
    path = url_for(endpoint, **values)
    return f"{base}{path}" if base else url_for(endpoint, _external=True, **values)


@contextmanager
def mail_context():
    """A request context on BASE_URL's host, so that mails written outside a request (by a
    command or a job) get absolute links."""
    parts = urlsplit(current_app.config.get("BASE_URL") or "http://localhost")
    with current_app.test_request_context(base_url=f"{parts.scheme}://{parts.netloc}"):
        yield


def edit_link(company: Company) -> str:
    """The owner's personal link to change a published entry."""
    return absolute_url("questionnaire.edit", token=questionnaire_service.edit_token(company))


def decision_mail(company: Company, decision: str, reason: str = "") -> Mail:
    """Tell the entry's contact person of a decision, in their language, with the links that
    fit (the public page and the edit link once it is published)."""
    published = company.status is CompanyStatus.PUBLISHED
    with force_locale(curation.owner_language(company)):
        body = render_template(
            "curation/mail_decision.txt",
            decision=decision,
            company=company,
            reason=reason,
            public_link=absolute_url("public.employer", slug=company.slug) if published else None,
            edit_link=edit_link(company) if published else None,
        )
        return Mail(company.contact_email, DECISION_SUBJECTS[decision](), body)


def reminder_mail(company: Company) -> Mail:
    """Ask the owner, in their language, whether the entry is still right: one link to
    confirm it, one to change it."""
    with force_locale(curation.owner_language(company)):
        subject = _("Stimmt Ihr Eintrag im KMU-Atlas noch?")
        body = render_template(
            "curation/mail_reminder.txt",
            company=company,
            confirm_link=absolute_url("confirm.confirm", token=freshness.confirm_token(company)),
            edit_link=edit_link(company),
            public_link=absolute_url("public.employer", slug=company.slug),
        )
    return Mail(company.contact_email, subject, body)


def received_mail(recipient: str, company: Company) -> Mail:
    """Confirm to a new business that its entry arrived and will be reviewed."""
    return Mail(
        recipient,
        _("Ihr Eintrag im KMU-Atlas ist eingegangen"),
        render_template("questionnaire/mail_received.txt", name=company.name),
    )


def edit_link_mail(company: Company) -> Mail:
    """Send the owner of a published entry a new personal edit link."""
    return Mail(
        company.contact_email,
        _("Ihr Link zum Ändern des Eintrags"),
        render_template("questionnaire/mail_edit.txt", name=company.name, link=edit_link(company)),
    )


def resume_link(draft: QuestionnaireDraft) -> str:
    """The personal link that opens the draft again."""
    return absolute_url("questionnaire.resume", token=questionnaire_service.resume_token(draft))


def resume_mail(draft: QuestionnaireDraft, recipient: str) -> Mail:
    """The personal link to go on with the questionnaire later."""
    return Mail(
        recipient,
        _("Ihr Link zum KMU-Atlas-Fragebogen"),
        render_template("questionnaire/mail_resume.txt", link=resume_link(draft)),
    )


#: Subjects of the mails about a registration for an event (kind -> subject with the title).
REGISTRATION_SUBJECTS = {
    "registration_confirmed": lambda title: _("Anmeldung bestätigt: %(title)s", title=title),
    "registration_waiting": lambda title: _("Warteliste: %(title)s", title=title),
    "registration_exists": lambda title: _("Sie sind schon angemeldet: %(title)s", title=title),
    "registration_moved_up": lambda title: _("Ein Platz ist frei: %(title)s", title=title),
    "registration_reminder": lambda title: _("Erinnerung: %(title)s", title=title),
    "registration_cancelled": lambda title: _("Anmeldung storniert: %(title)s", title=title),
    "registration_event_cancelled": lambda title: _(
        "Veranstaltung abgesagt: %(title)s", title=title
    ),
}


def registration_cancel_link(registration: EventRegistration) -> str:
    """The registrant's personal link to cancel the registration."""
    language = {"lang": registration.language} if registration.language != "de" else {}
    token = registrations.cancel_token(registration)
    return absolute_url("registration.cancel", token=token, **language)


def registration_mail(kind: str, registration: EventRegistration) -> Mail:
    """A mail about a registration (``kind``: see :data:`REGISTRATION_SUBJECTS`), in the
    registrant's language: the event's time (Europe/Berlin), place or online link, its page,
    its calendar file and the cancellation link."""
    event = registration.event
    event_link = absolute_url("events.detail", slug=event.slug)
    with force_locale(registration.language):
        body = render_template(
            f"events/mail_{kind}.txt",
            registration=registration,
            event=event,
            when=registrations.when_text(event),
            place=registrations.place_text(event),
            event_link=event_link,
            ics_link=absolute_url("events.event_file", slug=event.slug),
            cancel_link=registration_cancel_link(registration),
            position=registrations.waiting_position(registration),
        )
        subject = REGISTRATION_SUBJECTS[kind](" ".join(event.title.split()))
    return Mail(registration.email, subject, body)


def feed_broken_mail(organisation: Organisation, recipient: StaffUser, error: str) -> Mail:
    """Tell a partner account (in German, the partners' language) that its organisation's
    calendar feed can no longer be imported, why, and where to check the address."""
    endpoint = "events_admin.index"
    link = absolute_url(endpoint) if endpoint in current_app.view_functions else None
    with force_locale(DEFAULT_LANGUAGE):
        subject = _("Ihr Kalender kann nicht mehr eingelesen werden")
        body = render_template(
            "events/mail_feed_broken.txt",
            organisation=organisation,
            recipient=recipient,
            error=error,
            link=link,
        )
    return Mail(recipient.email, subject, body)


# --- job alerts -------------------------------------------------------------------------------


def _in_language(language: str) -> dict:
    """The ``lang`` argument of a link for a reader of ``language`` (none for German)."""
    return {"lang": language} if language != DEFAULT_LANGUAGE else {}


def alert_links(alert: JobAlert) -> dict[str, str]:
    """The alert's personal links (unsubscribe, change the search) and the map with its
    search, in the subscriber's language."""
    language = _in_language(alert.language)
    token = alerts.link_token(alert)
    search = dict(alerts.search_args(alert).items())
    return {
        "unsubscribe_link": absolute_url("alerts.unsubscribe", token=token, **language),
        "change_link": absolute_url("alerts.change", token=token, **language),
        "map_link": absolute_url("public.index", **search, **language),
    }


def alert_search_lines(alert: JobAlert) -> list[str]:
    """The alert's search in words ("Branche: Baugewerbe"), in the interface language."""
    try:
        rows = alerts.describe(alerts.search_of(alert))
    except FilterError:  # a code withdrawn since: show the search as it was stored
        return [alert.filter_query]
    return [f"{label}: {value}" for label, value in rows] or [
        _("Alle Arbeitgeber der Region (kein Filter)")
    ]


def alert_confirm_mail(alert: JobAlert) -> Mail:
    """The double opt-in: the link that confirms the alert, in the subscriber's language."""
    with force_locale(alert.language):
        token = alerts.confirm_token(alert)
        body = render_template(
            "alerts/mail_confirm.txt",
            search=alert_search_lines(alert),
            confirm_link=absolute_url(
                "alerts.confirm", token=token, **_in_language(alert.language)
            ),
            days=alerts.UNCONFIRMED_DAYS,
        )
        return Mail(alert.email, _("Bitte bestätigen Sie Ihren Suchauftrag"), body)


def alert_exists_mail(alert: JobAlert) -> Mail:
    """Tell an address that asked again for a search it has that the alert exists, with its
    links (the page said only "check your e-mail")."""
    with force_locale(alert.language):
        body = render_template(
            "alerts/mail_exists.txt", search=alert_search_lines(alert), **alert_links(alert)
        )
        return Mail(alert.email, _("Diesen Suchauftrag haben Sie schon"), body)


def alert_limit_mail(address: str, language: str, owned: list[JobAlert]) -> Mail:
    """Tell an address that has the most alerts one may keep that no new one was stored, with
    each alert's search and unsubscribe link."""
    with force_locale(language):
        body = render_template(
            "alerts/mail_limit.txt",
            limit=len(owned),
            alerts=[(alert_search_lines(alert), alert_links(alert)) for alert in owned],
        )
        return Mail(address, _("Kein weiterer Suchauftrag möglich"), body)


def _offers_text(company: Company) -> str:
    """What an employer offers, in one line (as the list on the start page says it)."""
    parts = []
    trained = apprenticeships.for_company(company)
    if trained:
        parts.append(_("Ausbildung") + ": " + ", ".join(row["label"] for row in trained))
    elif company.offers_apprenticeships:
        parts.append(_("Ausbildung"))
    if company.offers_internships:
        parts.append(_("Praktikum"))
    if company.open_positions:
        parts.append(
            ngettext("%(num)d offene Stelle", "%(num)d offene Stellen", company.open_positions)
        )
    return " · ".join(parts)


def _change_texts(change: alerts.OfferChange) -> list[str]:
    """How an employer's offers grew, one line each."""
    lines = []
    if change.apprenticeships:
        rows = apprenticeships.shown(change.apprenticeships, current_language())
        occupations = ", ".join(row["label"] for row in rows)
        lines.append(_("Neue Ausbildungsplätze: %(occupations)s", occupations=occupations))
    if change.apprenticeship:
        lines.append(_("Bildet jetzt aus"))
    if change.internships:
        lines.append(_("Bietet jetzt Praktika an"))
    if change.jobs:
        lines.append(
            ngettext("Jetzt %(num)d offene Stelle", "Jetzt %(num)d offene Stellen", change.jobs)
        )
    return lines


def _digest_item(company: Company, language: str, lines: list[str]) -> dict:
    place = " ".join(part for part in (company.postal_code, company.town) if part)
    return {
        "name": " ".join(company.name.split()),
        "place": place,
        "lines": [line for line in lines if line],
        "link": absolute_url("public.employer", slug=company.slug, **_in_language(language)),
    }


def alert_digest_mail(digest: alerts.Digest) -> Mail:
    """The weekly mail of an alert: the employers that newly match and those whose offers
    grew, with links to their pages, the map with the search, the link to change the search
    and the unsubscribe link (also as RFC 8058 List-Unsubscribe headers)."""
    alert = digest.alert
    with force_locale(alert.language):
        new = [_digest_item(c, alert.language, [_offers_text(c)]) for c in digest.new]
        changed = [
            _digest_item(c, alert.language, _change_texts(change)) for c, change in digest.changed
        ]
        links = alert_links(alert)
        total = len(new) + len(changed) + digest.more
        body = render_template(
            "alerts/mail_digest.txt",
            search=alert_search_lines(alert),
            new=new,
            changed=changed,
            more=digest.more,
            **links,
        )
        subject = ngettext(
            "%(num)d Neuigkeit zu Ihrem Suchauftrag",
            "%(num)d Neuigkeiten zu Ihrem Suchauftrag",
            total,
        )
    headers = {
        "List-Unsubscribe": f"<{links['unsubscribe_link']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return Mail(alert.email, subject, body, headers)
