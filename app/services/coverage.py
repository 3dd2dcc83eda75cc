"""Coverage at a glance for the agency: counts by status, sector, size and municipality, the
family-friendly share, what waits for review or confirmation, and the coverage map.

The map is a folium choropleth of published entries per municipality when boundaries are loaded
(circles at the municipalities' centroids otherwise). Its colour scale is computed here and the
legend is rendered by our template: branca's colormap would load d3 from a CDN.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass

import folium
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from geoalchemy2 import functions as gfunc
from sqlalchemy import distinct, exists, func, or_, select

from app.extensions import db
from app.map import MapParts, configured_map
from app.models import (
    ChangeRequest,
    Company,
    CompanyStatus,
    Municipality,
    WzDivision,
    WzSection,
    company_family_criteria,
    company_sectors,
)
from app.models.company import SIZE_CLASSES
from app.services import curation, freshness, taxonomies

#: Sequential colours (ColorBrewer "Blues", 5 classes) for 1..max entries; grey for none.
PALETTE = ("#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
NONE_COLOUR = "#f0f0f0"
OUTLINE = "#333333"


@dataclass(frozen=True)
class Count:
    """A labelled number (a status, WZ section or size class)."""

    code: str | None
    label: str
    count: int


@dataclass(frozen=True)
class MunicipalityCount:
    """Published entries of one municipality, how many are family-friendly, where it is."""

    ags: str
    name: str
    published: int
    family_friendly: int
    lon: float
    lat: float
    has_boundary: bool

    @property
    def family_share(self) -> float | None:
        """Share (0..1) of family-friendly entries; None without entries."""
        return self.family_friendly / self.published if self.published else None


@dataclass(frozen=True)
class Step:
    """One class of the map's colour scale: ``low``..``high`` entries get ``colour``."""

    low: int
    high: int
    colour: str


@dataclass(frozen=True)
class Coverage:
    """Everything the dashboard shows."""

    statuses: list[Count]
    sections: list[Count]
    sizes: list[Count]
    municipalities: list[MunicipalityCount]
    pending_entries: int
    pending_changes: int
    freshness: freshness.FreshnessCounts

    @property
    def total(self) -> int:
        """All entries, whatever their status."""
        return sum(item.count for item in self.statuses)

    @property
    def published(self) -> int:
        """Published entries."""
        return next(s.count for s in self.statuses if s.code == CompanyStatus.PUBLISHED.value)

    @property
    def awaiting_review(self) -> int:
        """Pending entries plus pending change requests."""
        return self.pending_entries + self.pending_changes


_published = Company.status == CompanyStatus.PUBLISHED


def status_counts() -> list[Count]:
    """All entries by status (every status, zeros included)."""
    counts = dict(
        db.session.execute(select(Company.status, func.count()).group_by(Company.status)).all()
    )
    labels = curation.status_labels()
    return [Count(s.value, labels[s.value], counts.get(s, 0)) for s in CompanyStatus]


def section_counts(language: str = "de") -> list[Count]:
    """Published entries by WZ section (an entry with sectors in two sections counts in each),
    every section listed; last, those with no sector (code None)."""
    counts = dict(
        db.session.execute(
            select(WzDivision.section_code, func.count(distinct(Company.id)))
            .join(company_sectors, company_sectors.c.division_code == WzDivision.code)
            .join(Company, Company.id == company_sectors.c.company_id)
            .where(_published)
            .group_by(WzDivision.section_code)
        ).all()
    )
    sections = db.session.scalars(select(WzSection).order_by(WzSection.code))
    rows = [Count(s.code, s.title(language), counts.get(s.code, 0)) for s in sections]
    has_sector = exists().where(company_sectors.c.company_id == Company.id)
    without = db.session.scalar(select(func.count()).where(_published, ~has_sector))
    return [*rows, Count(None, _("ohne Angabe"), without)]


def size_counts() -> list[Count]:
    """Published entries by EU size class, smallest first; last, those with no head count."""
    counts = dict(
        db.session.execute(
            select(Company.size_class, func.count()).where(_published).group_by(Company.size_class)
        ).all()
    )
    labels = taxonomies.size_labels()
    rows = [Count(name, labels[name], counts.get(name, 0)) for name, _upper in SIZE_CLASSES]
    return [*rows, Count(None, _("ohne Angabe"), counts.get(None, 0))]


#: An entry belongs to a municipality by its point where the municipality has a stored boundary,
#: else by its ``municipality_ags`` (the same rule as the map's municipality filter).
_in_municipality = or_(
    Municipality.boundary.is_not(None)
    & func.ST_Intersects(Municipality.boundary, Company.location),
    Municipality.boundary.is_(None) & (Company.municipality_ags == Municipality.ags),
)


def municipality_counts() -> list[MunicipalityCount]:
    """Every municipality of the configured region (zeros included) with its published and
    family-friendly (at least one family criterion) entries, by name."""
    family = exists().where(company_family_criteria.c.company_id == Company.id)
    rows = db.session.execute(
        select(
            Municipality.ags,
            Municipality.name,
            func.count(Company.id).label("published"),
            func.count(Company.id).filter(family).label("family_friendly"),
            gfunc.ST_X(Municipality.centroid).label("lon"),
            gfunc.ST_Y(Municipality.centroid).label("lat"),
            Municipality.boundary.is_not(None).label("has_boundary"),
        )
        .outerjoin(Company, _in_municipality & _published)
        .where(Municipality.region_key == current_app.config["REGION"].key)
        .group_by(Municipality.ags)
        .order_by(Municipality.name)
    )
    return [MunicipalityCount(**row._asdict()) for row in rows]


def review_counts() -> tuple[int, int]:
    """(pending entries, pending change requests): what waits for the agency's review."""
    entries = db.session.scalar(select(func.count()).where(Company.status == CompanyStatus.PENDING))
    changes = db.session.scalar(select(func.count()).where(ChangeRequest.status == "pending"))
    return entries, changes


def overview(language: str = "de") -> Coverage:
    """All the dashboard's numbers."""
    pending_entries, pending_changes = review_counts()
    return Coverage(
        statuses=status_counts(),
        sections=section_counts(language),
        sizes=size_counts(),
        municipalities=municipality_counts(),
        pending_entries=pending_entries,
        pending_changes=pending_changes,
        freshness=freshness.counts(),
    )


def colour_scale(maximum: int) -> list[Step]:
    """A fixed sequential scale for 0..``maximum`` entries: "none" first, then up to five
    classes of (nearly) equal width, each at least one entry wide."""
    steps = [Step(0, 0, NONE_COLOUR)]
    classes = min(len(PALETTE), maximum)
    for index in range(classes):
        low = index * maximum // classes + 1
        high = (index + 1) * maximum // classes
        spread = round(index * (len(PALETTE) - 1) / (classes - 1)) if classes > 1 else -1
        steps.append(Step(low, high, PALETTE[spread]))
    return steps


def colour_for(count: int, steps: list[Step]) -> str:
    """The colour of ``count`` on the scale ``steps``."""
    return next((step.colour for step in steps if step.low <= count <= step.high), steps[-1].colour)


def _tooltip_text(text: str) -> str:
    """Text safe for a folium tooltip: HTML-escaped, and no backtick, ``$`` or backslash (folium
    puts tooltips into a JavaScript template literal)."""
    escaped = html.escape(text)
    return escaped.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _label(item: MunicipalityCount) -> str:
    count = ngettext("%(num)d Eintrag", "%(num)d Einträge", item.published)
    return _tooltip_text(f"{item.name}: {count}")


def _boundaries() -> dict[str, dict]:
    """The region's municipality boundaries as GeoJSON geometries (simplified), by AGS."""
    rows = db.session.execute(
        select(
            Municipality.ags,
            func.ST_AsGeoJSON(func.ST_SimplifyPreserveTopology(Municipality.boundary, 0.0002), 6),
        ).where(
            Municipality.region_key == current_app.config["REGION"].key,
            Municipality.boundary.is_not(None),
        )
    )
    return {ags: json.loads(geometry) for ags, geometry in rows}


def _add_choropleth(atlas_map: folium.Map, items, boundaries, steps) -> None:
    features = [
        {
            "type": "Feature",
            "id": item.ags,
            "geometry": boundaries[item.ags],
            "properties": {
                "label": _label(item),
                "colour": colour_for(item.published, steps),
            },
        }
        for item in items
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=_("Einträge je Gemeinde"),
        style_function=lambda feature: {
            "fillColor": feature["properties"]["colour"],
            "color": OUTLINE,
            "weight": 1,
            "fillOpacity": 0.75,
        },
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
    ).add_to(atlas_map)


def _add_circles(atlas_map: folium.Map, items, steps, maximum: int) -> None:
    for item in items:
        radius = 4 if not item.published else 6 + 18 * math.sqrt(item.published / maximum)
        folium.CircleMarker(
            location=[item.lat, item.lon],
            radius=round(radius, 1),
            color=OUTLINE,
            weight=1,
            fill=True,
            fill_color=colour_for(item.published, steps),
            fill_opacity=0.8,
            tooltip=_label(item),
        ).add_to(atlas_map)


def coverage_map(municipalities: list[MunicipalityCount]) -> tuple[MapParts, list[Step]]:
    """The coverage map and its colour scale: municipalities with a boundary as a choropleth
    of published entries, the others (all, if no boundaries are loaded) as circles at their
    centroids, sized by the count. Only configuration and escaped names go into folium."""
    maximum = max((item.published for item in municipalities), default=0)
    steps = colour_scale(maximum)
    boundaries = _boundaries()
    shaped = [item for item in municipalities if item.ags in boundaries]
    others = [item for item in municipalities if item.ags not in boundaries]

    def add_layers(atlas_map) -> None:
        if shaped:
            _add_choropleth(atlas_map, shaped, boundaries, steps)
        _add_circles(atlas_map, others, steps, maximum)

    return configured_map(layers=add_layers), steps
