"""Employer pages: a published employer by slug and its point. The map, list, counts and
exports of employers go through the feature-source pipeline (:mod:`app.features`); the
employer source is :mod:`app.features.employers`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Float, Select, func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.features import spatial
from app.features.employers import EMPLOYERS
from app.features.layers import feature_properties, public_layer_features
from app.layers import LayerKind, layer_kinds
from app.models import Company, CompanyStatus, LayerFeature


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


#: The layer kinds whose nearest features an employer's page lists, and how many of each.
NEAREST_KINDS = ("childcare", "transit", "training")
NEAREST_COUNT = 3
#: The nearest features are found among this many candidates by the spatial index's KNN
#: order (distances on a sphere), then ordered by their distance on the ellipsoid.
NEAREST_CANDIDATES = 12
#: Sphere and ellipsoid distances differ by well under this factor (about 0.5 % at most).
SPHERE_MARGIN = 1.01
#: Housing offers within this many metres are counted on an employer's page.
HOUSING_KIND = "housing"
HOUSING_RADIUS_M = 2000


@dataclass(frozen=True)
class NearbyFeature:
    """A public layer feature near an employer, with its straight-line distance in metres."""

    name: str
    distance_m: float
    properties: dict


@dataclass(frozen=True)
class Surroundings:
    """What is around an employer: per configured kind (in ``NEAREST_KINDS`` order), its kind
    and the nearest public features, closest first; and the housing offers within 2 km."""

    nearest: list[tuple[LayerKind, list[NearbyFeature]]]
    housing_kind: LayerKind | None
    housing_count: int


def _nearest(key: str, there, here) -> list:
    """The :data:`NEAREST_COUNT` public features of kind ``key`` nearest to ``here`` (on the
    ellipsoid; ties by name and id). The spatial index's KNN order (on a sphere) gives
    :data:`NEAREST_CANDIDATES` candidates without measuring every feature of a state; they
    are exact when the farthest candidate lies beyond the chosen ones by more than the two
    distances can differ, else every feature of the kind is measured."""
    distance = func.ST_Distance(there, here)
    by_sphere = there.op("<->", return_type=Float)(here)
    candidates = db.session.execute(
        public_layer_features(key)
        .add_columns(distance.label("distance"), by_sphere.label("sphere"))
        .order_by(by_sphere)
        .limit(NEAREST_CANDIDATES)
    ).all()
    chosen = sorted(candidates, key=lambda row: (row.distance, row[0].name, row[0].id))
    chosen = chosen[:NEAREST_COUNT]
    if len(candidates) < NEAREST_CANDIDATES or (
        chosen and candidates[-1].sphere > chosen[-1].distance * SPHERE_MARGIN
    ):
        return chosen
    return db.session.execute(
        public_layer_features(key)
        .add_columns(distance.label("distance"))
        .order_by(distance, LayerFeature.name, LayerFeature.id)
        .limit(NEAREST_COUNT)
    ).all()


def surroundings(company: Company) -> Surroundings:
    """The nearest childcare facilities, transit stops and training providers of a company
    (straight-line distances on the ellipsoid, sorted, ties by name), and the number of
    housing offers within :data:`HOUSING_RADIUS_M` metres; expired features are left out,
    kinds that are not configured too."""
    kinds = layer_kinds()
    here = select(spatial.as_geography(Company.location)).where(Company.id == company.id)
    here = here.scalar_subquery()
    there = spatial.as_geography(LayerFeature.location)
    nearest = []
    for key in NEAREST_KINDS:
        if key not in kinds:
            continue
        rows = _nearest(key, there, here)
        nearest.append(
            (
                kinds[key],
                [
                    NearbyFeature(
                        row[0].name, float(row.distance), feature_properties(kinds[key], row[0])
                    )
                    for row in rows
                ],
            )
        )
    housing_count = 0
    if HOUSING_KIND in kinds:
        query = public_layer_features(HOUSING_KIND).where(
            func.ST_DWithin(there, here, HOUSING_RADIUS_M)
        )
        housing_count = db.session.scalar(
            select(func.count()).select_from(query.with_only_columns(LayerFeature.id).subquery())
        )
    return Surroundings(nearest, kinds.get(HOUSING_KIND), housing_count)
