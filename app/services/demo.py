"""Load the fictional demo employers into the database, idempotently."""

from __future__ import annotations

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select

from app import demo_data
from app.extensions import db
from app.models import (
    Company,
    CompanyStatus,
    FamilyCertificate,
    FamilyCriterion,
    KldbGroup,
    WzDivision,
)
from geodata.regions import Region

DEMO_SOURCE = "demo"


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
    divisions = {d.code: d for d in db.session.scalars(select(WzDivision))}
    groups = {g.code: g for g in db.session.scalars(select(KldbGroup))}
    criteria = {c.key: c for c in db.session.scalars(select(FamilyCriterion))}
    if not divisions or not groups or not criteria:
        raise RuntimeError("The taxonomies are not loaded: run `flask sync-reference` first.")
    for employer in missing:
        status = CompanyStatus(employer.status)
        company = Company(
            slug=employer.slug,
            name=employer.name,
            description=employer.description,
            street=employer.street,
            house_number=employer.house_number,
            postal_code=employer.postal_code,
            town=employer.town,
            municipality_ags=employer.municipality_ags,
            location=from_shape(Point(employer.lon, employer.lat), srid=4326),
            website=employer.website,
            phone=employer.phone,
            email=employer.email,
            contact_name=employer.contact_name,
            contact_email=employer.contact_email,
            employees=employer.employees,
            offers_apprenticeships=employer.offers_apprenticeships,
            offers_internships=employer.offers_internships,
            open_positions=employer.open_positions,
            languages=employer.languages,
            status=status,
            source=DEMO_SOURCE,
            source_ref=employer.ref,
            created_at=employer.created_at,
            updated_at=employer.confirmed_at,
            confirmed_at=employer.confirmed_at,
            published_at=employer.confirmed_at if status is CompanyStatus.PUBLISHED else None,
            sectors=[divisions[code] for code in employer.sectors],
            occupations=[groups[code] for code in employer.occupations],
            family_criteria=[criteria[key] for key in employer.family],
            certificates=[
                FamilyCertificate(name=name, valid_until=until)
                for name, until in employer.certificates
            ],
        )
        db.session.add(company)
    db.session.commit()
    return len(missing)
