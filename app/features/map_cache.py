"""Map answers of popular views, shared by every app process (the table ``map_cache``,
migration 0013).

Only unfiltered views are kept (the opening view, zooming and panning without a filter), and
only of sources whose public rows do not depend on the clock (``map_cacheable``: the
employers; not events, which end, or layers, whose features expire). The key is the source,
the view (bbox and zoom), the interface language, the region and the map settings. An answer
is stored under the ``map_generation`` read before it was computed and is served only while
that generation is the current one. Every transaction that changes an employer, its
classifications, a layer feature or a municipality raises the generation when it commits, so
a cached answer never predates a publish (``tests/integration/test_map_cache.py``). Answers
older than :data:`MAX_AGE` are not served either, and are removed when a newer one is stored.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

from flask import current_app
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app.extensions import db
from app.features.filters import FeatureFilter

#: Raised when the shape of a map answer changes, so that old answers are not served.
FORMAT = 1
#: Seconds an answer may be served (the generation already covers every data change).
MAX_AGE = 3600


def key(source, f: FeatureFilter, settings, language: str) -> str | None:
    """The cache key of a map answer, or None when it is not cached (switched off with
    ``MAP_CACHE``, a source that is not ``map_cacheable``, or a filter is set)."""
    if not current_app.config.get("MAP_CACHE", True) or not getattr(source, "map_cacheable", False):
        return None
    if f.active_count or f.proximity or f.near:
        return None
    parts = [
        FORMAT,
        source.key,
        current_app.config["REGION"].key,
        language,
        list(f.bbox) if f.bbox else None,
        f.zoom,
        [
            settings.threshold,
            settings.max_zoom,
            settings.default_zoom,
            settings.limit,
            settings.properties,
        ],
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def generation(connection=None) -> int:
    """The current generation of the map data (committed changes only), as ``connection``
    sees it, or as the session's transaction first saw it (:func:`state`)."""
    if connection is not None:
        return connection.scalar(text("SELECT generation FROM map_generation"))
    return state()[0]


_STATE = "map_cache.state"


def state() -> tuple[int, date]:
    """The generation of the map data and PostgreSQL's current date, read once in the
    session's transaction (a map answer asks for them up to three times; one round trip)."""
    known = db.session.info.get(_STATE)
    if known is None:
        row = db.session.execute(text("SELECT generation, current_date FROM map_generation"))
        known = db.session.info[_STATE] = tuple(row.one())
    return known


@event.listens_for(Session, "after_transaction_end")
def _forget_state(session, transaction) -> None:
    """A new transaction may see another generation: read it anew."""
    session.info.pop(_STATE, None)


def get(cache_key: str) -> bytes | None:
    """The stored answer for ``cache_key`` if it is of the current generation and fresh."""
    return db.session.scalar(
        text(
            "SELECT body FROM map_cache WHERE key = :key"
            " AND generation = (SELECT generation FROM map_generation)"
            " AND created_at > now() - make_interval(secs => :age)"
        ),
        {"key": cache_key, "age": MAX_AGE},
    )


def put(cache_key: str, computed_in: int, body: bytes) -> None:
    """Store ``body`` under ``cache_key`` as computed in generation ``computed_in`` (in its
    own transaction; answers of older generations or past their age are removed)."""
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "DELETE FROM map_cache WHERE generation < :generation"
                " OR created_at < now() - make_interval(secs => :age)"
            ),
            {"generation": computed_in, "age": MAX_AGE},
        )
        connection.execute(
            text(
                "INSERT INTO map_cache (key, generation, body) VALUES (:key, :generation, :body)"
                " ON CONFLICT (key) DO UPDATE SET generation = excluded.generation,"
                " body = excluded.body, created_at = now()"
                " WHERE map_cache.generation <= excluded.generation"
            ),
            {"key": cache_key, "generation": computed_in, "body": body},
        )


def answer(cache_key: str | None, compute) -> tuple[bytes, str]:
    """The answer for ``cache_key`` from the cache, else ``compute()`` (bytes), stored; and
    "hit", "miss" or "off" (no key)."""
    if cache_key is None:
        return compute(), "off"
    body = get(cache_key)
    if body is not None:
        return bytes(body), "hit"
    computed_in = generation()
    body = compute()
    put(cache_key, computed_in, body)
    return body, "miss"
