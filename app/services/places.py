"""Finding places of the region: postal codes and town names to points."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, select

from app.extensions import db
from app.features.filters import Place
from app.models import Municipality, PostalCode

_POSTAL_CODE = re.compile(r"^\d{5}$")


def fold(text: str) -> str:
    """A comparison key for place names: case, umlauts, ß, accents and punctuation folded."""
    text = text.lower()
    for umlaut, ascii_ in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, ascii_)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text)


def resolve_place(query: str) -> Place | None:
    """A postal code or a town name of the region, as a point; None if unknown.

    A town name matches a municipality by its folded name, or by a unique beginning
    ("haltern" finds "Haltern am See").
    """
    query = query.strip()
    lon, lat = func.ST_X(PostalCode.point), func.ST_Y(PostalCode.point)
    if _POSTAL_CODE.match(query):
        row = db.session.execute(
            select(PostalCode.code, Municipality.name, lon, lat)
            .join(Municipality, PostalCode.municipality_ags == Municipality.ags)
            .where(PostalCode.code == query)
        ).first()
        return Place(row[2], row[3], f"{row[0]} {row[1]}", query) if row else None
    key = fold(query)
    if not key:
        return None
    rows = db.session.execute(
        select(
            Municipality.name, func.ST_X(Municipality.centroid), func.ST_Y(Municipality.centroid)
        )
    ).all()
    exact = [r for r in rows if fold(r[0]) == key]
    prefix = [r for r in rows if fold(r[0]).startswith(key)]
    match = exact or (prefix if len(prefix) == 1 else [])
    if not match:
        return None
    name, x, y = match[0]
    return Place(x, y, name, query)
