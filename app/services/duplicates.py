"""Likely duplicates, and merging two entries into one.

Two entries are likely the same employer when their names are similar *and* their pins lie
within :data:`NEAR_METRES`, or when they share a website or a phone number. A similar name
alone (the same bakery chain in the next town) is not enough.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from flask_babel import gettext as _
from geoalchemy2.shape import to_shape
from sqlalchemy import func, or_, select

from app.extensions import db
from app.features.employers import fold_for_search
from app.features.spatial import as_geography, point
from app.models import Company, CompanyStatus, ConsentRecord, FamilyCertificate
from app.services import audit, owner_links
from app.services.curation import (
    CurationError,
    EditConflict,
    check_version,
    commit_or_conflict,
    flush_or_conflict,
    lock,
    rolls_back_when_refused,
    touch,
)

NEAR_METRES = 100
NAME_SIMILARITY = 0.8
#: Legal forms and filler words that say nothing about which business it is.
_NOISE = frozenset(
    (
        "gmbh", "mbh", "co", "kg", "ag", "ug", "haftungsbeschrankt", "ek", "e", "k", "ohg",
        "gbr", "kgaa", "se", "inh", "inhaber", "und", "the",
    )
)  # fmt: skip
_TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Duplicate:
    """Another entry that is probably the same employer, and why we think so."""

    company: Company
    reasons: tuple[str, ...]  # "name_near" | "website" | "phone"
    distance_m: float | None


def name_key(name: str) -> str:
    """The name reduced to what identifies the business: folded, no legal form."""
    words = [w for w in _TOKEN.findall(fold_for_search(name)) if w not in _NOISE]
    return " ".join(words)


def similar_names(a: str, b: str) -> bool:
    """Whether two business names are probably the same name."""
    key_a, key_b = name_key(a), name_key(b)
    if not key_a or not key_b:
        return False
    if key_a == key_b:
        return True
    words_a, words_b = set(key_a.split()), set(key_b.split())
    if len(words_a) > 1 and len(words_b) > 1 and (words_a <= words_b or words_b <= words_a):
        return True
    return SequenceMatcher(None, key_a, key_b).ratio() >= NAME_SIMILARITY


def _phone_sql(column):
    digits = func.regexp_replace(column, r"\D", "", "g")
    return func.regexp_replace(digits, "^(0049|49)", "0")


def phone_key(phone: str) -> str:
    """A phone number as digits in national form: '+49 2361 123' -> '02361123'."""
    digits = re.sub(r"\D", "", phone)
    return re.sub(r"^(0049|49)", "0", digits)


def _website_sql(column):
    return func.lower(func.regexp_replace(column, r"^https?://(www\.)?|/+$", "", "gi"))


def website_key(website: str) -> str:
    """A website without scheme, www. and trailing slash, lower case."""
    return re.sub(r"^https?://(www\.)?|/+$", "", website.strip(), flags=re.I).lower()


def candidates(company: Company) -> list[Duplicate]:
    """Other entries (in any status, not merged away) that are likely the same employer."""
    base = select(Company).where(Company.id != company.id, Company.merged_into_id.is_(None))
    found: dict[int, set[str]] = {}
    distances: dict[int, float] = {}
    if company.location is not None:
        spot = to_shape(company.location)
        here = point(spot.x, spot.y)
        distance = func.ST_Distance(as_geography(Company.location), here)
        near = db.session.execute(
            base.add_columns(distance).where(
                func.ST_DWithin(as_geography(Company.location), here, NEAR_METRES)
            )
        )
        for other, metres in near:
            distances[other.id] = metres
            if similar_names(company.name, other.name):
                found.setdefault(other.id, set()).add("name_near")
    contact = []
    if website_key(company.website or ""):
        contact.append(_website_sql(Company.website) == website_key(company.website))
    if len(phone_key(company.phone or "")) >= 5:
        contact.append(_phone_sql(Company.phone) == phone_key(company.phone))
    if contact:
        for other in db.session.scalars(base.where(or_(*contact))):
            if company.website and website_key(other.website or "") == website_key(company.website):
                found.setdefault(other.id, set()).add("website")
            if company.phone and phone_key(other.phone or "") == phone_key(company.phone):
                found.setdefault(other.id, set()).add("phone")
    return [
        Duplicate(
            db.session.get(Company, other_id), tuple(sorted(reasons)), distances.get(other_id)
        )
        for other_id, reasons in sorted(found.items())
    ]


_TEXT_FIELDS = (
    "description", "street", "house_number", "postal_code", "town", "municipality_ags",
    "website", "phone", "email", "contact_name", "contact_email",
)  # fmt: skip


def merged_values(keep: Company, drop: Company) -> dict:
    """What ``keep`` looks like after taking in ``drop``: its own values where it has them,
    ``drop``'s where it has none; the longer description; lists joined; offers combined."""
    values = {}
    for field in _TEXT_FIELDS:
        values[field] = getattr(keep, field) or getattr(drop, field)
    if len(drop.description or "") > len(keep.description or ""):
        values["description"] = drop.description
    values["location"] = keep.location if keep.location is not None else drop.location
    values["employees"] = keep.employees if keep.employees is not None else drop.employees
    values["offers_apprenticeships"] = keep.offers_apprenticeships or drop.offers_apprenticeships
    values["offers_internships"] = keep.offers_internships or drop.offers_internships
    values["open_positions"] = max(keep.open_positions or 0, drop.open_positions or 0)
    values["languages"] = sorted(set(keep.languages or []) | set(drop.languages or []))
    values["sectors"] = _union(keep.sectors, drop.sectors, "code")
    values["occupations"] = _union(keep.occupations, drop.occupations, "code")
    values["family_criteria"] = _union(keep.family_criteria, drop.family_criteria, "key")
    values["apprenticeships"] = [
        {"code": row.code, "places": row.places}
        for row in _union(keep.apprenticeships, drop.apprenticeships, "code")
    ]
    return values


def _union(first, second, key):
    seen = {getattr(item, key) for item in first}
    return list(first) + [item for item in second if getattr(item, key) not in seen]


@rolls_back_when_refused
def merge(
    keep: Company,
    drop: Company,
    actor,
    *,
    keep_version: int | None = None,
    drop_version: int | None = None,
) -> None:
    """Merge ``drop`` into ``keep``: richer data kept, consent records moved, ``drop`` archived
    with a pointer to ``keep``; both audit histories stay and are linked by the merge records.

    Refused (CurationError, EditConflict) with its transaction rolled back."""

    if keep.id == drop.id:
        raise CurationError(_("Ein Eintrag kann nicht mit sich selbst zusammengeführt werden."))
    lock(keep, drop)
    if drop.merged_into_id is not None or keep.merged_into_id is not None:
        raise CurationError(_("Einer der Einträge wurde schon zusammengeführt."))
    check_version(keep, keep_version)
    try:
        check_version(drop, drop_version)
    except EditConflict:
        raise EditConflict(keep, audit.snapshot(keep)) from None
    keep_before, drop_before = audit.snapshot(keep), audit.snapshot(drop)
    for field, value in merged_values(keep, drop).items():
        setattr(keep, field, value)
    names = {c.name for c in keep.certificates}
    for certificate in drop.certificates:
        if certificate.name not in names:
            keep.certificates.append(
                FamilyCertificate(name=certificate.name, valid_until=certificate.valid_until)
            )
    for record in db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.company_id == drop.id)
    ):
        record.company_id = keep.id
    drop.status = CompanyStatus.ARCHIVED
    drop.merged_into_id = keep.id
    owner_links.renew(drop)
    touch(keep)
    flush_or_conflict(keep)
    audit.record(
        "merge", keep, actor=actor, before=keep_before, after=audit.snapshot(keep),
        note=f"#{drop.id} {drop.name}",
    )  # fmt: skip
    audit.record(
        "merged_into", drop, actor=actor, before=drop_before, after=audit.snapshot(drop),
        note=f"#{keep.id} {keep.name}",
    )  # fmt: skip
    commit_or_conflict(keep)
