"""Job alerts without an account (Suchaufträge): subscribing with double opt-in, the weekly
digest, changing the search, unsubscribing, expiry and bounces.

- A search is the employer filter of the map (:func:`parse_search`: the filter contract's own
  parser, the map view dropped), stored as its canonical ``query_args()`` (:func:`search_query`),
  so an alert means exactly what the map showed; :func:`search_of` reads it back.
- :func:`subscribe` stores a pending alert and mails the confirmation link (double opt-in).
  Under a lock on the address, an address that has the same search already is mailed instead
  (its confirmation link again, or a note with its links), and an address with
  :data:`MAX_ALERTS_PER_ADDRESS` alerts is mailed that it has reached the limit; the page says
  "check your e-mail" every time, so nobody learns which addresses have alerts. A unique index
  on (lower(email), filter_key) keeps one alert per address and search even so.
- :func:`confirm` (a POST behind the mailed link: mail scanners open links) confirms and takes
  the first snapshot, so the first weekly mail lists only what is new.
- :func:`send_digests` (``flask alerts send-digests``, weekly) compares every confirmed alert's
  matches with its snapshot: employers that newly match, and those whose offers grew (new
  apprenticeship occupations or places, more open positions, internships or apprenticeships
  offered now). Nothing new: no mail, the week is recorded all the same. Alerts are taken in
  batches of :data:`BATCH_SIZE`, locked ``FOR UPDATE SKIP LOCKED``, each batch in its own
  transaction; an alert done this ISO week is not taken again, so the run is idempotent and two
  runs at once share the work.
- :func:`unsubscribe` deletes an alert (by its link's page, or RFC 8058 one-click);
  :func:`expire` (``flask alerts expire``, daily) deletes alerts unconfirmed for
  :data:`UNCONFIRMED_DAYS` days; an address the mail server refuses for good (at delivery,
  :func:`delivery_outcome`, or in a delivery status notification, :func:`failed_recipients`)
  loses its alerts. Deleting an alert also empties the outbox copies of the alert mails to its
  address.
"""

from __future__ import annotations

import email
import hashlib
import logging
import mailbox
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import delete, func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.features import pipeline
from app.features.employers import EMPLOYERS, EmployerFilter
from app.features.filters import FilterError
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language, language_name
from app.models import Company, CompanyApprenticeship, CompanyStatus, JobAlert, OutboxMessage
from app.services import apprenticeships, mail, taxonomies, tokens
from app.services.mail import MailLimit
from app.services.places import resolve_place
from questionnaire.engine import is_email

log = logging.getLogger(__name__)

#: The version of the consent text (:func:`consent_text`); raise it when the text changes in
#: substance. Recorded on every alert.
ALERT_CONSENT_VERSION = "2026-11"
#: One address may keep this many alerts (pending or confirmed).
MAX_ALERTS_PER_ADDRESS = 10
#: An alert not confirmed within this many days is deleted (``flask alerts expire``).
UNCONFIRMED_DAYS = 7
#: Temporary delivery failures in a row after which an address's alerts are deleted.
BOUNCE_LIMIT = 3
#: Alerts per transaction of the weekly run.
BATCH_SIZE = 200
#: At most this many employers are listed in one digest (the map link shows them all).
DIGEST_LIMIT = 30
#: The week (and "today") of the weekly run are those of this time zone.
TIMEZONE = ZoneInfo("Europe/Berlin")
#: The purposes of the signed links (app/services/tokens.py).
CONFIRM_PURPOSE = "alert_confirm"
LINK_PURPOSE = "alert"
#: Outbox purposes: the mails anyone can trigger by subscribing an address (limited by
#: :data:`ALERT_MAIL_LIMITS`), and the weekly digests.
MAIL_PURPOSE = "alert"
DIGEST_PURPOSE = "alert-digest"
#: Subscription mails to one address: at most 5 an hour and 10 a day.
ALERT_MAIL_LIMITS = (
    MailLimit(5, timedelta(hours=1), "recent"),
    MailLimit(10, timedelta(days=1), "daily"),
)
#: First key of the transaction-level advisory lock on an address while it subscribes.
ALERT_LOCK_NAMESPACE = 0x3A1E


def consent_text() -> str:
    """The consent text (version :data:`ALERT_CONSENT_VERSION`) next to the checkbox, in the
    interface language."""
    return _(
        "Ich bin einverstanden, dass der KMU-Atlas meine E-Mail-Adresse, meine Suche und meine "
        "Sprache speichert, um mir einmal in der Woche eine E-Mail zu schicken, wenn neue "
        "Arbeitgeber zu meiner Suche passen. Ohne Bestätigung wird der Suchauftrag nach 7 Tagen "
        "gelöscht. Ich kann ihn jederzeit über den Link in jeder E-Mail abbestellen; dann "
        "werden meine Angaben gelöscht."
    )


class AlertInvalid(ValueError):
    """Values that cannot be stored; ``errors`` maps field names (email, consent) to
    translated messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class AlertLimited(Exception):
    """Too many alert mails went to this address lately: nothing was stored."""


class AlertGone(tokens.TokenInvalid):
    """The link is genuine, but its alert no longer exists (unsubscribed, expired, bounced)."""


class SearchTaken(Exception):
    """The address has another alert with this search already."""


@dataclass(frozen=True)
class SubscribeResult:
    """What :func:`subscribe` did. The page is the same for every result: ``created`` is False
    when the address had this search already or has reached the limit (it was mailed instead;
    ``mailed`` False if the mail limit held that mail back)."""

    alert: JobAlert | None
    created: bool
    mailed: bool


def now() -> datetime:
    """The current time (UTC, aware)."""
    return datetime.now(UTC)


def iso_week(moment: datetime) -> str:
    """The ISO week of ``moment`` in :data:`TIMEZONE`, e.g. "2026-W49"."""
    year, week, _day = moment.astimezone(TIMEZONE).isocalendar()
    return f"{year}-W{week:02d}"


# --- the search -------------------------------------------------------------------------------


def parse_search(args: MultiDict) -> EmployerFilter:
    """The employer filter given by the map's parameters in ``args`` (anything else, the map
    view included, is ignored), checked by the filter contract's parser; FilterError with the
    parser's message on a bad value."""
    names = {parameter.name for parameter in EMPLOYERS.parameters}
    given = MultiDict([(key, value) for key, value in args.items(multi=True) if key in names])
    return pipeline.parse_filter(EMPLOYERS, given, resolve_place).without_view()


def search_query(f: EmployerFilter) -> str:
    """The filter's canonical query parameters (its permalink's query) as a query string."""
    return urlencode(list(f.query_args().items()))


def search_args(alert: JobAlert) -> MultiDict:
    """The alert's stored search as query parameters."""
    return MultiDict(parse_qsl(alert.filter_query))


def search_of(alert: JobAlert) -> EmployerFilter:
    """The alert's search parsed again (FilterError if it no longer parses, e.g. a code that
    was withdrawn)."""
    return parse_search(search_args(alert))


def filter_key(f: EmployerFilter) -> str:
    """Identifies the search whatever the order of its values: several values sorted, the
    radius as a number (the default written out)."""
    multiple = {p.name for p in EMPLOYERS.parameters if p.multiple}
    parts = []
    for name, value in f.query_args().items():
        if name in multiple:
            value = ",".join(sorted(set(value.split(","))))
        parts.append((name, value))
    if f.near is not None:
        parts = [(n, v) for n, v in parts if n != "radius_km"]
        parts.append(("radius_km", format(f.radius_km, "g")))
    canonical = urlencode(sorted(parts))
    return hashlib.sha256(canonical.encode()).hexdigest()


def describe(f: EmployerFilter) -> list[tuple[str, str]]:
    """Each active filter of ``f`` as (label, value in words), in the interface language, in
    the order of the filter panel; [] when nothing narrows the search."""
    args = f.query_args()
    if not args:
        return []
    language = current_language()
    catalogue = taxonomies.catalogue(language)
    names = {
        "sector": _nested_labels(catalogue["sectors"], "divisions"),
        "occupation": _nested_labels(catalogue["occupations"], "groups"),
        "municipality": {m["code"]: m["label"] for m in catalogue["municipalities"]},
        "size": {s["code"]: s["label"] for s in catalogue["sizes"]},
        "family": {c["code"]: c["label"] for c in catalogue["family"]},
        "offers": {o["code"]: o["label"] for o in catalogue["offers"]},
    }
    labels = {
        "q": _("Suchbegriff"),
        "sector": _("Branche"),
        "occupation": _("Beruf"),
        "municipality": _("Stadt oder Gemeinde"),
        "near": _("Im Umkreis von"),
        "size": _("Unternehmensgröße"),
        "family": _("Familienfreundlich (alle gewählten)"),
        "offers": _("Angebote"),
        "apprenticeship": _("Ausbildungsberuf"),
        "language": _("Sprache im Betrieb"),
    }
    rows: list[tuple[str, str]] = []
    for name, value in args.items():
        if name == "radius_km":
            continue  # part of the place
        if name == "q":
            rows.append((labels[name], f"„{value}“"))
        elif name == "near" and f.near is not None:
            km = format_decimal(f.radius_km, format="#,##0.#")
            rows.append((labels[name], _("%(km)s km um %(place)s", km=km, place=f.near.label)))
        elif name == "within":
            kinds = _proximity_kinds()
            for kind, metres in f.proximity:
                distance = _("bis %(metres)s m (Luftlinie)", metres=metres)
                rows.append((kinds.get(kind, kind), distance))
        elif name == "apprenticeship":
            words = ", ".join(apprenticeships.label(c, language) for c in value.split(","))
            rows.append((labels[name], words))
        elif name == "language":
            words = ", ".join(language_name(c, language) for c in value.split(","))
            rows.append((labels[name], words))
        else:
            known = names.get(name, {})
            words = ", ".join(known.get(code, code) for code in value.split(","))
            rows.append((labels.get(name, name), words))
    return rows


def _nested_labels(groups: list[dict], children: str) -> dict[str, str]:
    labels = {}
    for group in groups:
        labels[group["code"]] = group["label"]
        labels.update({item["code"]: item["label"] for item in group[children]})
    return labels


def _proximity_kinds() -> dict[str, str]:
    from app.features.layers import proximity_kinds

    return proximity_kinds()


# --- what an employer offers ------------------------------------------------------------------


@dataclass(frozen=True)
class OfferChange:
    """How an employer's offers grew since the last snapshot."""

    #: Apprenticeship occupations newly offered or with more places: [{"code", "places"}].
    apprenticeships: tuple[dict, ...] = ()
    #: The number of open positions, when it grew.
    jobs: int | None = None
    #: Internships (or apprenticeships, without named occupations) offered now, not before.
    internships: bool = False
    apprenticeship: bool = False

    def __bool__(self) -> bool:
        return bool(self.apprenticeships or self.jobs or self.internships or self.apprenticeship)


def _places_column():
    """{code: places} of the company's apprenticeship occupations, as JSON."""
    aggregated = func.jsonb_object_agg(CompanyApprenticeship.code, CompanyApprenticeship.places)
    return (
        select(func.coalesce(aggregated, text("'{}'::jsonb")))
        .where(CompanyApprenticeship.company_id == Company.id)
        .scalar_subquery()
    )


def fingerprints(f: EmployerFilter) -> dict[str, dict]:
    """{company id (as text): the offers' fingerprint} of the published employers matching
    ``f``: open positions, internships and apprenticeships offered, and the apprenticeship
    occupations with their places."""
    query = pipeline.matching(EMPLOYERS, f, use_view=False).with_only_columns(
        Company.id,
        Company.open_positions,
        Company.offers_internships,
        Company.offers_apprenticeships,
        _places_column(),
    )
    return {
        str(company_id): {
            "jobs": jobs or 0,
            "internships": bool(internships),
            "apprenticeship": bool(apprenticeship),
            "places": dict(places or {}),
        }
        for company_id, jobs, internships, apprenticeship, places in db.session.execute(query)
    }


def offer_change(before: dict, after: dict) -> OfferChange:
    """What ``after`` offers beyond ``before`` (two fingerprints of one employer)."""
    old_places, new_places = before.get("places", {}), after.get("places", {})
    grown = tuple(
        {"code": code, "places": places}
        for code, places in sorted(new_places.items())
        if code not in old_places or (places or 0) > (old_places[code] or 0)
    )
    jobs = after.get("jobs", 0)
    return OfferChange(
        apprenticeships=grown,
        jobs=jobs if jobs > before.get("jobs", 0) else None,
        internships=after.get("internships", False) and not before.get("internships", False),
        apprenticeship=(
            after.get("apprenticeship", False)
            and not before.get("apprenticeship", False)
            and not grown
        ),
    )


# --- subscribing ------------------------------------------------------------------------------


def _has_control_characters(value: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


def check(address: str, consent_version: str | None) -> str:
    """The address made ready for storing; AlertInvalid with every problem found."""
    address = (address or "").strip()
    errors: dict[str, str] = {}
    if not address:
        errors["email"] = _("Bitte geben Sie Ihre E-Mail-Adresse an.")
    elif _has_control_characters(address) or not is_email(address):
        errors["email"] = _("Das ist keine gültige E-Mail-Adresse.")
    if consent_version != ALERT_CONSENT_VERSION:
        errors["consent"] = _(
            "Bitte stimmen Sie zu, dass wir Ihre Adresse und Ihre Suche für den Suchauftrag "
            "speichern."
        )
    if errors:
        raise AlertInvalid(errors)
    return address


def _lock_address(address: str) -> None:
    """Hold, until the transaction ends, the subscription lock of ``address``."""
    key = func.hashtext(address.lower())
    db.session.execute(select(func.pg_advisory_xact_lock(ALERT_LOCK_NAMESPACE, key)))


def _same_address(address: str):
    return func.lower(JobAlert.email) == address.lower()


def _queue_limited(kind: str, **values) -> bool:
    """Queue a subscription mail unless the address's limit is reached; whether it was."""
    composed = mail.compose(kind, **values)
    held_back = mail.queue_limited(composed, purpose=MAIL_PURPOSE, limits=ALERT_MAIL_LIMITS)
    return held_back is None


def subscribe(
    address: str, f: EmployerFilter, language: str, consent_version: str | None
) -> SubscribeResult:
    """Store a pending alert of ``address`` for the search ``f`` and mail the confirmation
    link (see the module's docstring for an address that has this search already or has reached
    the limit); commits. AlertInvalid for a bad address or a missing consent; AlertLimited
    (nothing stored) when too many alert mails went to the address lately."""
    address = check(address, consent_version)
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    key = filter_key(f)
    try:
        _lock_address(address)
        existing = db.session.scalar(
            select(JobAlert).where(_same_address(address), JobAlert.filter_key == key)
        )
        if existing is not None:
            return _subscribed_again(existing, language, consent_version)
        owned = db.session.scalars(
            select(JobAlert).where(_same_address(address)).order_by(JobAlert.id)
        ).all()
        if len(owned) >= MAX_ALERTS_PER_ADDRESS:
            mailed = _queue_limited("alert_limit", address=address, language=language, owned=owned)
            db.session.commit()
            return SubscribeResult(None, created=False, mailed=mailed)
        alert_id = db.session.scalar(
            insert(JobAlert)
            .values(
                email=address,
                filter_query=search_query(f),
                filter_key=key,
                language=language,
                consent_version=consent_version,
                consent_at=func.now(),
                token_generation=1,
                snapshot={},
                bounce_count=0,
            )
            .on_conflict_do_nothing(index_elements=[text("lower(email)"), JobAlert.filter_key])
            .returning(JobAlert.id)
        )
        if alert_id is None:  # stored meanwhile (the lock makes this unlikely)
            existing = db.session.scalar(
                select(JobAlert).where(_same_address(address), JobAlert.filter_key == key)
            )
            return _subscribed_again(existing, language, consent_version)
        alert = db.session.get(JobAlert, alert_id)
        if not _queue_limited("alert_confirm", alert=alert):
            raise AlertLimited
    except AlertLimited:
        db.session.rollback()
        raise
    db.session.commit()
    return SubscribeResult(alert, created=True, mailed=True)


def _subscribed_again(alert: JobAlert, language: str, consent_version: str) -> SubscribeResult:
    """The address subscribed to a search it has: a pending alert gets its confirmation link
    again (and seven more days), a confirmed one a note with its links. Commits."""
    if alert.confirmed:
        mailed = _queue_limited("alert_exists", alert=alert)
    else:
        alert.created_at = func.now()
        alert.language = language
        alert.consent_version = consent_version
        alert.consent_at = func.now()
        db.session.flush()
        mailed = _queue_limited("alert_confirm", alert=alert)
    db.session.commit()
    return SubscribeResult(alert, created=False, mailed=mailed)


# --- the links --------------------------------------------------------------------------------


def confirm_token(alert: JobAlert) -> str:
    """The token of the alert's confirmation link (valid for :data:`UNCONFIRMED_DAYS` days)."""
    return tokens.make_token(CONFIRM_PURPOSE, alert.id, alert.token_generation)


def link_token(alert: JobAlert) -> str:
    """The token of the alert's links to unsubscribe and to change the search."""
    return tokens.make_token(LINK_PURPOSE, alert.id, alert.token_generation)


def from_token(token: str, purpose: str = LINK_PURPOSE) -> JobAlert:
    """The alert a link names; TokenExpired or TokenInvalid if the link is not good, AlertGone
    if it was but its alert no longer exists."""
    alert_id, generation = tokens.read_token(purpose, token)
    alert = db.session.get(JobAlert, alert_id)
    if alert is None:
        raise AlertGone
    if alert.token_generation != generation:
        raise tokens.TokenInvalid
    return alert


def _lock(alert: JobAlert) -> JobAlert | None:
    """The alert's row, locked until the transaction ends, with its current values (None if
    it was deleted meanwhile)."""
    return db.session.scalars(
        select(JobAlert).where(JobAlert.id == alert.id).with_for_update(),
        execution_options={"populate_existing": True},
    ).one_or_none()


def _snapshot(alert: JobAlert) -> dict:
    """The fingerprints of what the alert's search matches now ({} if it no longer parses)."""
    try:
        return fingerprints(search_of(alert))
    except FilterError:
        return {}


def confirm(alert: JobAlert) -> bool:
    """Confirm the alert and take its first snapshot (the first digest lists only what is new
    after this); commits. False if it was confirmed already (nothing changes)."""
    locked = _lock(alert)
    if locked is None:
        db.session.commit()
        raise AlertGone
    if locked.confirmed:
        db.session.commit()
        return False
    locked.snapshot = _snapshot(locked)
    locked.confirmed_at = now()
    db.session.commit()
    return True


def change_search(alert: JobAlert, f: EmployerFilter) -> bool:
    """Give the alert the search ``f`` and a new snapshot (the next digest lists what is new
    for it); commits. False if it is the search the alert has. SearchTaken if another alert of
    the address has it."""
    locked = _lock(alert)
    if locked is None:
        db.session.commit()
        raise AlertGone
    key = filter_key(f)
    if key == locked.filter_key:
        db.session.commit()
        return False
    taken = db.session.scalar(
        select(JobAlert.id).where(
            _same_address(locked.email), JobAlert.filter_key == key, JobAlert.id != locked.id
        )
    )
    if taken is not None:
        db.session.rollback()
        raise SearchTaken
    locked.filter_query = search_query(f)
    locked.filter_key = key
    if locked.confirmed:
        locked.snapshot = fingerprints(f)
    db.session.commit()
    return True


# --- deleting ---------------------------------------------------------------------------------


def _forget_mails(addresses: Iterable[str]) -> None:
    """Empty the outbox copies (recipient and text) of the alert mails to ``addresses``."""
    lowered = sorted({address.lower() for address in addresses if address})
    if not lowered:
        return
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.purpose.in_((MAIL_PURPOSE, DIGEST_PURPOSE)),
            func.lower(OutboxMessage.recipient).in_(lowered),
        )
        .values(recipient="", body="")
        .execution_options(synchronize_session=False)
    )


def unsubscribe(alert: JobAlert) -> bool:
    """Delete the alert and empty the copies of its mails; commits. False if it was gone."""
    deleted = db.session.execute(
        delete(JobAlert).where(JobAlert.id == alert.id).returning(JobAlert.email)
    ).scalar_one_or_none()
    if deleted is not None:
        _forget_mails([deleted])
    db.session.commit()
    return deleted is not None


def expire(moment: datetime | None = None) -> int:
    """Delete the alerts left unconfirmed for :data:`UNCONFIRMED_DAYS` days (and the copies of
    their mails); commits. How many (a second run finds none)."""
    cutoff = (moment or now()) - timedelta(days=UNCONFIRMED_DAYS)
    addresses = db.session.scalars(
        delete(JobAlert)
        .where(JobAlert.confirmed_at.is_(None), JobAlert.created_at < cutoff)
        .returning(JobAlert.email)
    ).all()
    _forget_mails(addresses)
    db.session.commit()
    return len(addresses)


def forget_addresses(addresses: Iterable[str]) -> int:
    """Delete every alert of ``addresses`` (they bounce) and the copies of their mails;
    commits. How many alerts."""
    lowered = sorted({address.strip().lower() for address in addresses if address.strip()})
    if not lowered:
        return 0
    deleted = db.session.scalars(
        delete(JobAlert).where(func.lower(JobAlert.email).in_(lowered)).returning(JobAlert.email)
    ).all()
    _forget_mails(lowered)
    db.session.commit()
    if deleted:
        log.info("job alerts deleted because their address bounces: %d", len(deleted))
    return len(deleted)


def delivery_outcome(recipient: str, outcome: str) -> None:
    """A mail listener (:func:`app.services.mail.add_delivery_listener`): a permanent refusal
    deletes the address's alerts; a temporary one counts, and :data:`BOUNCE_LIMIT` in a row
    delete them too; a delivery resets the count. Runs after the mail's commit, so it writes
    through a connection of its own."""
    same = func.lower(JobAlert.email) == recipient.strip().lower()
    with db.engine.begin() as connection:
        if outcome == mail.SENT:
            connection.execute(
                update(JobAlert).where(same, JobAlert.bounce_count > 0).values(bounce_count=0)
            )
            return
        if outcome == mail.REFUSED_TEMPORARILY:
            connection.execute(
                update(JobAlert)
                .where(same)
                .values(bounce_count=JobAlert.bounce_count + 1, last_bounce_at=func.now())
            )
            doomed = same & (JobAlert.bounce_count >= BOUNCE_LIMIT)
        elif outcome == mail.REFUSED_PERMANENTLY:
            doomed = same
        else:
            return
        gone = connection.execute(delete(JobAlert).where(doomed).returning(JobAlert.id)).all()
        if gone:
            connection.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.purpose.in_((MAIL_PURPOSE, DIGEST_PURPOSE)),
                    func.lower(OutboxMessage.recipient) == recipient.strip().lower(),
                )
                .values(recipient="", body="")
            )
            log.info("job alerts deleted because their address bounces: %d", len(gone))


def _dsn_failures(message: Message) -> list[str]:
    """The final recipients a delivery status notification (RFC 3464) reports as failed."""
    failed = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:]:  # the first block is about the message, the rest per recipient
            action = str(block.get("Action", "")).split("(")[0].strip().lower()
            recipient = str(block.get("Final-Recipient", ""))
            address_type, _semicolon, address = recipient.partition(";")
            if action == "failed" and address_type.strip().lower() == "rfc822":
                address = address.strip().strip("<>").strip()
                if address:
                    failed.append(address)
    return failed


def failed_recipients(path: Path) -> list[str]:
    """The addresses that the delivery status notifications in the mbox file or Maildir at
    ``path`` report as failed for good (``Action: failed``). The mailbox is only read."""
    path = Path(path)
    if path.is_dir():
        box: mailbox.Mailbox = mailbox.Maildir(path, factory=None, create=False)
    else:
        box = mailbox.mbox(path, create=False)
    failed: list[str] = []
    try:
        for key in box.iterkeys():
            message = email.message_from_bytes(box.get_bytes(key))
            failed.extend(_dsn_failures(message))
    finally:
        box.close()
    return failed


# --- the weekly digest ------------------------------------------------------------------------


@dataclass
class Digest:
    """What one weekly mail tells: the alert, its search, the employers that newly match and
    those whose offers grew (with how), each list at most :data:`DIGEST_LIMIT` long;
    ``more`` is how many were left out."""

    alert: JobAlert
    search: EmployerFilter
    new: list[Company]
    changed: list[tuple[Company, OfferChange]]
    more: int = 0


@dataclass
class DigestReport:
    """What a weekly run did: digests sent, alerts with nothing new, alerts whose search no
    longer parses (skipped this week), and the batches committed."""

    sent: int = 0
    quiet: int = 0
    invalid: int = 0
    batches: int = 0
    alerts: list[int] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"Job alerts: {self.sent} digest(s) sent, {self.quiet} without news, "
            f"{self.invalid} with a search that no longer works ({self.batches} batch(es))."
        )


def _published(ids: Iterable[int]) -> dict[int, Company]:
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Company).where(Company.id.in_(ids), Company.status == CompanyStatus.PUBLISHED)
    )
    return {company.id: company for company in rows}


def digest_for(alert: JobAlert, f: EmployerFilter, current: dict[str, dict]) -> Digest | None:
    """The digest of ``alert`` given its matches' fingerprints ``current``; None when nothing
    is new since its snapshot."""
    previous = alert.snapshot or {}
    new_ids = [int(key) for key in current if key not in previous]
    changes = {
        int(key): change
        for key, fingerprint in current.items()
        if key in previous and (change := offer_change(previous[key], fingerprint))
    }
    if not new_ids and not changes:
        return None
    companies = _published([*new_ids, *changes])

    def by_name(company: Company) -> tuple:
        return (company.name.casefold(), company.id)

    new = sorted((companies[i] for i in new_ids if i in companies), key=by_name)
    changed = sorted(
        ((companies[i], change) for i, change in changes.items() if i in companies),
        key=lambda item: by_name(item[0]),
    )
    if not new and not changed:
        return None
    shown_new = new[:DIGEST_LIMIT]
    shown_changed = changed[: max(0, DIGEST_LIMIT - len(shown_new))]
    more = len(new) + len(changed) - len(shown_new) - len(shown_changed)
    return Digest(alert, f, shown_new, shown_changed, more)


def _run_alert(alert: JobAlert, week: str, moment: datetime, report: DigestReport) -> None:
    """Compare one (locked) alert with its snapshot, queue its digest if anything is new,
    record the week (not committed)."""
    alert.last_sent_week = week
    alert.last_run_at = moment
    report.alerts.append(alert.id)
    try:
        f = search_of(alert)
    except FilterError as error:
        log.warning("job alert %s: its search no longer parses (%s)", alert.id, error.parameter)
        report.invalid += 1
        return
    current = fingerprints(f)
    digest = digest_for(alert, f, current)
    alert.snapshot = current
    if digest is None:
        report.quiet += 1
        return
    mail.queue(mail.compose("alert_digest", digest=digest), purpose=DIGEST_PURPOSE)
    alert.last_sent_at = moment
    report.sent += 1


def send_digests(moment: datetime | None = None, batch_size: int = BATCH_SIZE) -> DigestReport:
    """The weekly run: every confirmed alert not yet done in this ISO week is compared with its
    snapshot and, when something is new, mailed its digest. Alerts are locked ``FOR UPDATE SKIP
    LOCKED`` and done in batches of ``batch_size``, each batch committed on its own (its mails
    go out after that commit); a failure rolls back only the batch it happened in. Safe to run
    twice, also at the same time."""
    moment = moment or now()
    week = iso_week(moment)
    report = DigestReport()
    due = (
        select(JobAlert)
        .where(
            JobAlert.confirmed_at.is_not(None),
            or_(JobAlert.last_sent_week.is_(None), JobAlert.last_sent_week != literal(week)),
        )
        .order_by(JobAlert.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    try:
        while True:
            batch = db.session.scalars(due, execution_options={"populate_existing": True}).all()
            if not batch:
                break
            for alert in batch:
                _run_alert(alert, week, moment, report)
            db.session.commit()
            report.batches += 1
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return report
