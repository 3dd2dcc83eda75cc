"""Whether a point lies in the region: inside the stored municipality boundaries when there are
any (their union), else inside the region file's outline, else inside its configured bounds."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from geoalchemy2.shape import to_shape
from shapely import prepared, union_all
from shapely.geometry import Point
from sqlalchemy import exists, func, select

from app.extensions import db
from app.models import Municipality


def _bounds_test(lon: float, lat: float) -> bool:
    return current_app.config["REGION"].contains(lon, lat)


def _stored():
    return (
        Municipality.region_key == current_app.config["REGION"].key,
        Municipality.boundary.is_not(None),
    )


def in_region(lon: float, lat: float) -> bool:
    """True if the point (WGS 84) lies in the region: in one of the stored municipality
    boundaries when any are stored (index-backed), else in the region file's outline or,
    without one, within the configured bounds."""
    if not db.session.scalar(select(exists().where(*_stored()))):
        return _bounds_test(lon, lat)
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    return bool(
        db.session.scalar(
            select(exists().where(*_stored(), func.ST_Intersects(Municipality.boundary, point)))
        )
    )


def region_test() -> Callable[[float, float], bool]:
    """``in_region`` for many points (a file's rows): the union of the stored boundaries is
    loaded once and tested in memory; the region file's outline (or bounds) when none are
    stored."""
    stored = db.session.scalars(select(Municipality.boundary).where(*_stored()))
    shapes = [to_shape(boundary) for boundary in stored]
    if not shapes:
        return current_app.config["REGION"].contains
    area = prepared.prep(union_all(shapes))
    return lambda lon, lat: area.intersects(Point(lon, lat))
