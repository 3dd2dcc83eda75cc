"""The shortlist (Merkliste) page: the public rows a shortlist's address names.

The list itself lives on the visitor's device; its address names employers and events by slug
(``/merkliste?arbeitgeber=a,b&veranstaltungen=c``). Only published employers and published
events are returned, in the order the address names them; every other slug (unknown,
unpublished, malformed) is only counted, never named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.extensions import db
from app.features import events as event_features
from app.features.employers import EMPLOYERS
from app.models import Company, CompanyStatus, Event, EventStatus

#: What a slug looks like (see :func:`app.services.slugs.slugify`).
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,199}")
#: At most this many entries of each kind are looked up (the device keeps at most 200 in all).
LIMIT = 200


@dataclass(frozen=True)
class Entry:
    """A public row on the shortlist: the company or event, and its point (lon, lat) or None."""

    row: Company | Event
    point: tuple[float, float] | None


@dataclass(frozen=True)
class Shortlist:
    """The employers and events found, and how many named entries were not."""

    employers: list[Entry] = field(default_factory=list)
    events: list[Entry] = field(default_factory=list)
    missing: int = 0

    @property
    def empty(self) -> bool:
        return not (self.employers or self.events)


def parse_slugs(value: str | None) -> list[str]:
    """The comma-separated slugs of an address parameter, each once, in their order."""
    slugs: list[str] = []
    for part in (value or "").split(","):
        slug = part.strip()
        if slug and slug not in slugs:
            slugs.append(slug)
    return slugs


def _in_order(slugs: list[str], found: dict[str, Entry]) -> list[Entry]:
    return [found[slug] for slug in slugs if slug in found]


def published_employers(slugs: list[str]) -> list[Entry]:
    """The published companies among ``slugs`` with their points, in the order of ``slugs``."""
    valid = [slug for slug in slugs if SLUG.fullmatch(slug)][:LIMIT]
    if not valid:
        return []
    query = EMPLOYERS.with_details(
        select(Company, func.ST_X(Company.location), func.ST_Y(Company.location)).where(
            Company.slug.in_(valid), Company.status == CompanyStatus.PUBLISHED
        )
    )
    found = {
        company.slug: Entry(company, (lon, lat) if lon is not None else None)
        for company, lon, lat in db.session.execute(query)
    }
    return _in_order(valid, found)


def published_events(slugs: list[str]) -> list[Entry]:
    """The published events among ``slugs`` (past and cancelled ones too: the page says so),
    with their points (None for online-only ones), in the order of ``slugs``."""
    valid = [slug for slug in slugs if SLUG.fullmatch(slug)][:LIMIT]
    if not valid:
        return []
    query = select(Event).where(Event.slug.in_(valid), Event.status == EventStatus.PUBLISHED)
    found = {
        event.slug: Entry(event, event_features.location_of(event))
        for event in db.session.scalars(query)
    }
    return _in_order(valid, found)


def resolve(employer_slugs: list[str], event_slugs: list[str]) -> Shortlist:
    """The public rows of a shortlist's address, and the count of those left out."""
    employers = published_employers(employer_slugs)
    events = published_events(event_slugs)
    missing = len(employer_slugs) + len(event_slugs) - len(employers) - len(events)
    return Shortlist(employers, events, missing)
