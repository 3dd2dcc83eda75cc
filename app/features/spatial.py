"""The spatial part of every source's query, written once: map view (bbox), place and radius,
proximity to the features of another source, distances, and the grid cells that clusters are
made of. Distances are measured on the ellipsoid (geography), in metres."""

from __future__ import annotations

import math

from geoalchemy2 import Geography
from sqlalchemy import Select, cast, func, literal, type_coerce

from app.features.filters import FeatureFilter


def as_geography(geometry):
    """``geometry`` as a geography, written ``geography(column)`` so that the expression
    indexes ``(location::geography)`` serve it (a cast with a type modifier, as
    ``CAST(… AS geography(GEOMETRY,-1))``, would not match them)."""
    return type_coerce(func.geography(geometry), Geography)


def point(lon: float, lat: float):
    """A WGS 84 point as a geography, for distances in metres on the ellipsoid."""
    return cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), Geography)


def within_radius(query: Select, geometry, lon: float, lat: float, radius_m: float) -> Select:
    """Narrow ``query`` to rows whose ``geometry`` lies within ``radius_m`` metres of a point."""
    return query.where(func.ST_DWithin(as_geography(geometry), point(lon, lat), radius_m))


def near_feature_of(source, other, metres: int):
    """A condition: within ``metres`` of some public feature of the source ``other``."""
    here, there = as_geography(source.geometry), as_geography(other.geometry)
    return (
        other.query(other.empty_filter())
        .with_only_columns(literal(1))
        .where(func.ST_DWithin(there, here, metres))
        .exists()
    )


def apply(query: Select, source, f: FeatureFilter, sources, *, use_view: bool = True) -> Select:
    """``query`` narrowed by the filter's place and radius, its proximity conditions (looked up
    in ``sources`` by key) and, if ``use_view``, its bbox."""
    if f.near:
        query = within_radius(query, source.geometry, f.near.lon, f.near.lat, f.radius_m)
    for key, metres in f.proximity:
        query = query.where(near_feature_of(source, sources[key], metres))
    if use_view and f.bbox:
        # ST_Intersects, not GeoAlchemy's ``intersects`` (the ``&&`` of float4-rounded boxes,
        # which takes in points up to about 40 cm outside the view).
        query = query.where(
            func.ST_Intersects(source.geometry, func.ST_MakeEnvelope(*f.bbox, 4326))
        )
    return query


def distance_column(geometry, f: FeatureFilter):
    """Distance in metres from the filter's place, or None without a place."""
    if not f.near:
        return None
    return func.ST_Distance(as_geography(geometry), point(f.near.lon, f.near.lat))


def cell_size(zoom: int, latitude: float, pixels: int = 64) -> tuple[float, float]:
    """Degrees of longitude and latitude that ``pixels`` screen pixels span at ``zoom``."""
    lon_step = pixels * 360 / (256 * 2**zoom)
    return lon_step, lon_step * math.cos(math.radians(latitude))


def grid_cells(query: Select, geometry, id_column, zoom: int, latitude: float) -> Select:
    """One row per grid cell of ``query``'s rows: cell, count, mean and extent of the points,
    and the smallest id (the feature itself when the cell holds one)."""
    lon_step, lat_step = cell_size(zoom, latitude)
    x, y = func.ST_X(geometry), func.ST_Y(geometry)
    return (
        query.with_only_columns(
            func.floor(x / lon_step).label("gx"),
            func.floor(y / lat_step).label("gy"),
            func.count().label("n"),
            func.avg(x),
            func.avg(y),
            func.min(x),
            func.min(y),
            func.max(x),
            func.max(y),
            func.min(id_column),
        )
        .group_by("gx", "gy")
        .order_by("gx", "gy")
    )
