"""Importing a full postal-code centroid file for the region (an operator's task)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.models import Municipality, PostalCode
from geodata.points import PostalCodePoint


@dataclass
class PostalCodeImport:
    """What an import did."""

    imported: int = 0
    outside: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _municipality_for(lon: float, lat: float, with_boundaries: bool) -> str | None:
    here = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    if with_boundaries:
        return db.session.scalar(
            select(Municipality.ags).where(func.ST_Contains(Municipality.boundary, here))
        )
    return db.session.scalar(
        select(Municipality.ags).order_by(func.ST_Distance(Municipality.centroid, here)).limit(1)
    )


def import_postal_codes(points: list[PostalCodePoint]) -> PostalCodeImport:
    """Insert or update the postal codes whose points lie in the region, all or nothing.

    A point is assigned to the municipality whose boundary contains it; without imported
    boundaries, to the nearest municipality centre inside the region's bounds.
    """
    report = PostalCodeImport()
    (west, south), (east, north) = current_app.config["REGION"].bounds
    with_boundaries = (
        db.session.scalar(select(func.count()).where(Municipality.boundary.is_not(None))) > 0
    )
    rows = {}
    for point in points:
        if not (west <= point.lon <= east and south <= point.lat <= north):
            report.outside.append(point.code)
            continue
        ags = _municipality_for(point.lon, point.lat, with_boundaries)
        if ags is None:
            report.outside.append(point.code)
            continue
        rows[point.code] = {
            "code": point.code,
            "municipality_ags": ags,
            "point": from_shape(Point(point.lon, point.lat), srid=4326),
        }
    if rows:
        statement = insert(PostalCode).values(list(rows.values()))
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=["code"],
                set_={
                    "municipality_ags": statement.excluded.municipality_ags,
                    "point": statement.excluded.point,
                },
            )
        )
    db.session.commit()
    report.imported = len(rows)
    return report
