"""Addresses to points for the questionnaire's pin.

Offline first: the postal code's point, which the project ships for the region. When the operator
sets NOMINATIM_URL, the server (never the visitor's browser) also asks that Nominatim for the
full address: at most one request per second from all app processes together (a pace kept in
the rate limits' storage, :mod:`app.pacing`), every answer cached in the database, and only an
answer inside the region is used.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

from flask import current_app

from app import pacing
from app.extensions import db
from app.models import GeocodeCache
from app.services import safe_fetch
from app.services.questionnaire import suggest_point
from app.services.region import in_region

log = logging.getLogger(__name__)
#: The largest Nominatim answer read (one result is well under 2 KB).
MAX_ANSWER_BYTES = 256 * 1024
#: The longest a lookup waits for its turn (Nominatim's policy: one request a second from the
#: whole site); after that the postal code's point serves.
MAX_WAIT_SECONDS = 5


def _throttle() -> bool:
    """Wait for the site's next turn to ask Nominatim: True when it came, False when it would
    take longer than :data:`MAX_WAIT_SECONDS`."""
    return pacing.pace("nominatim").wait(MAX_WAIT_SECONDS)


def _params(street: str, house_number: str, postal_code: str, town: str) -> dict[str, str]:
    """The query parameters of a Nominatim search for an address."""
    return {
        "street": f"{house_number} {street}".strip(),
        "postalcode": postal_code,
        "city": town,
        "countrycodes": "de",
        "format": "jsonv2",
        "limit": "1",
    }


def cache_key(street: str, house_number: str, postal_code: str, town: str) -> str:
    """The key under which the answer for an address is cached (e.g. to forget it when the
    business has its entry erased)."""
    return urlencode(sorted(_params(street, house_number, postal_code, town).items()))


def nominatim(street: str, house_number: str, postal_code: str, town: str):
    """(lon, lat) from the configured Nominatim, cached; None if unset, unknown or failing."""
    base = current_app.config.get("NOMINATIM_URL")
    if not base or not (street and postal_code):
        return None
    params = _params(street, house_number, postal_code, town)
    key = urlencode(sorted(params.items()))
    cached = db.session.get(GeocodeCache, key)
    if cached is not None:
        return (cached.lon, cached.lat) if cached.lon is not None else None
    if not _throttle():
        log.warning("Nominatim lookup skipped: too many lookups waiting for their turn")
        return None  # not cached: try again next time
    try:
        # Through the one guarded fetcher: an address resolving to an internal network is
        # refused unless the operator allowed it (FETCH_ALLOWED_NETWORKS).
        answer = safe_fetch.fetch(
            f"{base}/search?{urlencode(params)}",
            max_bytes=MAX_ANSWER_BYTES,
            timeout=5,
            accept="application/json",
            agent=current_app.config["NOMINATIM_USER_AGENT"],
        )
        results = json.loads(answer.content)
        point = (float(results[0]["lon"]), float(results[0]["lat"])) if results else None
    except (safe_fetch.FetchError, ValueError, KeyError, IndexError, TypeError) as exc:
        log.warning("Nominatim lookup failed: %s", exc)
        return None  # not cached: try again next time
    db.session.add(
        GeocodeCache(query=key, lon=point[0] if point else None, lat=point[1] if point else None)
    )
    db.session.commit()
    return point


def suggest(postal_code: str, street: str = "", house_number: str = "", town: str = ""):
    """The best first guess for the pin: (lon, lat, source) or None.

    ``source`` is ``address`` (Nominatim, inside the region) or ``postal_code``.
    """
    point = nominatim(street, house_number, postal_code, town)
    if point and in_region(*point):
        return (*point, "address")
    fallback = suggest_point(postal_code)
    return (*fallback, "postal_code") if fallback else None
