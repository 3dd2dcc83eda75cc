"""Readable, unique URL names for entries: "Bäckerei Öztürk" in Marl -> baeckerei-oeztuerk-marl."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select

from app.extensions import db
from app.models import Company


def slugify(text: str) -> str:
    """A URL-safe ASCII slug with German umlauts and ß spelled out."""
    text = text.lower()
    for umlaut, ascii_ in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, ascii_)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def unique_slug(name: str, town: str) -> str:
    """A slug from name and town that no entry has yet (a number is added when needed)."""
    base = slugify(f"{name} {town}")[:140] or "eintrag"
    taken = set(db.session.scalars(select(Company.slug).where(Company.slug.like(f"{base}%"))))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug
