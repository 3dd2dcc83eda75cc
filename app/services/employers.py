"""Employer pages: a published employer by slug and its point. The map, list, counts and
exports of employers go through the feature-source pipeline (:mod:`app.features`); the
employer source is :mod:`app.features.employers`.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.features import spatial
from app.features.employers import EMPLOYERS
from app.models import Company, CompanyStatus


def published_by_slug(slug: str) -> Company | None:
    """A published company by its slug, with its classifications; None if not public."""
    query = EMPLOYERS.with_details(
        select(Company).where(Company.slug == slug, Company.status == CompanyStatus.PUBLISHED)
    ).options(selectinload(Company.certificates), selectinload(Company.municipality))
    return db.session.scalar(query)


def location_of(company: Company) -> tuple[float, float]:
    """(lon, lat) of a company's point."""
    return db.session.execute(
        select(func.ST_X(Company.location), func.ST_Y(Company.location)).where(
            Company.id == company.id
        )
    ).one()


def published_companies() -> Select:
    """A query for all published companies (no filter)."""
    return EMPLOYERS.query(EMPLOYERS.empty_filter())


def within_radius(query: Select, lon: float, lat: float, radius_m: float) -> Select:
    """Narrow a company query to those within ``radius_m`` metres (on the ellipsoid)."""
    return spatial.within_radius(query, Company.location, lon, lat, radius_m)
