"""The events workspace: partners manage their organisation's events, agency staff all.

A partner only ever reaches its own organisation's events: any other event id answers 404
(as an id that does not exist), so ids of other organisations' events do not leak. The
organisation of a partner's event is always the partner's own, whatever the form says.
Times are typed in the app's time zone (Europe/Berlin).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField

from app.models import Event, EventStatus, Permission
from app.services import event_feeds, event_vocabulary, event_workspace, events, ical
from app.services import registrations as registration_service

from .staff import protect, requires

bp = Blueprint("events_admin", __name__)
protect(bp, Permission.MANAGE_EVENTS)

#: The repetitions the form offers: key -> RRULE without UNTIL.
REPEATS = {
    "none": "",
    "weekly": "FREQ=WEEKLY",
    "biweekly": "FREQ=WEEKLY;INTERVAL=2",
    "monthly": "FREQ=MONTHLY",
}
#: The form's key for a repetition rule it cannot show (from a feed): kept as it is.
KEEP_REPEAT = "keep"
#: Where the write model's errors are shown in the form.
ERROR_FIELDS = {
    "starts_at": "start_date",
    "ends_at": "end_date",
    "rrule": "repeat",
    "location": "postal_code",
    "municipality_ags": "postal_code",
}


def repeat_choices(keep: bool = False) -> list[tuple[str, str]]:
    """The repetition select's options (with "keep as it is" for a rule from a feed)."""
    choices = [
        ("none", _("Keine Wiederholung")),
        ("weekly", _("Jede Woche")),
        ("biweekly", _("Alle zwei Wochen")),
        ("monthly", _("Jeden Monat")),
    ]
    if keep:
        choices.append((KEEP_REPEAT, _("Wie im eigenen Kalender festgelegt (unverändert)")))
    return choices


class EventForm(FlaskForm):
    """Every field of an event as text typed into the form (checked when building the values:
    dates and times here, everything else by the write model)."""

    organisation_id = SelectField(_l("Organisation"), choices=[], validate_choice=False)
    title = StringField(_l("Titel"))
    kind = SelectField(_l("Art der Veranstaltung"), choices=[], validate_choice=False)
    description = TextAreaField(_l("Beschreibung"))
    start_date = StringField(_l("Datum des Beginns"))
    start_time = StringField(_l("Uhrzeit des Beginns"))
    end_date = StringField(_l("Datum des Endes"))
    end_time = StringField(_l("Uhrzeit des Endes"))
    all_day = BooleanField(_l("Ganztägig"))
    repeat = SelectField(_l("Wiederholung"), choices=[], validate_choice=False)
    repeat_until = StringField(_l("Wiederholen bis einschließlich"))
    attendance = SelectField(_l("Teilnahme"), choices=[], validate_choice=False)
    venue = StringField(_l("Veranstaltungsort (Name)"))
    street = StringField(_l("Straße und Hausnummer"))
    postal_code = StringField(_l("Postleitzahl"))
    town = StringField(_l("Ort"))
    online_url = StringField(_l("Adresse der Online-Veranstaltung"))
    free_of_charge = BooleanField(_l("Kostenlos"))
    price_note = StringField(_l("Hinweis zu den Kosten"))
    target_groups = SelectMultipleField(_l("Zielgruppen"), choices=[], validate_choice=False)
    accessibility = TextAreaField(_l("Barrierefreiheit"))
    registration_open = BooleanField(_l("Anmeldung über den KMU-Atlas"))
    capacity = StringField(_l("Plätze (leer: unbegrenzt)"))
    contact_email = StringField(_l("E-Mail-Adresse für Rückfragen"))
    company_ids = SelectMultipleField(
        _l("Beteiligte Arbeitgeber"), choices=[], validate_choice=False
    )


def _may_choose_organisation() -> bool:
    return current_user.can(Permission.MANAGE_ALL_EVENTS)


def _prepare(form: EventForm, event: Event | None = None) -> EventForm:
    """Fill the form's option lists."""
    form.kind.choices = list(event_vocabulary.kinds().items())
    form.attendance.choices = list(event_vocabulary.attendance_modes().items())
    form.target_groups.choices = list(event_vocabulary.target_groups().items())
    form.repeat.choices = repeat_choices(
        keep=event is not None and bool(event.rrule) and _simple_repeat(event)[0] == KEEP_REPEAT
    )
    form.company_ids.choices = [(str(i), name) for i, name in event_workspace.company_choices()]
    if _may_choose_organisation():
        form.organisation_id.choices = [("", _("Bitte wählen"))] + [
            (str(o.id), o.name) for o in events.organisations()
        ]
    else:
        del form.organisation_id
    return form


def _simple_repeat(event: Event) -> tuple[str, date | None]:
    """(the form's repetition key, the "until" date) of an event's RRULE."""
    if not event.rrule:
        return "none", None
    parts = dict(part.split("=", 1) for part in event.rrule.upper().split(";") if "=" in part)
    until = parts.pop("UNTIL", None)
    if parts.get("INTERVAL") == "1":
        parts.pop("INTERVAL")
    rule = ";".join(f"{key}={parts[key]}" for key in ("FREQ", "INTERVAL") if key in parts)
    if set(parts) - {"FREQ", "INTERVAL"}:
        return KEEP_REPEAT, None
    key = next((k for k, v in REPEATS.items() if v and v == rule), KEEP_REPEAT)
    if until is None or key == KEEP_REPEAT:
        return key, None
    try:
        moment = (
            datetime.strptime(until[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            if "T" in until
            else None
        )
    except ValueError:
        return KEEP_REPEAT, None
    if moment is not None:
        return key, ical.local(moment).date()
    try:
        return key, datetime.strptime(until[:8], "%Y%m%d").date()
    except ValueError:
        return KEEP_REPEAT, None


def _form_data(event: Event) -> dict:
    """The form's values for an existing event."""
    start, end = ical.local(event.starts_at), ical.local(event.ends_at)
    end_day = end.date() - timedelta(days=1) if event.all_day else end.date()
    repeat, until = _simple_repeat(event)
    return {
        "organisation_id": str(event.organisation_id),
        "title": event.title,
        "kind": event.kind,
        "description": event.description,
        "start_date": start.date().isoformat(),
        "start_time": "" if event.all_day else start.strftime("%H:%M"),
        "end_date": end_day.isoformat(),
        "end_time": "" if event.all_day else end.strftime("%H:%M"),
        "all_day": event.all_day,
        "repeat": repeat,
        "repeat_until": until.isoformat() if until else "",
        "attendance": event.attendance,
        "venue": event.venue,
        "street": event.street,
        "postal_code": event.postal_code,
        "town": event.town,
        "online_url": event.online_url,
        "free_of_charge": event.free_of_charge,
        "price_note": event.price_note,
        "target_groups": list(event.target_groups or []),
        "accessibility": event.accessibility,
        "registration_open": event.registration_open,
        "capacity": "" if event.capacity is None else str(event.capacity),
        "contact_email": event.contact_email,
        "company_ids": [str(c.id) for c in event.companies],
    }


def _new_data() -> dict:
    """The form's values for a new event."""
    return {
        "kind": "info_event",
        "attendance": "on_site",
        "repeat": "none",
        "free_of_charge": True,
        "contact_email": current_user.email if current_user.is_partner else "",
    }


def parse_day(text: str) -> date | None:
    """A date typed as 2026-10-30 (the date input) or 30.10.2026; None if it is neither."""
    text = (text or "").strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def parse_clock(text: str) -> time | None:
    """A time typed as 10:00, 10.00 or 10 (hours); None if it is none of them."""
    match = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?(?::\d{2})?", (text or "").strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _until_value(until: date, all_day: bool) -> str:
    """RRULE's UNTIL for the last day of a series: a date for all-day events, else the end
    of that local day in UTC (RFC 5545: UTC when DTSTART has a time zone)."""
    if all_day:
        return until.strftime("%Y%m%d")
    last = datetime.combine(until, time(23, 59, 59), tzinfo=ical.zone()).astimezone(UTC)
    return last.strftime("%Y%m%dT%H%M%SZ")


def _times(form: EventForm, errors: dict) -> dict:
    """starts_at, ends_at, all_day and rrule from the form's date, time and repetition."""
    values: dict = {}
    all_day = bool(form.all_day.data)
    values["all_day"] = all_day
    start_day = parse_day(form.start_date.data)
    if start_day is None:
        errors["start_date"] = _("Bitte geben Sie das Datum des Beginns an (TT.MM.JJJJ).")
    end_text = (form.end_date.data or "").strip()
    end_day = parse_day(end_text) if end_text else start_day
    if end_text and end_day is None:
        errors["end_date"] = _("Bitte geben Sie das Datum des Endes an (TT.MM.JJJJ).")
    if all_day:
        if start_day and end_day:
            values["starts_at"] = start_day
            values["ends_at"] = end_day + timedelta(days=1)
    else:
        start_clock = parse_clock(form.start_time.data)
        end_clock = parse_clock(form.end_time.data)
        if start_clock is None:
            errors["start_time"] = _(
                "Bitte geben Sie die Uhrzeit des Beginns an (z. B. 10:00) oder wählen Sie "
                "„Ganztägig“."
            )
        if end_clock is None:
            errors["end_time"] = _("Bitte geben Sie die Uhrzeit des Endes an (z. B. 12:00).")
        if start_day and end_day and start_clock and end_clock:
            values["starts_at"] = datetime.combine(start_day, start_clock, tzinfo=ical.zone())
            values["ends_at"] = datetime.combine(end_day, end_clock, tzinfo=ical.zone())
    repeat = form.repeat.data or "none"
    until_text = (form.repeat_until.data or "").strip()
    until = parse_day(until_text) if until_text else None
    if until_text and until is None:
        errors["repeat_until"] = _("Bitte geben Sie das Datum als TT.MM.JJJJ an.")
    if repeat == KEEP_REPEAT:
        return values  # the rule from the feed stays as it is
    if repeat not in REPEATS:
        errors["repeat"] = _("Bitte wählen Sie eine Wiederholung aus der Liste.")
    elif repeat == "none":
        values["rrule"] = ""
    else:
        if until is not None and start_day is not None and until < start_day:
            errors["repeat_until"] = _("Das Ende der Wiederholung liegt vor dem Beginn.")
        rule = REPEATS[repeat]
        values["rrule"] = f"{rule};UNTIL={_until_value(until, all_day)}" if until else rule
    return values


def _read(form: EventForm, event: Event | None) -> tuple[dict, dict, object]:
    """(values for the write model, errors by form field, organisation) from the posted form."""
    errors: dict[str, str] = {}
    values = _times(form, errors)
    for field in (
        "title",
        "description",
        "venue",
        "street",
        "postal_code",
        "town",
        "online_url",
        "price_note",
        "accessibility",
        "contact_email",
        "kind",
        "attendance",
    ):
        values[field] = form[field].data or ""
    values["free_of_charge"] = bool(form.free_of_charge.data)
    values["registration_open"] = bool(form.registration_open.data)
    values["target_groups"] = list(form.target_groups.data or [])
    values["company_ids"] = [int(i) for i in form.company_ids.data or [] if str(i).isdigit()]
    capacity = (form.capacity.data or "").strip()
    if not capacity:
        values["capacity"] = None
    elif capacity.isdigit():
        values["capacity"] = int(capacity)
    else:
        errors["capacity"] = _("Bitte geben Sie eine ganze Zahl ab 1 an.")
    if event is not None and (values["postal_code"].strip() != event.postal_code):
        values["location"] = None  # found again from the new postal code
    if _may_choose_organisation():
        chosen = form.organisation_id.data or ""
        organisation = event_workspace.organisation(int(chosen)) if chosen.isdigit() else None
        if organisation is None:
            errors["organisation_id"] = _("Bitte wählen Sie die Organisation.")
    else:
        organisation = current_user.organisation  # a partner's own, never the form's
    if errors:  # the other fields' problems too, all at once
        try:
            events.check({k: v for k, v in values.items() if k not in ("starts_at", "ends_at")})
        except events.EventValuesInvalid as problem:
            errors = {**_form_errors(problem), **errors}
    return values, errors, organisation


def _form_page(form: EventForm, event: Event | None = None, errors=None, status=200, **extra):
    return render_template(
        "events_admin/form.html",
        form=form,
        event=event,
        errors=errors or {},
        status_label=status_label,
        counts=event_workspace.counts([event]).get(event.id) if event is not None else None,
        **extra,
    ), status


def _form_errors(problem: events.EventValuesInvalid) -> dict[str, str]:
    """The write model's errors under the names of the form's fields."""
    errors: dict[str, str] = {}
    for field, message in problem.errors.items():
        name = ERROR_FIELDS.get(field, field)
        errors[name] = f"{errors[name]} {message}" if name in errors else message
    return errors


def _event(event_id: int) -> Event:
    """The event, if the account may manage it; 404 otherwise (also for other
    organisations' events, so that their ids do not leak)."""
    event = events.get(event_id)
    if event is None or not events.may_manage(current_user, event):
        abort(404)
    return event


def status_label(event: Event) -> str:
    """The event's state in words."""
    if event.cancelled:
        return _("abgesagt")
    return {
        EventStatus.PENDING: _("wartet auf Prüfung"),
        EventStatus.PUBLISHED: _("veröffentlicht"),
        EventStatus.REJECTED: _("abgelehnt"),
    }[EventStatus(event.status)]


@bp.get("/")
def index():
    """The events the account may manage, upcoming first (agency staff: optionally only
    those waiting for review)."""
    reviewer = current_user.can(Permission.MANAGE_ALL_EVENTS)
    needs_review = reviewer and request.args.get("pruefen") == "1"
    rows = event_workspace.events_for(current_user, needs_review=needs_review)
    return render_template(
        "events_admin/index.html",
        events=rows,
        counts=event_workspace.counts(rows),
        needs_review=needs_review,
        reviewer=reviewer,
        waiting=event_workspace.waiting_for_review() if reviewer else 0,
        status_label=status_label,
        kinds=event_vocabulary.kinds(),
        now=events.now(),
    )


@bp.route("/neu", methods=["GET", "POST"])
def new():
    """A new event: the form, and creating it."""
    if request.method == "GET":
        if not _may_choose_organisation() and current_user.organisation is None:
            abort(404)
        return _form_page(_prepare(EventForm(data=_new_data())))
    form = _prepare(EventForm())
    values, errors, organisation = _read(form, None)
    if not errors:
        try:
            event = events.create(organisation, values, actor=current_user)
        except events.EventValuesInvalid as problem:
            errors = _form_errors(problem)
        else:
            if event.status is EventStatus.PUBLISHED:
                flash(_("Die Veranstaltung ist angelegt und veröffentlicht."))
            else:
                flash(_("Die Veranstaltung ist angelegt und wartet auf die Prüfung der Agentur."))
            return redirect(url_for(".edit", event_id=event.id), 303)
    return _form_page(form, errors=errors, status=422)


@bp.route("/<int:event_id>", methods=["GET", "POST"])
def edit(event_id: int):
    """An event: the form with its values, and saving changes."""
    event = _event(event_id)
    if request.method == "GET":
        return _form_page(_prepare(EventForm(data=_form_data(event)), event), event)
    form = _prepare(EventForm(), event)
    values, errors, organisation = _read(form, event)
    if errors:
        return _form_page(form, event, errors, 422)
    if organisation is not None and organisation.id != event.organisation_id:
        errors["organisation_id"] = _(
            "Die Organisation einer Veranstaltung lässt sich nicht ändern. Legen Sie die "
            "Veranstaltung bitte bei der anderen Organisation neu an."
        )
        return _form_page(form, event, errors, 422)
    try:
        changed = events.update(event, values, actor=current_user)
    except events.EventValuesInvalid as problem:
        return _form_page(form, event, _form_errors(problem), 422)
    if not changed:
        flash(_("Nichts geändert."))
    elif event.status is EventStatus.PENDING:
        flash(_("Die Änderung ist gespeichert und wartet auf die Prüfung der Agentur."))
    else:
        flash(_("Die Änderung ist gespeichert."))
    return redirect(url_for(".edit", event_id=event.id), 303)


@bp.post("/<int:event_id>/absagen")
def cancel(event_id: int):
    """Cancel an event (after confirming); registered people are told by e-mail."""
    event = _event(event_id)
    note = request.form.get("note", "").strip()[:1000]
    if request.form.get("confirm") != "1":
        return _form_page(
            _prepare(EventForm(formdata=None, data=_form_data(event)), event),
            event,
            {},
            422,
            cancel_error=_("Bitte bestätigen Sie, dass die Veranstaltung abgesagt wird."),
            cancel_note=note,
        )
    if events.cancel(event, actor=current_user, note=note):
        flash(_("Die Veranstaltung ist abgesagt."))
    else:
        flash(_("Die Veranstaltung war schon abgesagt."))
    return redirect(url_for(".edit", event_id=event.id), 303)


def _review(event_id: int, approve: bool):
    event = _event(event_id)
    note = request.form.get("note", "").strip()[:1000]
    events.review(event, actor=current_user, approve=approve, note=note)
    if approve:
        flash(_("Die Veranstaltung ist freigegeben und veröffentlicht."))
    else:
        flash(_("Die Veranstaltung ist abgelehnt."))
    return redirect(url_for(".edit", event_id=event.id), 303)


@bp.post("/<int:event_id>/freigeben")
@requires(Permission.MANAGE_ALL_EVENTS)
def approve(event_id: int):
    """Publish a partner's event waiting for review."""
    return _review(event_id, True)


@bp.post("/<int:event_id>/ablehnen")
@requires(Permission.MANAGE_ALL_EVENTS)
def reject(event_id: int):
    """Reject a partner's event (it is not published)."""
    return _review(event_id, False)


@bp.get("/<int:event_id>/anmeldungen")
def registrations(event_id: int):
    """The event's registrations: name, e-mail, note, status, date."""
    event = _event(event_id)
    return render_template(
        "events_admin/registrations.html",
        event=event,
        rows=registration_service.registrations_for(event),
        status_name=registration_service.status_name,
        counts=event_workspace.counts([event])[event.id],
    )


@bp.get("/<int:event_id>/anmeldungen.csv")
def registrations_csv(event_id: int):
    """The event's registrations as CSV."""
    event = _event(event_id)
    content = registration_service.csv_for(event)
    if isinstance(content, str):
        content = content.encode("utf-8")  # the service's text starts with a BOM
    response = Response(content, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="anmeldungen-{event.id}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- a partner's calendar feed ---------------------------------------------------------------


def _own_organisation():
    """The partner's organisation; agency staff set feeds on the organisations pages."""
    return current_user.organisation if current_user.organisation_id else None


def _feed_page(organisation, error=None, feed_url=None, status=200):
    return render_template(
        "events_admin/feed.html",
        organisation=organisation,
        error=error,
        feed_url=organisation.feed_url if feed_url is None else feed_url,
    ), status


@bp.route("/feed", methods=["GET", "POST"])
def feed():
    """Connect (or disconnect) the organisation's iCal feed; what the last fetch found."""
    organisation = _own_organisation()
    if organisation is None:
        return redirect(url_for("organisations.index"), 303)
    if request.method == "GET":
        return _feed_page(organisation)
    feed_url = request.form.get("feed_url", "")[:2000]
    try:
        events.set_feed_url(organisation, feed_url, actor=current_user)
    except events.EventValuesInvalid as problem:
        return _feed_page(organisation, problem.errors.get("feed_url"), feed_url, 422)
    if organisation.feed_url:
        flash(_("Die Kalender-Adresse ist gespeichert. Sie wird stündlich abgerufen."))
    else:
        flash(_("Es ist kein Kalender mehr verbunden."))
    return redirect(url_for(".feed"), 303)


def import_messages(report) -> list[str]:
    """What a feed import did (:class:`app.services.event_feeds.FeedReport`), in sentences:
    the counts, then each VEVENT skipped and why."""
    if report.error:
        return [_("Der Kalender konnte nicht abgerufen werden: %(error)s", error=report.error)]
    if report.not_modified:
        return [_("Der Kalender hat sich seit dem letzten Abruf nicht geändert.")]
    messages = [
        _(
            "Kalender abgerufen: %(new)d neu, %(changed)d geändert, %(cancelled)d abgesagt, "
            "%(unchanged)d unverändert, %(skipped)d übersprungen.",
            new=report.new,
            changed=report.changed,
            cancelled=report.cancelled,
            unchanged=report.unchanged,
            skipped=len(report.skipped),
        )
    ]
    messages += [
        _("Übersprungen: „%(title)s“: %(reason)s", title=item.title or item.uid, reason=item.reason)
        for item in report.skipped[:20]
    ]
    return messages


def flash_import(report) -> None:
    """Flash what a feed import did."""
    for message in import_messages(report):
        flash(message)


@bp.post("/feed/abrufen")
def fetch_feed():
    """Import the organisation's feed now and say what it found."""
    organisation = _own_organisation()
    if organisation is None:
        return redirect(url_for("organisations.index"), 303)
    if not organisation.feed_url:
        return _feed_page(organisation, _("Bitte geben Sie zuerst die Adresse Ihres Kalenders an."),
                          status=422)  # fmt: skip
    flash_import(event_feeds.import_feed(organisation))
    return redirect(url_for(".feed"), 303)
