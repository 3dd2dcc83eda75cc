"""The taxonomies as the filters and pages need them: codes, labels, in the interface language."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.i18n import current_language, iso_639_1_codes, language_name
from app.models import (
    FamilyCriterion,
    KldbArea,
    Municipality,
    WzSection,
)
from app.models.company import OFFERS, SIZES


@dataclass(frozen=True)
class Vocabulary:
    """The codes the employer filters accept (from the taxonomies and the region)."""

    sections: frozenset[str]
    divisions: frozenset[str]
    areas: frozenset[str]
    groups: frozenset[str]
    family: tuple[str, ...]
    municipalities: frozenset[str]
    languages: frozenset[str]


#: Every code the filters accept, in one statement (kind, code; family criteria in order).
_CODES = text(
    "SELECT 's', code, 0 FROM wz_sections UNION ALL SELECT 'd', code, 0 FROM wz_divisions"
    " UNION ALL SELECT 'a', code, 0 FROM kldb_areas UNION ALL SELECT 'g', code, 0 FROM kldb_groups"
    " UNION ALL SELECT 'f', key, position FROM family_criteria ORDER BY 1, 3, 2"
)


def vocabulary() -> Vocabulary:
    """Every code the filters accept (codes only, in one statement: this runs on every
    filtered request)."""
    region = current_app.config["REGION"]
    codes: dict[str, list[str]] = {kind: [] for kind in "sdagf"}
    for kind, code, _position in db.session.execute(_CODES):
        codes[kind].append(code)
    return Vocabulary(
        sections=frozenset(codes["s"]),
        divisions=frozenset(codes["d"]),
        areas=frozenset(codes["a"]),
        groups=frozenset(codes["g"]),
        family=tuple(codes["f"]),
        municipalities=frozenset(m.ags for m in region.municipalities),
        languages=iso_639_1_codes(),
    )


def languages_in_use(language: str | None = None) -> list[tuple[str, str]]:
    """(code, name) of the languages published employers speak, German first, then by name.

    Read from the map index's coarsest cells (a published employer always has a pin): their
    ``l:<code>`` tags are the languages with at least one employer, without a scan of every
    employer's list."""
    from app.features.map_index import BANDS
    from app.models.map_index import map_cells

    tag = map_cells.c.tag
    codes = db.session.scalars(
        select(func.substr(tag, 3))
        .where(map_cells.c.band == min(BANDS), tag.startswith("l:"))
        .distinct()
    )
    named = [(code, language_name(code, language)) for code in codes]
    return sorted(named, key=lambda item: (item[0] != "de", item[1]))


def size_labels() -> dict[str, str]:
    """Labels of the EU size classes in the interface language."""
    from flask_babel import gettext as _

    return {
        "micro": _("Kleinstunternehmen (unter 10 Beschäftigte)"),
        "small": _("Kleines Unternehmen (10 bis 49)"),
        "medium": _("Mittleres Unternehmen (50 bis 249)"),
        "large": _("Großunternehmen (ab 250)"),
    }


def offer_labels() -> dict[str, str]:
    """Labels of the offers in the interface language."""
    from flask_babel import gettext as _

    return {
        "apprenticeship": _("Ausbildungsplätze"),
        "internship": _("Praktika"),
        "jobs": _("Offene Stellen"),
    }


def catalogue(language: str | None = None) -> dict:
    """Everything the filters accept, with labels: the body of ``GET /api/taxonomies``."""
    language = language or current_language()
    sections = db.session.scalars(
        select(WzSection).options(selectinload(WzSection.divisions)).order_by(WzSection.code)
    )
    areas = db.session.scalars(select(KldbArea).options(selectinload(KldbArea.groups)))
    criteria = db.session.scalars(select(FamilyCriterion).order_by(FamilyCriterion.position))
    municipalities = db.session.scalars(
        select(Municipality)
        .where(Municipality.region_key == current_app.config["REGION"].key)
        .order_by(Municipality.name)
    )
    return {
        "language": language,
        "sectors": [
            {
                "code": s.code,
                "label": s.title(language),
                "divisions": [{"code": d.code, "label": d.title(language)} for d in s.divisions],
            }
            for s in sections
        ],
        "occupations": [
            {
                "code": a.code,
                "label": a.title(language),
                "groups": [{"code": g.code, "label": g.title(language)} for g in a.groups],
            }
            for a in sorted(areas, key=lambda a: (a.code == "0", a.code))
        ],
        "family": [{"code": c.key, "label": c.title(language)} for c in criteria],
        "sizes": [{"code": k, "label": v} for k, v in size_labels().items() if k in SIZES],
        "offers": [{"code": k, "label": v} for k, v in offer_labels().items() if k in OFFERS],
        "municipalities": [{"code": m.ags, "label": m.name} for m in municipalities],
        "languages": [
            {"code": code, "label": language_name(code, language)}
            for code in sorted(iso_639_1_codes())
        ],
    }
