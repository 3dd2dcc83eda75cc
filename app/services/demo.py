"""Load the fictional demo employers into the database, idempotently."""

from __future__ import annotations

from sqlalchemy import select

from app import demo_data
from app.extensions import db
from app.models import Company, CompanyStatus
from app.services import entries
from geodata.regions import Region

DEMO_SOURCE = "demo"
#: Entry fields a demo employer has under the same name.
_COPIED_FIELDS = (
    *entries.TEXT_FIELDS,
    "municipality_ags",
    "employees",
    "offers_apprenticeships",
    "offers_internships",
    "open_positions",
    "languages",
    "sectors",
    "occupations",
)


def seed_demo(region: Region, count: int = demo_data.DEFAULT_COUNT) -> int:
    """Insert the demo employers that are not in the database yet; return how many were added.

    Entries are matched by their demo reference, so running it again adds nothing and changes
    nothing that staff may have edited since.
    """
    existing = set(
        db.session.scalars(select(Company.source_ref).where(Company.source == DEMO_SOURCE))
    )
    missing = [e for e in demo_data.generate(region, count) if e.ref not in existing]
    if not missing:
        return 0
    classifications = entries.Classifications.load()
    if classifications.empty():
        raise RuntimeError("The taxonomies are not loaded: run `flask sync-reference` first.")
    for employer in missing:
        db.session.add(_build(employer, classifications))
    db.session.commit()
    return len(missing)


def _build(employer: demo_data.DemoEmployer, classifications: entries.Classifications) -> Company:
    """The entry of one demo employer, built by the write model like every other entry."""
    status = CompanyStatus(employer.status)
    certificate_name, valid_until = (employer.certificates or [(None, None)])[0]
    values = {
        **{name: getattr(employer, name) for name in _COPIED_FIELDS},
        "location": (employer.lon, employer.lat),
        "family_criteria": employer.family,
        "certificate_name": certificate_name,
        "certificate_valid_until": valid_until,
    }
    return entries.build(
        values,
        classifications=classifications,
        slug=employer.slug,
        status=status,
        source=DEMO_SOURCE,
        source_ref=employer.ref,
        created_at=employer.created_at,
        updated_at=employer.confirmed_at,
        confirmed_at=employer.confirmed_at,
        published_at=employer.confirmed_at if status is CompanyStatus.PUBLISHED else None,
    )
