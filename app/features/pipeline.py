"""One pipeline for every feature source: filter parsing, counts, map data with clusters, the
list with paging and sorting, exports and the declarations the browser gets. Each function
takes ``(source, filter)``; nothing here knows what an employer is."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from flask import current_app
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
    context = ParseContext(source.vocabulary, resolve_place)
    return parse(args, source.parameters, context, make=source.make_filter)


def matching(source: FeatureSource, f: FeatureFilter, *, use_view: bool = True) -> Select:
    """The source's public rows that pass the filter (and lie in its bbox, if ``use_view``)."""
    return spatial.apply(source.query(f), source, f, registry.registered(), use_view=use_view)


def count(source: FeatureSource, f: FeatureFilter, *, use_view: bool = True) -> int:
    """How many public features pass the filter (from the source's own index, if it has one:
    ``fast_count``)."""
    fast_count = getattr(source, "fast_count", None)
    if fast_count is not None:
        return fast_count(f, use_view=use_view)
    return count_rows(source, f, use_view=use_view)


def count_rows(source: FeatureSource, f: FeatureFilter, *, use_view: bool = True) -> int:
    """How many public features pass the filter, counted on the source's query."""
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
    #: "all" public properties per feature, or only what a "marker" needs
    #: (:data:`MARKER_PROPERTIES`; the map's own script asks for that and fetches an
    #: employer's properties when its popup opens).
    properties: str = "all"


#: What ``properties=marker`` keeps of a feature's properties: its id, the slug of its page,
#: its name or title (the marker's label) and, with a place, its distance.
MARKER_PROPERTIES = ("id", "slug", "name", "title", "distance_km")


def map_features(source: FeatureSource, f: FeatureFilter, settings: MapSettings) -> dict:
    """The map's data: a GeoJSON FeatureCollection of points, or of clusters where dense.

    ``total`` is the exact number of features in the view (the filter including the bbox);
    ``matched`` is the number without the bbox, which the list shows. At most
    ``settings.limit`` single features are sent; ``limited`` says when some were left out
    (the counts stay exact). ``clustered`` says that the grid was used; below ``max_zoom``,
    features whose markers would overlap at the requested zoom become a cluster either way
    (``merge_close``), so a request with a zoom may get a few clusters while not ``clustered``.
    With a place, ``place`` gives its centre, label and radius.

    With ``settings.properties == "marker"`` each point keeps only :data:`MARKER_PROPERTIES`.
    A source with an index of its own answers through its ``map_data(filter, settings)``
    (the employers: :mod:`app.features.map_index`), with the same fields, and builds its
    marker points itself.
    """
    map_data = getattr(source, "map_data", None)
    if map_data is not None:
        return map_data(f, settings)
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
        features = point_features(source, shown, f)
        limited = total > settings.limit
        if f.zoom is not None and zoom < settings.max_zoom:
            features = _merge_overlapping(features, zoom)
    if settings.properties == "marker":
        features = [_marker(feature) for feature in features]
    return collection(features, f, settings, total, matched, clustered, limited)


def collection(
    features: list[dict],
    f: FeatureFilter,
    settings: MapSettings,
    total: int,
    matched: int,
    clustered: bool,
    limited: bool,
) -> dict:
    """The map's answer: the features with the counts, and the searched place if any."""
    data = {
        "type": "FeatureCollection",
        "total": total,
        "matched": matched,
        "clustered": clustered,
        "limited": limited,
        "limit": settings.limit,
        "features": features,
    }
    if f.near:  # the searched circle, so that the map can draw and fit it
        data["place"] = {
            "lon": f.near.lon,
            "lat": f.near.lat,
            "label": f.near.label,
            "radius_km": f.radius_km,
        }
    return data


def _marker(feature: dict) -> dict:
    """``feature`` (a point, not a cluster) with only the properties a marker needs."""
    properties = feature["properties"]
    if properties.get("cluster"):
        return feature
    kept = {name: properties[name] for name in MARKER_PROPERTIES if name in properties}
    return {**feature, "properties": kept}


def to_json(data: dict) -> bytes:
    """A map answer as JSON, by orjson (a street view's 500 employers: about 0.5 ms, the
    standard library's encoder about 4 ms); keys in the order the app's JSON provider keeps,
    dates as it writes them."""
    options = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
    if current_app.json.sort_keys:
        options |= orjson.OPT_SORT_KEYS
    return orjson.dumps(data, default=current_app.json.default, option=options) + b"\n"


def point_features(source: FeatureSource, query: Select, f: FeatureFilter) -> list[dict]:
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


#: Markers and clusters are drawn this many screen pixels wide at most (tap targets are at least
#: 44 px; a cluster's count may make it a little wider). Two map items whose centres are closer
#: than this, horizontally and vertically, would overlap: they are merged into one cluster.
MARKER_PIXELS = 56


@dataclass
class _Group:
    """Features merged into one map item: their count, coordinate sums, extent and one id."""

    n: int
    sx: float
    sy: float
    west: float
    south: float
    east: float
    north: float
    first_id: object

    @property
    def lon(self) -> float:
        return self.sx / self.n

    @property
    def lat(self) -> float:
        return self.sy / self.n

    def absorb(self, other: _Group) -> None:
        self.n += other.n
        self.sx += other.sx
        self.sy += other.sy
        self.west, self.south = min(self.west, other.west), min(self.south, other.south)
        self.east, self.north = max(self.east, other.east), max(self.north, other.north)


def screen_pixels(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Web Mercator pixel coordinates of a point at ``zoom`` (256-pixel tiles, as Leaflet)."""
    scale = 256 * 2**zoom
    lat = max(-85.05112878, min(85.05112878, lat))
    x = (lon + 180) / 360 * scale
    sin = math.sin(math.radians(lat))
    y = (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * scale
    return x, y


def merge_close(groups: list[_Group], zoom: int, pixels: float = MARKER_PIXELS) -> list[_Group]:
    """Merge map items whose centres lie closer than ``pixels`` both horizontally and vertically
    at ``zoom`` (their markers would overlap), until no two do. Counts add up exactly; the
    largest come first.

    Largest first, each item joins the first kept item it overlaps. An item that grew moves
    (to its members' mean) and may then overlap another kept item: the two are merged, until
    it overlaps none. Only a moved item can come to overlap another, so when every item is
    placed, no two overlap, in one pass. Kept items are found through buckets twice
    ``pixels`` wide: an item looks into four of them, its own and the neighbours on the sides
    of the bucket's middle it lies on."""
    size = 2 * pixels
    kept: list[_Group | None] = []
    places: list[tuple[float, float]] = []
    buckets: dict[tuple[int, int], list[int]] = {}

    def first_near(gx: float, gy: float, skip: int = -1) -> int | None:
        """The first kept item (but ``skip``) closer than ``pixels`` to (gx, gy), or None."""
        bx, by = int(gx // size), int(gy // size)
        nx = bx - 1 if gx - bx * size < pixels else bx + 1
        ny = by - 1 if gy - by * size < pixels else by + 1
        first = None
        for bucket in ((bx, by), (nx, by), (bx, ny), (nx, ny)):
            for index in buckets.get(bucket, ()):
                if (first is None or index < first) and index != skip:
                    ox, oy = places[index]
                    if abs(gx - ox) < pixels and abs(gy - oy) < pixels:
                        first = index
        return first

    def place(index: int, gx: float, gy: float) -> None:
        places[index] = (gx, gy)
        buckets.setdefault((int(gx // size), int(gy // size)), []).append(index)

    def unplace(index: int) -> None:
        gx, gy = places[index]
        buckets[(int(gx // size), int(gy // size))].remove(index)

    for group in sorted(groups, key=lambda g: -g.n):
        gx, gy = screen_pixels(group.lon, group.lat, zoom)
        target = first_near(gx, gy)
        if target is None:
            kept.append(group)
            places.append((gx, gy))
            place(len(kept) - 1, gx, gy)
            continue
        while group is not None:  # absorb, move, and absorb what the move overlaps
            unplace(target)
            kept[target].absorb(group)
            place(target, *screen_pixels(kept[target].lon, kept[target].lat, zoom))
            other = first_near(*places[target], skip=target)
            group = None
            if other is not None:
                target, gone = min(target, other), max(target, other)
                unplace(gone)
                group, kept[gone] = kept[gone], None
    return sorted((group for group in kept if group is not None), key=lambda g: -g.n)


def _cluster_feature(group: _Group) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(group.lon, 6), round(group.lat, 6)]},
        "properties": {
            "cluster": True,
            "count": group.n,
            "bbox": [round(v, 6) for v in (group.west, group.south, group.east, group.north)],
        },
    }


def _merge_overlapping(features: list[dict], zoom: int) -> list[dict]:
    """Single features whose markers would overlap at ``zoom`` merged into clusters."""
    groups = []
    for index, feature in enumerate(features):
        lon, lat = feature["geometry"]["coordinates"]
        groups.append(_Group(1, lon, lat, lon, lat, lon, lat, index))
    merged = merge_close(groups, zoom)
    if len(merged) == len(features):
        return features
    clusters = [_cluster_feature(g) for g in merged if g.n > 1]
    singles = sorted(g.first_id for g in merged if g.n == 1)
    return clusters + [features[index] for index in singles]


def _cluster_features(
    source: FeatureSource, query: Select, f: FeatureFilter, zoom: int, latitude: float, limit: int
) -> tuple[list[dict], bool]:
    """Grid clusters with counts, and single features as points (at most ``limit`` of them);
    also whether single features were left out. Neighbouring cells (and single features) whose
    markers would overlap on screen are merged first (``merge_close``)."""
    cells = spatial.grid_cells(query, source.geometry, source.id_column, zoom, latitude)
    groups = [
        _Group(n, cx * n, cy * n, west, south, east, north, first_id)
        for _, _, n, cx, cy, west, south, east, north, first_id in db.session.execute(cells)
    ]
    features, singles = [], []
    for group in merge_close(groups, zoom):
        if group.n == 1:
            singles.append(group.first_id)
            continue
        features.append(_cluster_feature(group))
    if singles:
        shown = query.where(source.id_column.in_(singles)).order_by(source.id_column).limit(limit)
        features.extend(point_features(source, shown, f))
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


def suggestion(source: FeatureSource, f: FeatureFilter, total: int) -> str | None:
    """The "did you mean" for a text search that found ``total`` features: what the source's
    ``suggest(filter, total)`` proposes (from its public rows only), or None for a source
    without it."""
    suggest = getattr(source, "suggest", None)
    return suggest(f, total) if suggest is not None else None


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
            **(source.declaration_extras() if hasattr(source, "declaration_extras") else {}),
        }
        for source in registry.registered().values()
    ]
