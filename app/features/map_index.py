"""The employers' map data from the map index (migration 0012): counts, grid clusters and
points without scanning what the map does not need.

- Every employer filter is a condition on ``map_points`` (one narrow table): facets are tags
  (``tags && …`` for "any of", ``tags @> …`` for "all of", served by a GIN index), a place and
  radius is ``ST_DWithin`` on its geography index, proximity is a tag (``n:transit:500``) for
  a layer kind none of whose public features expires, else a lookup in ``map_nearby`` (the
  last public day per employer, kind and radius), the name search joins the companies for
  their full text.
- Where the filter is at most one tag (no filter, or one value of one parameter), the grid
  cells of the view come pre-aggregated from ``map_cells``: the cells that lie wholly in the view
  from the stored band at or above the zoom (cells of a band are nested in the coarser ones),
  the cells on the view's edge counted live from the points in the view. So clusters and
  counts stay exact, also for a view that cuts through cells.
- Point features are built from rows (no ORM objects): the same public properties as
  :func:`app.features.employers.public_properties`.
- When the process's tag bitmaps are of the current generation, a filter of tags is answered
  from them (:func:`_from_bitmaps`, :mod:`app.features.tag_bitmaps`) up to
  :data:`STORED_CELLS_FROM` employers of one tag in the view; the database paths above answer
  the rest and are the reference the bitmaps are tested against.

The database keeps the index up to date in the transaction of each change, so a response is
never older than the last publish. ``tests/integration/test_map_index.py`` compares it with the
employer query (:meth:`EmployerSource.query`) after inserts, updates, deletes, publishes and
merges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import (
    Integer,
    Text,
    and_,
    case,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.types import NullType

from app.extensions import db
from app.features import map_cache, spatial, tag_bitmaps
from app.features.employers import PUBLIC_FIELDS, EmployerFilter, text_condition
from app.models import (
    Company,
    CompanyApprenticeship,
    FamilyCriterion,
    LayerFeature,
    company_family_criteria,
    company_occupations,
    company_sectors,
)
from app.models.map_index import map_cells, map_nearby, map_points
from app.services import apprenticeships

#: The zoom levels whose cells ``map_cells`` stores (``atlas_map_bands()`` in migration 0012).
BANDS = (2, 5, 8, 11, 13)
#: One tag (or none) with more employers than this in the view: the zoom's cells wholly inside
#: the view come from the stored cells (``map_cells``), whose cost hardly grows with the
#: number, and only the view's edge from the tag bitmaps, whose cells cost about 6 ms per
#: 100,000 employers (in-process at 1,000,000: a state view of 920,000 took 57 ms from the
#: bitmaps alone, 24 from the database, 6-10 this way; one of 158,000 took 16 from the
#: bitmaps alone and 25 from the database).
STORED_CELLS_FROM = 200_000
#: A cell is 64 screen pixels wide: four to a 256-pixel tile.
CELL_PIXELS = 64

P = map_points.c


def cells_per_world(zoom: int) -> int:
    """How many cells span the world's width (and height) at ``zoom``."""
    return 2 ** (zoom + 2)


def mercator_x(lon: float) -> float:
    """Web Mercator x in [0, 1), as ``atlas_mx``."""
    return (lon + 180) / 360


def mercator_y(lat: float) -> float:
    """Web Mercator y in [0, 1) from the north, as ``atlas_my``."""
    lat = max(-85.05112878, min(85.05112878, lat))
    sin = math.sin(math.radians(lat))
    return 0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)


def longitude(x: float) -> float:
    """The longitude of Web Mercator x."""
    return x * 360 - 180


def latitude(y: float) -> float:
    """The latitude of Web Mercator y."""
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))


def tag_groups(f: EmployerFilter) -> list[tuple[str, list[str]]]:
    """The filter's facets as tag conditions: ("any", tags) or ("all", tags)."""
    groups = []

    def any_of(tags):
        if tags:
            groups.append(("any", sorted(tags)))

    any_of([f"s:{s}" for s in f.sections] + [f"d:{d}" for d in f.divisions])
    any_of([f"a:{a}" for a in f.areas] + [f"g:{g}" for g in f.groups])
    any_of([f"m:{m}" for m in f.municipalities])
    any_of([f"z:{s}" for s in f.sizes])
    if f.family:
        groups.append(("all", sorted(f"f:{key}" for key in f.family)))
    any_of([f"o:{o}" for o in f.offers])
    any_of([f"p:{code}" for code in f.apprenticeships])
    any_of([f"l:{code}" for code in f.languages])
    for kind, metres in f.proximity:
        if not expiring(kind):
            groups.append(("all", [f"n:{kind}:{metres}"]))
    return groups


def expiring(kind: str) -> bool:
    """Whether a public feature of the layer ``kind`` has a last day: then proximity to that
    kind is looked up in ``map_nearby`` (which follows the calendar), else it is a tag.

    Asked up to six times for one map answer, and the answer changes only with the map's
    generation (a layer feature changed) or the date: kept in the process for both."""
    generation, today = map_cache.state()
    known = _EXPIRING.get((generation, today))
    if known is None:
        _EXPIRING.clear()
        known = _EXPIRING[(generation, today)] = {}
    if kind not in known:
        query = select(
            exists().where(
                LayerFeature.kind == kind,
                LayerFeature.expires_on.is_not(None),
                LayerFeature.expires_on >= today,
            )
        )
        known[kind] = bool(db.session.scalar(query))
    return known[kind]


#: :func:`expiring`'s answers by (generation, date) and kind: one generation's at a time.
_EXPIRING: dict[tuple[int, object], dict[str, bool]] = {}


def single_tag(f: EmployerFilter) -> str | None:
    """The one tag the filter comes down to ("*" for no filter), or None: then the cells are
    counted live."""
    if f.text or f.near or any(expiring(kind) for kind, _ in f.proximity):
        return None
    groups = tag_groups(f)
    if not groups:
        return "*"
    if len(groups) == 1 and len(groups[0][1]) == 1:
        return groups[0][1][0]
    return None


def conditions(f: EmployerFilter, *, tag_index: bool = True) -> list:
    """The filter (without the view) as conditions on ``map_points``; the name search needs
    the companies joined (:func:`points`). Without ``tag_index`` the tags are tested row by
    row (for a few points the spatial index found: the planner would otherwise also read the
    tags' index, which for a common tag lists most of the employers)."""
    where = []
    no_index = func.array_cat(P.tags, literal([], ARRAY(Text)), type_=ARRAY(Text))
    column = P.tags if tag_index else no_index
    for kind, tags in tag_groups(f):
        tags = literal(tags, ARRAY(Text))
        where.append(column.overlap(tags) if kind == "any" else column.contains(tags))
    if f.near:
        where.append(
            func.ST_DWithin(
                spatial.as_geography(P.location), spatial.point(f.near.lon, f.near.lat), f.radius_m
            )
        )
    for kind, metres in f.proximity:
        if not expiring(kind):
            continue  # a tag (tag_groups)
        near = select(map_nearby.c.company_id).where(
            map_nearby.c.kind == kind,
            map_nearby.c.metres == metres,
            map_nearby.c.until >= func.current_date(),
        )
        where.append(P.company_id.in_(near))
    return where


def points(f: EmployerFilter, *, tag_index: bool = True):
    """``map_points`` (joined with the companies for a name search) and the conditions."""
    where = conditions(f, tag_index=tag_index)
    source = map_points
    if f.text and (condition := text_condition(f.text)) is not None:
        source = map_points.join(Company, Company.id == P.company_id)
        where.append(condition)
    return source, where


def envelope(west: float, south: float, east: float, north: float):
    return func.ST_MakeEnvelope(west, south, east, north, 4326)


def in_view(bbox: tuple[float, float, float, float], *boxes: tuple[float, float, float, float]):
    """The points in ``bbox`` (its edge included, as ``ST_Intersects`` decides it), found by
    the spatial index through ``boxes`` inside it (default: ``bbox`` itself). The index's
    ``&&`` compares float4-rounded boxes, so the coordinates are tested exactly once more;
    that is cheaper than ``ST_Intersects`` on every row (a town view's edge, 1,500 points:
    4 ms instead of 8)."""
    west, south, east, north = bbox
    found = [P.location.op("&&")(envelope(*box)) for box in boxes or (bbox,)]
    return and_(
        or_(*found) if len(found) > 1 else found[0],
        func.ST_X(P.location).between(west, east),
        func.ST_Y(P.location).between(south, north),
    )


#: Up to this many employers in a view (as the stored cells bound it), a filter of several
#: tags is tested on each point the spatial index finds; above it, the tags' GIN index is read,
#: whose cost does not shrink with the view (four common tags at 1,000,000 employers: about
#: 20 ms; testing each point costs about 2 µs, so 5,000 points take about 10 ms).
PER_ROW_LIMIT = 5_000


def few_in_view(f: EmployerFilter) -> bool:
    """Whether the view of ``f`` holds at most :data:`PER_ROW_LIMIT` employers, by the stored
    cells (all employers) of a band about as coarse as the view's zoom that touch it."""
    if f.bbox is None:
        return False
    zoom = f.zoom if f.zoom is not None else min(BANDS)
    band = max([b for b in BANDS if b <= zoom] or [min(BANDS)])
    size = cells_per_world(band)
    west, south, east, north = f.bbox
    c = map_cells.c
    query = select(func.coalesce(func.sum(c.n), 0)).where(
        c.band == band,
        c.tag == "*",
        c.cx.between(math.floor(mercator_x(west) * size), math.floor(mercator_x(east) * size)),
        c.cy.between(math.floor(mercator_y(north) * size), math.floor(mercator_y(south) * size)),
    )
    return int(db.session.scalar(query)) <= PER_ROW_LIMIT


@dataclass
class Cell:
    """A grid cell of the view: count, sums of the coordinates, extent and (when it holds one
    employer) that employer's id."""

    n: int
    sx: float
    sy: float
    west: float
    south: float
    east: float
    north: float
    only_id: int | None


@dataclass(frozen=True)
class View:
    """The view's cells at a zoom: the range of cells wholly inside the bbox (may be empty)."""

    zoom: int
    bbox: tuple[float, float, float, float] | None

    @property
    def size(self) -> int:
        return cells_per_world(self.zoom)

    def interior(self) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) of the cells wholly inside the view (all cells without a view)."""
        if self.bbox is None:
            return (0, 0, self.size - 1, self.size - 1)
        west, south, east, north = self.bbox
        x0 = math.ceil(mercator_x(west) * self.size)
        x1 = math.floor(mercator_x(east) * self.size) - 1
        y0 = math.ceil(mercator_y(north) * self.size)
        y1 = math.floor(mercator_y(south) * self.size) - 1
        return (x0, y0, x1, y1) if x0 <= x1 and y0 <= y1 else None

    def cell_bounds(self, cx: int, cy: int) -> tuple[float, float, float, float]:
        return (
            longitude(cx / self.size),
            latitude((cy + 1) / self.size),
            longitude((cx + 1) / self.size),
            latitude(cy / self.size),
        )


def _cell_index(column, zoom: int):
    return func.floor(column * cells_per_world(zoom))


Cells = dict[tuple[int, int], Cell]


def _stored_cells(view: View, tag: str, interior: tuple[int, int, int, int]) -> Cells:
    """The view's interior cells from ``map_cells``: the finest stored band at or above the
    zoom, its cells grouped into the zoom's cells."""
    band = min(b for b in BANDS if b >= view.zoom)
    x0, y0, x1, y1 = interior
    shift = band - view.zoom
    c = map_cells.c
    return _stored(
        view,
        band,
        c.tag == tag,
        c.cx.between(x0 << shift, ((x1 + 1) << shift) - 1),
        c.cy.between(y0 << shift, ((y1 + 1) << shift) - 1),
    )


def _stored_ring(view: View, tag: str, fine: tuple, interior: tuple | None) -> Cells:
    """The finest band's cells wholly inside the view (``fine``, in that band's cells) that
    are not in the zoom's ``interior`` cells, grouped into the zoom's cells: the view's edge,
    pre-aggregated down to a 64-pixel cell at the finest band's zoom."""
    band = max(BANDS)
    x0, y0, x1, y1 = fine
    c = map_cells.c
    where = [c.tag == tag, c.cx.between(x0, x1), c.cy.between(y0, y1)]
    if interior is not None:
        shift = band - view.zoom
        ix0, iy0, ix1, iy1 = interior
        where.append(
            not_(
                and_(
                    c.cx.between(ix0 << shift, ((ix1 + 1) << shift) - 1),
                    c.cy.between(iy0 << shift, ((iy1 + 1) << shift) - 1),
                )
            )
        )
    return _stored(view, band, *where)


def _stored(view: View, band: int, *where) -> Cells:
    """Stored cells of ``band`` that meet ``where``, grouped into the view's zoom's cells."""
    shift = band - view.zoom
    c = map_cells.c
    cx, cy = c.cx.op(">>")(shift), c.cy.op(">>")(shift)
    query = (
        select(
            cx.label("gx"),
            cy.label("gy"),
            func.sum(c.n),
            func.sum(c.sx),
            func.sum(c.sy),
            func.sum(c.sid),
        )
        .where(c.band == band, *where)
        .group_by(cx, cy)
    )
    cells = {}
    for cell_x, cell_y, n, sx, sy, sid in db.session.execute(query):
        west, south, east, north = view.cell_bounds(cell_x, cell_y)
        only = int(sid) if n == 1 else None
        cells[(cell_x, cell_y)] = Cell(int(n), sx, sy, west, south, east, north, only)
    return cells


def _live_cells(
    f: EmployerFilter, view: View, unit: View | None = None, inner=None, *, tag_index=True
) -> Cells:
    """The view's cells counted from the points: all of them (the tags through their index
    unless ``tag_index`` is false), or (with ``inner``, a range of ``unit``'s cells wholly
    inside the view) only the points outside those cells (the border strips: found through
    the spatial index, the filter tested on each)."""
    source, where = points(f, tag_index=tag_index and inner is None)
    if inner is not None and view.bbox is not None:
        x0, y0, x1, y1 = inner
        west, south, east, north = view.bbox
        size, margin = unit.size, 1e-9
        inner_west, inner_east = longitude(x0 / size), longitude((x1 + 1) / size)
        inner_north, inner_south = latitude(y0 / size), latitude((y1 + 1) / size)
        strips = (  # the view's edge as four boxes inside it (the spatial index finds their
            # points; the view's own box would give it every point of the view to sift)
            (west, south, inner_west + margin, north),
            (inner_east - margin, south, east, north),
            (west, inner_north - margin, east, north),
            (west, south, east, inner_south + margin),
        )
        where.append(in_view(view.bbox, *strips))
        ux, uy = _cell_index(P.mx, unit.zoom), _cell_index(P.my, unit.zoom)
        where.append(not_(and_(ux.between(x0, x1), uy.between(y0, y1))))
    elif view.bbox is not None:
        where.append(in_view(view.bbox))
    cx, cy = _cell_index(P.mx, view.zoom), _cell_index(P.my, view.zoom)
    query = _per_cell(source, where, cx, cy)
    return {
        (int(gx), int(gy)): Cell(n, sx, sy, west, south, east, north, first if n == 1 else None)
        for gx, gy, n, sx, sy, west, south, east, north, first in db.session.execute(query)
    }


def _per_cell(source, where: list, gx, gy):
    """Per cell (``gx``, ``gy``) of the points that meet ``where``: their count, the sums and
    the extent of their coordinates, and the smallest id."""
    x, y = func.ST_X(P.location), func.ST_Y(P.location)
    return (
        select(
            gx,
            gy,
            func.count(),
            func.sum(x),
            func.sum(y),
            func.min(x),
            func.min(y),
            func.max(x),
            func.max(y),
            func.min(P.company_id),
        )
        .select_from(source)
        .where(*where)
        .group_by(gx, gy)
    )


def _cells_and_matched(f: EmployerFilter, view: View) -> tuple[list[Cell], int]:
    """For a filter counted through the tags' index: the view's cells and the number of
    employers that pass ``f`` anywhere (``matched``), in one pass over them (two passes read
    the same index twice: four common tags at 1,000,000 employers, about 20 ms each)."""
    source, where = points(f)
    inside = in_view(view.bbox)
    gx = case((inside, _cell_index(P.mx, view.zoom)))  # NULL: outside the view
    gy = case((inside, _cell_index(P.my, view.zoom)))
    query = _per_cell(source, where, gx, gy)
    cells: Cells = {}
    matched = 0
    for cell_x, cell_y, n, sx, sy, west, south, east, north, first in db.session.execute(query):
        matched += n
        if cell_x is not None:
            only = first if n == 1 else None
            cells[(int(cell_x), int(cell_y))] = Cell(n, sx, sy, west, south, east, north, only)
    return _in_order(cells), matched


def _merged(*parts: Cells) -> list[Cell]:
    """The cells of ``parts``; a cell found in several (the view's edge: stored and live
    parts) summed, its extent the union."""
    cells: Cells = {}
    for part in parts:
        for key, cell in part.items():
            other = cells.get(key)
            if other is None:
                cells[key] = cell
                continue
            cells[key] = Cell(
                other.n + cell.n,
                other.sx + cell.sx,
                other.sy + cell.sy,
                min(other.west, cell.west),
                min(other.south, cell.south),
                max(other.east, cell.east),
                max(other.north, cell.north),
                None,
            )
    return _in_order(cells)


def _in_order(cells: Cells) -> list[Cell]:
    """The cells by position (so that merging them does not depend on the order in which the
    database found them, and the same data give the same answer)."""
    return [cells[key] for key in sorted(cells)]


def view_cells(f: EmployerFilter, zoom: int, *, few: bool | None = None) -> list[Cell]:
    """The grid cells (64 pixels at ``zoom``) of the employers that pass ``f`` in its view
    (everywhere without a bbox), with exact counts. For a filter of at most one tag: the
    cells wholly inside the view from the stored band at or above the zoom, the view's edge
    from the finest stored band down to its 64-pixel cells, the rest (a strip narrower than
    one of those along the view's border) counted from the points. ``few``:
    :func:`few_in_view`, when the caller has asked it already."""
    view = View(zoom, f.bbox)
    tag = single_tag(f)
    if tag is None or zoom > max(BANDS):
        few = few_in_view(f) if few is None else few
        return _in_order(_live_cells(f, view, tag_index=not few))
    interior = view.interior()
    if view.bbox is None:
        return _in_order(_stored_cells(view, tag, interior))
    finest = View(max(BANDS), view.bbox)
    fine = finest.interior()
    if fine is None:  # a view smaller than one cell of the finest band: a few points
        return _in_order(_live_cells(f, view, tag_index=False))
    stored = _stored_cells(view, tag, interior) if interior is not None else {}
    ring = _stored_ring(view, tag, fine, interior)
    return _merged(stored, ring, _live_cells(f, view, finest, fine))


def count(f: EmployerFilter, *, use_view: bool = True) -> int:
    """How many published employers pass ``f`` (in its bbox, if ``use_view``)."""
    tag = single_tag(f)
    if tag is not None and not (use_view and f.bbox):
        c = map_cells.c
        query = select(func.coalesce(func.sum(c.n), 0)).where(c.band == min(BANDS), c.tag == tag)
        return int(db.session.scalar(query))
    in_view_only = use_view and f.bbox is not None
    source, where = points(f, tag_index=not (in_view_only and few_in_view(f)))
    if in_view_only:
        where.append(in_view(f.bbox))
    return db.session.scalar(select(func.count()).select_from(source).where(*where))


def point_ids(f: EmployerFilter, limit: int) -> list[int]:
    """The ids of at most ``limit`` employers that pass ``f`` in its view, by id (asked for
    a view with few employers in it, or a street: the spatial index finds them, the filter is
    tested on each)."""
    source, where = points(f, tag_index=f.bbox is None)
    if f.bbox:
        where.append(in_view(f.bbox))
    query = select(P.company_id).select_from(source).where(*where)
    return list(db.session.scalars(query.order_by(P.company_id).limit(limit)))


def point_features(ids: list[int], f: EmployerFilter, *, marker: bool = False) -> list[dict]:
    """The employers ``ids`` as GeoJSON point features with their public properties, by id,
    from rows (no ORM objects); with ``marker``, only what a marker needs (id, slug, name and
    the distance from the filter's place: a street view's 500 employers in a quarter of the
    bytes and the time), without a place from the tag bitmaps where they are current."""
    if not ids:
        return []
    if marker:
        return _marker_features(ids, f)
    family = (
        select(
            func.array_agg(
                aggregate_order_by(
                    company_family_criteria.c.criterion_key, FamilyCriterion.position
                )
            )
        )
        .select_from(company_family_criteria)
        .join(FamilyCriterion, FamilyCriterion.key == company_family_criteria.c.criterion_key)
        .where(company_family_criteria.c.company_id == Company.id)
        .scalar_subquery()
    )
    trained = (
        select(
            func.coalesce(
                func.json_agg(
                    func.json_build_object(
                        "code", CompanyApprenticeship.code, "places", CompanyApprenticeship.places
                    )
                ),
                func.json_build_array(),
            )
        )
        .where(CompanyApprenticeship.company_id == Company.id)
        .scalar_subquery()
    )
    distance = spatial.distance_column(Company.location, f)
    # Arrays come as psycopg makes them (lists): without SQLAlchemy's per-item processing.
    columns = [_as_is(getattr(Company, name)) for name in PUBLIC_FIELDS]
    query = select(
        Company.id,
        *columns,
        _as_is(_sorted_codes(company_sectors.c.division_code)),
        _as_is(_sorted_codes(company_occupations.c.group_code)),
        _as_is(family),
        trained,
        func.ST_X(Company.location),
        func.ST_Y(Company.location),
        distance if distance is not None else literal(None),
    ).where(Company.id == func.any(literal(ids, ARRAY(Integer))))
    language = apprenticeships.current_language()
    index = apprenticeships.by_code()
    features = []
    for (
        company_id,
        *values,
        sectors,
        occupations,
        family_keys,
        trained_in,
        x,
        y,
        metres,
    ) in db.session.execute(query.order_by(Company.id)):
        properties = {"id": company_id, **dict(zip(PUBLIC_FIELDS, values, strict=True))}
        properties["sectors"] = sectors or []
        properties["occupations"] = occupations or []
        properties["family"] = family_keys or []
        properties["apprenticeships"] = apprenticeships.shown(trained_in, language, index)
        features.append(_point(company_id, x, y, properties, metres))
    return features


def _point(company_id: int, x: float, y: float, properties: dict, metres) -> dict:
    """A GeoJSON point feature; ``metres`` (from the filter's place, or None) as
    ``distance_km``."""
    if metres is not None:
        properties["distance_km"] = round(metres / 1000, 2)
    return {
        "type": "Feature",
        "id": company_id,
        "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]},
        "properties": properties,
    }


#: What markers show, without a distance (a plain statement: the hot path of a view's
#: single employers, without the ORM's columns).
_MARKERS = text(
    "SELECT id, slug, name, ST_X(location), ST_Y(location) FROM companies"
    " WHERE id = ANY(:ids) ORDER BY id"
)


def _marker_features(ids: list[int], f: EmployerFilter) -> list[dict]:
    distance = spatial.distance_column(Company.location, f)
    if distance is None:
        snapshot = tag_bitmaps.current()
        points = snapshot.points(ids) if snapshot is not None else None
        if points is None:
            rows = db.session.execute(_MARKERS, {"ids": ids}).all()
        else:  # a street view's 500 markers, a town view's single ones: no row read
            rows = [(p.id, p.slug, p.name, p.x, p.y) for p in points]
        return [
            _point(company_id, x, y, {"id": company_id, "slug": slug, "name": name}, None)
            for company_id, slug, name, x, y in rows
        ]
    query = select(
        Company.id,
        _as_is(Company.slug),
        _as_is(Company.name),
        func.ST_X(Company.location),
        func.ST_Y(Company.location),
        distance,
    ).where(Company.id == func.any(literal(ids, ARRAY(Integer))))
    return [
        _point(company_id, x, y, {"id": company_id, "slug": slug, "name": name}, metres)
        for company_id, slug, name, x, y, metres in db.session.execute(query.order_by(Company.id))
    ]


def published_feature(company_id: int) -> dict | None:
    """The published employer ``company_id`` as a GeoJSON point feature with every public
    property (what a popup shows), or None when no published employer has that id."""
    found = db.session.scalar(select(P.company_id).where(P.company_id == company_id))
    if found is None:
        return None
    return point_features([found], EmployerFilter())[0]


def _as_is(column):
    """``column`` without SQLAlchemy's result processing (psycopg's values as they are)."""
    return type_coerce(column, NullType())


def _sorted_codes(column):
    """The company's codes in ``column``'s association table, sorted (NULL for none)."""
    table = column.table
    return (
        select(func.array_agg(aggregate_order_by(column, column)))
        .where(table.c.company_id == Company.id)
        .scalar_subquery()
    )


def map_data(f: EmployerFilter, settings) -> dict:
    """The map's data for the employers (what :func:`app.features.pipeline.map_features`
    answers, from the map index): points, or clusters where the view holds more than
    ``settings.threshold`` employers below ``settings.max_zoom``; exact ``total`` (in the view)
    and ``matched`` (without it); at most ``settings.limit`` single features, ``limited`` when
    some were left out."""
    from app.features.pipeline import _merge_overlapping, collection

    zoom = f.zoom if f.zoom is not None else settings.default_zoom
    marker = settings.properties == "marker"
    found = _from_bitmaps(f, zoom, settings) or _from_database(f, zoom, settings)
    cells, total, matched, ids = found
    if cells is not None and total > settings.threshold:
        return _clustered(cells, f, zoom, settings, total, matched, marker)
    if ids is None:
        ids = point_ids(f, settings.limit)
    features = point_features(ids, f, marker=marker)
    if f.zoom is not None and zoom < settings.max_zoom:
        features = _merge_overlapping(features, zoom)
    return collection(features, f, settings, total, matched, False, total > settings.limit)


def _from_database(f: EmployerFilter, zoom: int, settings) -> tuple:
    """(cells or None, total, matched, None) from the map index's tables: the view's cells
    below ``settings.max_zoom``, the employers in the view and those anywhere."""
    # Several tags in a view: one pass for cells and matched, unless the view holds few.
    live = zoom < settings.max_zoom and f.bbox is not None and single_tag(f) is None
    few = live and few_in_view(f)
    if live and not few:
        cells, matched = _cells_and_matched(f, View(zoom, f.bbox))
        return cells, sum(cell.n for cell in cells), matched, None
    matched = count(f, use_view=False)
    if zoom < settings.max_zoom:
        cells = view_cells(f, zoom, few=few if live else None)
        return cells, sum(cell.n for cell in cells) if f.bbox else matched, matched, None
    return None, count(f) if f.bbox else matched, matched, None


def _clustered(cells: list[Cell], f, zoom: int, settings, total: int, matched: int, marker):
    """The answer of clusters (cells merged where their circles would overlap) and the
    employers alone in theirs."""
    from app.features.pipeline import _cluster_feature, _Group, collection, merge_close

    groups = [_Group(c.n, c.sx, c.sy, c.west, c.south, c.east, c.north, c.only_id) for c in cells]
    features, singles = [], []
    for group in merge_close(groups, zoom):
        if group.n == 1:
            singles.append(group.first_id)
        else:
            features.append(_cluster_feature(group))
    features += point_features(sorted(singles)[: settings.limit], f, marker=marker)
    limited = len(singles) > settings.limit
    return collection(features, f, settings, total, matched, True, limited)


def _from_bitmaps(f: EmployerFilter, zoom: int, settings) -> tuple | None:
    """For a filter of tags only (none, one or several), when this process's tag bitmaps are
    of the current generation (:mod:`app.features.tag_bitmaps`): (cells, total, matched,
    None) when the answer is clustered, else (None, total, matched, the first
    ``settings.limit`` employers in the view by id). One tag (or none) with more than
    :data:`STORED_CELLS_FROM` employers in a view the stored cells serve: the view's interior
    from the stored cells, its edge from the bitmaps. None: answer from the database (a name
    search, a place, proximity to features that expire; or one tag with that many employers
    and no view)."""
    if f.text or f.near or any(expiring(kind) for kind, _ in f.proximity):
        return None
    snapshot = tag_bitmaps.current()
    if snapshot is None:
        return None
    selected = snapshot.select(tag_groups(f))
    clustered = zoom < settings.max_zoom
    tag = single_tag(f) if clustered and zoom <= max(BANDS) else None
    stored = tag is not None
    if stored and f.bbox is None and len(selected) > STORED_CELLS_FROM:
        return None
    shown = snapshot.in_view(selected, f.bbox) if f.bbox else selected
    total = len(shown)
    if stored and total > STORED_CELLS_FROM:
        view = View(zoom, f.bbox)
        interior = view.interior()
        if interior is None:
            return None
        # The zoom's cells wholly inside the view from the stored cells, the rest of the
        # view (its edge, less than a cell wide) from the bitmaps: the same cells as
        # view_cells, without reading the finest band's cells across the view.
        edge = snapshot.keyed_cells(shown - snapshot.in_cells(interior, zoom), zoom)
        cells = _in_order({**_stored_cells(view, tag, interior), **edge})
        return cells, total, len(selected), None
    if clustered and total > settings.threshold:
        return snapshot.cells(shown, zoom), total, len(selected), None
    return None, total, len(selected), snapshot.smallest_ids(shown, settings.limit)
