"""Load the data the project ships (taxonomies, the region) into the database, idempotently."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.models import (
    FamilyCriterion,
    KldbArea,
    KldbGroup,
    Municipality,
    PostalCode,
    WzDivision,
    WzSection,
)
from geodata.regions import Region

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class SyncReport:
    """How many rows of each kind are now in the database after a sync."""

    counts: dict[str, int]

    def __str__(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in self.counts.items())


def read_data_file(name: str) -> dict:
    """Read one of the JSON data files the project ships in ``app/data``."""
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _upsert(model, rows: list[dict], key: str) -> None:
    if not rows:
        return
    stmt = insert(model).values(rows)
    updates = {c: stmt.excluded[c] for c in rows[0] if c != key}
    db.session.execute(stmt.on_conflict_do_update(index_elements=[key], set_=updates))


def sync_taxonomies() -> SyncReport:
    """Insert or update WZ 2008, KldB 2010 and the family criteria from ``app/data``."""
    wz = read_data_file("wz2008.json")
    kldb = read_data_file("kldb2010.json")
    family = read_data_file("family_criteria.json")

    def titles(item: dict) -> dict:
        return {"title_de": item["title_de"], "title_en": item["title_en"]}

    _upsert(WzSection, [{"code": s["code"], **titles(s)} for s in wz["sections"]], "code")
    _upsert(
        WzDivision,
        [
            {"code": d["code"], "section_code": s["code"], **titles(d)}
            for s in wz["sections"]
            for d in s["divisions"]
        ],
        "code",
    )
    _upsert(KldbArea, [{"code": a["code"], **titles(a)} for a in kldb["areas"]], "code")
    _upsert(
        KldbGroup,
        [
            {"code": g["code"], "area_code": a["code"], **titles(g)}
            for a in kldb["areas"]
            for g in a["groups"]
        ],
        "code",
    )
    _upsert(
        FamilyCriterion,
        [{"key": c["key"], "position": i, **titles(c)} for i, c in enumerate(family["criteria"])],
        "key",
    )
    db.session.commit()
    return SyncReport(
        {
            "WZ sections": len(wz["sections"]),
            "WZ divisions": sum(len(s["divisions"]) for s in wz["sections"]),
            "KldB areas": len(kldb["areas"]),
            "KldB groups": sum(len(a["groups"]) for a in kldb["areas"]),
            "family criteria": len(family["criteria"]),
        }
    )


def sync_region(region: Region) -> SyncReport:
    """Insert or update the region's municipalities and postal codes (boundaries are kept)."""
    _upsert(
        Municipality,
        [
            {
                "ags": m.ags,
                "name": m.name,
                "region_key": region.key,
                "centroid": from_shape(Point(m.lon, m.lat), srid=4326),
            }
            for m in region.municipalities
        ],
        "ags",
    )
    _upsert(
        PostalCode,
        [
            {
                "code": p.code,
                "municipality_ags": m.ags,
                "point": from_shape(Point(p.lon, p.lat), srid=4326),
            }
            for m in region.municipalities
            for p in m.postal_codes
        ],
        "code",
    )
    db.session.commit()
    return SyncReport(
        {
            "municipalities": len(region.municipalities),
            "postal codes": sum(len(m.postal_codes) for m in region.municipalities),
        }
    )


def taxonomies_loaded() -> bool:
    """Whether the taxonomies are in the database (the demo generator needs them)."""
    return db.session.scalar(select(WzDivision.code).limit(1)) is not None
