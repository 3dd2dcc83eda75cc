"""Readable, unique URL names for entries: "Bäckerei Öztürk" in Marl -> baeckerei-oeztuerk-marl."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, select

from app.extensions import db
from app.models import Company


def slugify(text: str) -> str:
    """A URL-safe ASCII slug with German umlauts and ß spelled out."""
    text = text.lower()
    for umlaut, ascii_ in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, ascii_)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


#: First key of the transaction-level advisory locks that serialise slug choices.
SLUG_LOCK_NAMESPACE = 0x51A6
#: Slug families share this many locks (a power of two), so a large import holds a bounded
#: number of them.
SLUG_LOCK_BUCKETS = 256


def unique_slug(name: str, town: str, model=Company) -> str:
    """A slug from name and town that no row of ``model`` (an entry, or an event with its date
    for the town) has yet (a number is added when needed).

    Safe under concurrency: a transaction-level advisory lock on the slug's family is taken
    first and held until the caller's transaction ends, so a second transaction choosing a slug
    of the same family waits, then sees the first one's entry and takes the next number.
    """
    base = slugify(f"{name} {town}")[:140] or "eintrag"
    _lock_family(base)
    taken = set(db.session.scalars(select(model.slug).where(model.slug.like(f"{base}%"))))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def _lock_family(base: str) -> None:
    """Wait for, and hold until commit or rollback, the lock of ``base``'s slug family.

    The family is the base without trailing number parts: "mueller-marl-2" (a name that ends
    in a number) and "mueller-marl" can both produce "mueller-marl-2", so they share a lock.
    """
    family = re.sub(r"(-[0-9]+)+$", "", base)
    bucket = func.hashtext(family).op("&")(SLUG_LOCK_BUCKETS - 1)
    db.session.execute(select(func.pg_advisory_xact_lock(SLUG_LOCK_NAMESPACE, bucket)))
