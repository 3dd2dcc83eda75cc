"""The taxonomies as the filters and pages need them: codes, labels, in the interface language."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.i18n import current_language, iso_639_1_codes, language_name
from app.models import (
    FamilyCriterion,
    KldbArea,
    KldbGroup,
    Municipality,
    WzDivision,
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


def vocabulary() -> Vocabulary:
    """Every code the filters accept (codes only, read as rows: this runs on every filtered
    request)."""
    region = current_app.config["REGION"]
    return Vocabulary(
        sections=frozenset(db.session.scalars(select(WzSection.code))),
        divisions=frozenset(db.session.scalars(select(WzDivision.code))),
        areas=frozenset(db.session.scalars(select(KldbArea.code))),
        groups=frozenset(db.session.scalars(select(KldbGroup.code))),
        family=tuple(
            db.session.scalars(select(FamilyCriterion.key).order_by(FamilyCriterion.position))
        ),
        municipalities=frozenset(m.ags for m in region.municipalities),
        languages=iso_639_1_codes(),
    )


def languages_in_use(language: str | None = None) -> list[tuple[str, str]]:
    """(code, name) of the languages published employers speak, German first, then by name."""
    from app.models import Company, CompanyStatus

    codes = db.session.scalars(
        select(func.unnest(Company.languages).label("code"))
        .where(Company.status == CompanyStatus.PUBLISHED)
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
