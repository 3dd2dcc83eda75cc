"""Public queries on employers: only published entries, only their public fields."""

from __future__ import annotations

from geoalchemy2 import Geography
from sqlalchemy import Select, cast, func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Company, CompanyStatus

#: Fields of a company that may leave the server through a public page or API. The private
#: contact person (contact_name, contact_email) and workflow fields are deliberately absent.
PUBLIC_FIELDS = (
    "slug",
    "name",
    "description",
    "street",
    "house_number",
    "postal_code",
    "town",
    "municipality_ags",
    "website",
    "phone",
    "email",
    "employees",
    "size_class",
    "offers_apprenticeships",
    "offers_internships",
    "open_positions",
    "languages",
)


def published_companies() -> Select:
    """A query for published companies with their classifications loaded."""
    return (
        select(Company)
        .where(Company.status == CompanyStatus.PUBLISHED)
        .options(
            selectinload(Company.sectors),
            selectinload(Company.occupations),
            selectinload(Company.family_criteria),
        )
        .order_by(Company.name, Company.id)
    )


def within_radius(query: Select, lon: float, lat: float, radius_m: float) -> Select:
    """Narrow a company query to those within ``radius_m`` metres (on the ellipsoid)."""
    centre = cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), Geography)
    return query.where(func.ST_DWithin(cast(Company.location, Geography), centre, radius_m))


def public_properties(company: Company) -> dict:
    """The public fields of a company as JSON-ready properties (never the contact person)."""
    properties = {"id": company.id}
    properties.update({field: getattr(company, field) for field in PUBLIC_FIELDS})
    properties["sectors"] = [d.code for d in company.sectors]
    properties["occupations"] = [g.code for g in company.occupations]
    properties["family"] = [c.key for c in company.family_criteria]
    return properties


def feature_collection(query: Select | None = None) -> dict:
    """A GeoJSON FeatureCollection (RFC 7946, lon/lat) of the published companies."""
    query = published_companies() if query is None else query
    lon = func.ST_X(Company.location).label("lon")
    lat = func.ST_Y(Company.location).label("lat")
    rows = db.session.execute(query.add_columns(lon, lat)).all()
    features = [
        {
            "type": "Feature",
            "id": company.id,
            "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]},
            "properties": public_properties(company),
        }
        for company, x, y in rows
    ]
    return {"type": "FeatureCollection", "total": len(features), "features": features}
