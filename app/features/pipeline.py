"""One pipeline for every feature source: filter parsing, counts, map data with clusters, the
list with paging and sorting, exports and the declarations the browser gets. Each function
takes ``(source, filter)``; nothing here knows what an employer is."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, func, literal, select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.features import source as registry
from app.features import spatial
from app.features.filters import FeatureFilter, ParseContext, Place, parse
from app.features.source import FeatureSource


def parse_filter(
    source: FeatureSource, args: MultiDict, resolve_place: Callable[[str], Place | None]
) -> FeatureFilter:
    """The source's filter from a query string; FilterError on a bad value."""
    context = ParseContext(source.vocabulary(), resolve_place)
    return parse(args, source.parameters, context, make=source.make_filter)


def matching(source: FeatureSource, f: FeatureFilter, *, use_view: bool = True) -> Select:
    """The source's public rows that pass the filter (and lie in its bbox, if ``use_view``)."""
    return spatial.apply(source.query(f), source, f, registry.registered(), use_view=use_view)


def count(source: FeatureSource, f: FeatureFilter, *, use_view: bool = True) -> int:
    """How many public features pass the filter."""
    subquery = matching(source, f, use_view=use_view).with_only_columns(source.id_column)
    return db.session.scalar(select(func.count()).select_from(subquery.subquery()))


@dataclass(frozen=True)
class MapSettings:
    """When the map data are aggregated: above ``threshold`` features in view, below
    ``max_zoom``; ``default_zoom`` and ``latitude`` stand in when a request gives no view."""

    threshold: int
    max_zoom: int
    default_zoom: int
    latitude: float
    #: At most this many single features in one response (clusters are not limited).
    limit: int = 500


def map_features(source: FeatureSource, f: FeatureFilter, settings: MapSettings) -> dict:
    """The map's data: a GeoJSON FeatureCollection of points, or of clusters where dense.

    ``total`` is the exact number of features in the view (the filter including the bbox);
    ``matched`` is the number without the bbox, which the list shows. At most
    ``settings.limit`` single features are sent; ``limited`` says when some were left out
    (the counts stay exact).
    """
    query = matching(source, f)
    total = count(source, f)
    matched = count(source, f, use_view=False) if f.bbox else total
    zoom = f.zoom if f.zoom is not None else settings.default_zoom
    clustered = total > settings.threshold and zoom < settings.max_zoom
    if clustered:
        latitude = (f.bbox[1] + f.bbox[3]) / 2 if f.bbox else settings.latitude
        features, limited = _cluster_features(source, query, f, zoom, latitude, settings.limit)
    else:
        shown = query.order_by(source.id_column).limit(settings.limit)
        features = _point_features(source, shown, f)
        limited = total > settings.limit
    return {
        "type": "FeatureCollection",
        "total": total,
        "matched": matched,
        "clustered": clustered,
        "limited": limited,
        "limit": settings.limit,
        "features": features,
    }


def _point_features(source: FeatureSource, query: Select, f: FeatureFilter) -> list[dict]:
    distance = spatial.distance_column(source.geometry, f)
    columns = [
        func.ST_X(source.geometry).label("_x"),
        func.ST_Y(source.geometry).label("_y"),
        (distance if distance is not None else literal(None)).label("_distance"),
    ]
    features = []
    for row in db.session.execute(source.with_details(query).add_columns(*columns)):
        properties = source.properties(row)
        if row._distance is not None:
            properties["distance_km"] = round(row._distance / 1000, 2)
        features.append(
            {
                "type": "Feature",
                "id": source.feature_id(row),
                "geometry": {"type": "Point", "coordinates": [round(row._x, 6), round(row._y, 6)]},
                "properties": properties,
            }
        )
    return features


def _cluster_features(
    source: FeatureSource, query: Select, f: FeatureFilter, zoom: int, latitude: float, limit: int
) -> tuple[list[dict], bool]:
    """Grid clusters with counts, and single features as points (at most ``limit`` of them);
    also whether single features were left out."""
    cells = spatial.grid_cells(query, source.geometry, source.id_column, zoom, latitude)
    features, singles = [], []
    for _, _, n, cx, cy, west, south, east, north, first_id in db.session.execute(cells):
        if n == 1:
            singles.append(first_id)
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(cx, 6), round(cy, 6)]},
                "properties": {
                    "cluster": True,
                    "count": n,
                    "bbox": [round(v, 6) for v in (west, south, east, north)],
                },
            }
        )
    if singles:
        shown = query.where(source.id_column.in_(singles)).order_by(source.id_column).limit(limit)
        features.extend(_point_features(source, shown, f))
    return features, len(singles) > limit


@dataclass(frozen=True)
class ListPage:
    """One page of the list: (row, distance in km or None) pairs and where it stands."""

    items: list[tuple]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def list_page(
    source: FeatureSource, f: FeatureFilter, sort: str, page: int, per_page: int = 20
) -> ListPage:
    """A page of the matching features (the bbox is ignored), by name or by distance. Each
    item is (result row, distance in km or None); the row is what ``properties`` takes."""
    query = source.with_details(matching(source, f, use_view=False))
    distance = spatial.distance_column(source.geometry, f)
    by_name = (*source.name_order, source.id_column)
    if distance is not None:
        query = query.add_columns(distance.label("_distance"))
        order = (distance, *by_name) if sort == "distance" else (*by_name, distance)
    else:
        query = query.add_columns(literal(None).label("_distance"))
        order = by_name
    total = count(source, f, use_view=False)
    rows = db.session.execute(
        query.order_by(*order).limit(per_page).offset((page - 1) * per_page)
    ).all()
    items = [(row, _km(row._distance)) for row in rows]
    return ListPage(items, total, page, per_page)


def _km(metres: float | None) -> float | None:
    return None if metres is None else round(metres / 1000, 2)


def browser_declarations(urls: Callable[[FeatureSource], dict]) -> list[dict]:
    """Every registered source as the page's ``data-config`` hands it to the browser: key,
    label, its URLs (``urls(source)``, built by the web layer), the CSS classes of its markers
    and its parameters."""
    return [
        {
            "key": source.key,
            "label": source.label(),
            **urls(source),
            "marker": source.marker,
            "parameters": [parameter.declaration() for parameter in source.parameters],
        }
        for source in registry.registered().values()
    ]
