"""Public queries on employers: only published entries, only their public fields.

Every query goes through :func:`matching`, which applies the one filter contract
(:class:`app.filters.EmployerFilter`), so the map data, the list, the count and the exports
always describe the same set.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from geoalchemy2 import Geography
from sqlalchemy import Select, cast, exists, func, literal, literal_column, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.filters import EmployerFilter
from app.models import (
    Company,
    CompanyStatus,
    KldbGroup,
    WzDivision,
    company_family_criteria,
    company_occupations,
    company_sectors,
)

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
# The same folding as the database function atlas_fold (migration 0002).
_FOLD = str.maketrans("äöüàáâãåèéêëìíîïòóôõùúûçñýÿ", "aouaaaaaeeeeiiiioooouuucnyy")
_WORD = re.compile(r"[^\W_]+")
#: German collation for sorting names (ICU, available on every PostgreSQL built with ICU).
NAME_COLLATION = "de-x-icu"


def fold_for_search(text: str) -> str:
    """Fold text the way ``atlas_fold`` does in the database."""
    return text.lower().replace("ß", "ss").translate(_FOLD)


def text_query(text: str):
    """A German full-text query: every word must match, each also as a word beginning."""
    words = _WORD.findall(fold_for_search(text))
    if not words:
        return None
    terms = " & ".join(f"{word}:*" for word in words)
    return func.to_tsquery(literal_column("'german'::regconfig"), terms)


def point(lon: float, lat: float):
    """A WGS 84 point as a geography, for distances in metres on the ellipsoid."""
    return cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), Geography)


def within_radius(query: Select, lon: float, lat: float, radius_m: float) -> Select:
    """Narrow a company query to those within ``radius_m`` metres (on the ellipsoid)."""
    return query.where(
        func.ST_DWithin(cast(Company.location, Geography), point(lon, lat), radius_m)
    )


def _linked(code_column, codes):
    """The company is linked, through ``code_column``'s association table, to one of ``codes``."""
    table = code_column.table
    return exists().where(table.c.company_id == Company.id, code_column.in_(codes))


def matching(f: EmployerFilter, *, use_view: bool = True) -> Select:
    """Published companies that pass the filter (and lie in its bbox, if ``use_view``)."""
    query = select(Company).where(Company.status == CompanyStatus.PUBLISHED)
    if f.sections or f.divisions:
        divisions = select(WzDivision.code).where(
            or_(WzDivision.code.in_(f.divisions), WzDivision.section_code.in_(f.sections))
        )
        query = query.where(_linked(company_sectors.c.division_code, divisions))
    if f.areas or f.groups:
        groups = select(KldbGroup.code).where(
            or_(KldbGroup.code.in_(f.groups), KldbGroup.area_code.in_(f.areas))
        )
        query = query.where(_linked(company_occupations.c.group_code, groups))
    if f.municipalities:
        query = query.where(Company.municipality_ags.in_(f.municipalities))
    if f.near:
        query = within_radius(query, f.near.lon, f.near.lat, f.radius_m)
    if f.sizes:
        query = query.where(Company.size_class.in_(f.sizes))
    for key in sorted(f.family):  # all of them: one condition each
        query = query.where(_linked(company_family_criteria.c.criterion_key, [key]))
    if f.offers:
        offers = {
            "apprenticeship": Company.offers_apprenticeships.is_(True),
            "internship": Company.offers_internships.is_(True),
            "jobs": Company.open_positions > 0,
        }
        query = query.where(or_(*(offers[o] for o in sorted(f.offers))))
    if f.languages:
        query = query.where(Company.languages.overlap(sorted(f.languages)))
    if f.text and (tsquery := text_query(f.text)) is not None:
        query = query.where(Company.search_vector.op("@@")(tsquery))
    if use_view and f.bbox:
        query = query.where(Company.location.intersects(func.ST_MakeEnvelope(*f.bbox, 4326)))
    return query


def count(f: EmployerFilter, *, use_view: bool = True) -> int:
    """How many published companies pass the filter."""
    subquery = matching(f, use_view=use_view).with_only_columns(Company.id).subquery()
    return db.session.scalar(select(func.count()).select_from(subquery))


def distance_column(f: EmployerFilter):
    """Distance in metres from the filter's place, or None without a place."""
    if not f.near:
        return None
    return func.ST_Distance(cast(Company.location, Geography), point(f.near.lon, f.near.lat))


def public_properties(company: Company) -> dict:
    """The public fields of a company as JSON-ready properties (never the contact person)."""
    properties = {"id": company.id}
    properties.update({field: getattr(company, field) for field in PUBLIC_FIELDS})
    properties["sectors"] = [d.code for d in company.sectors]
    properties["occupations"] = [g.code for g in company.occupations]
    properties["family"] = [c.key for c in company.family_criteria]
    return properties


def _with_relations(query: Select) -> Select:
    return query.options(
        selectinload(Company.sectors),
        selectinload(Company.occupations),
        selectinload(Company.family_criteria),
    )


def _point_features(query: Select, f: EmployerFilter) -> list[dict]:
    distance = distance_column(f)
    columns = [func.ST_X(Company.location), func.ST_Y(Company.location)]
    if distance is not None:
        columns.append(distance)
    rows = db.session.execute(_with_relations(query).add_columns(*columns)).all()
    features = []
    for company, x, y, *rest in rows:
        properties = public_properties(company)
        if rest:
            properties["distance_km"] = round(rest[0] / 1000, 2)
        features.append(
            {
                "type": "Feature",
                "id": company.id,
                "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]},
                "properties": properties,
            }
        )
    return features


def cell_size(zoom: int, latitude: float, pixels: int = 64) -> tuple[float, float]:
    """Degrees of longitude and latitude that ``pixels`` screen pixels span at ``zoom``."""
    lon_step = pixels * 360 / (256 * 2**zoom)
    return lon_step, lon_step * math.cos(math.radians(latitude))


def _cluster_features(
    query: Select, f: EmployerFilter, zoom: int, latitude: float, limit: int
) -> tuple[list[dict], bool]:
    """Grid clusters with counts, and single employers as points (at most ``limit`` of them);
    also whether single employers were left out."""
    lon_step, lat_step = cell_size(zoom, latitude)
    x, y = func.ST_X(Company.location), func.ST_Y(Company.location)
    cells = (
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
            func.min(Company.id),
        )
        .group_by("gx", "gy")
        .order_by("gx", "gy")
    )
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
        shown = query.where(Company.id.in_(singles)).order_by(Company.id).limit(limit)
        features.extend(_point_features(shown, f))
    return features, len(singles) > limit


@dataclass(frozen=True)
class MapSettings:
    """When the map data are aggregated: above ``threshold`` employers in view, below
    ``max_zoom``; ``default_zoom`` and ``latitude`` stand in when a request gives no view."""

    threshold: int
    max_zoom: int
    default_zoom: int
    latitude: float
    #: At most this many single employers in one response (clusters are not limited).
    limit: int = 500


def map_features(f: EmployerFilter, settings: MapSettings) -> dict:
    """The map's data: a GeoJSON FeatureCollection of points, or of clusters where dense.

    ``total`` is the exact number of employers the features stand for (the filter including
    the bbox); ``matched`` is the number without the bbox, which the list shows. At most
    ``settings.limit`` single employers are sent; ``limited`` says when some were left out
    (the counts stay exact).
    """
    query = matching(f)
    total = count(f)
    matched = count(f, use_view=False) if f.bbox else total
    zoom = f.zoom if f.zoom is not None else settings.default_zoom
    clustered = total > settings.threshold and zoom < settings.max_zoom
    if clustered:
        latitude = (f.bbox[1] + f.bbox[3]) / 2 if f.bbox else settings.latitude
        features, limited = _cluster_features(query, f, zoom, latitude, settings.limit)
    else:
        features = _point_features(query.order_by(Company.id).limit(settings.limit), f)
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


@dataclass(frozen=True)
class ListPage:
    """One page of the list: (company, distance in km or None) pairs and where it stands."""

    items: list[tuple[Company, float | None]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def list_page(f: EmployerFilter, sort: str, page: int, per_page: int = 20) -> ListPage:
    """A page of the matching employers (the bbox is ignored), by name or by distance."""
    query = _with_relations(matching(f, use_view=False))
    distance = distance_column(f)
    by_name = (Company.name.collate(NAME_COLLATION), Company.id)
    if distance is not None:
        query = query.add_columns(distance)
        order = (distance, *by_name) if sort == "distance" else (*by_name, distance)
    else:
        query = query.add_columns(literal(None))
        order = by_name
    total = count(f, use_view=False)
    rows = db.session.execute(
        query.order_by(*order).limit(per_page).offset((page - 1) * per_page)
    ).all()
    items = [(company, None if d is None else round(d / 1000, 2)) for company, d in rows]
    return ListPage(items, total, page, per_page)


def published_by_slug(slug: str) -> Company | None:
    """A published company by its slug, with its classifications; None if not public."""
    query = _with_relations(
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
    return matching(EmployerFilter())
