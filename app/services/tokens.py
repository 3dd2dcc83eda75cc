"""Signed, purpose-bound, expiring links (itsdangerous), revocable by a generation number."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

#: Purposes and how long their links live, in days.
#: "confirm" outlives the three months an owner has to answer a freshness reminder;
#: "registration" (an event registration's cancellation link) outlives any event one can
#: register for in advance; "alert_confirm" (a job alert's double opt-in) lives as long as an
#: unconfirmed alert is kept; "alert" (unsubscribing, changing the search) outlives a year of
#: weekly mails (each mail carries a fresh one).
PURPOSES = {
    "resume": 30,
    "edit": 90,
    "confirm": 120,
    "registration": 400,
    "alert_confirm": 7,
    "alert": 400,
}


class TokenInvalid(Exception):
    """The link was tampered with, meant for something else, or revoked."""


class TokenExpired(TokenInvalid):
    """The link was genuine but is too old."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"kmu-atlas-{purpose}")


def make_token(purpose: str, subject_id: int, generation: int) -> str:
    """A link token for ``purpose`` naming ``subject_id`` at revocation ``generation``."""
    return _serializer(purpose).dumps([subject_id, generation])


def read_token(purpose: str, token: str) -> tuple[int, int]:
    """(subject_id, generation) from a token; TokenExpired or TokenInvalid if it is not good."""
    try:
        subject_id, generation = _serializer(purpose).loads(
            token, max_age=PURPOSES[purpose] * 24 * 3600
        )
    except SignatureExpired:
        raise TokenExpired from None
    except (BadSignature, ValueError, TypeError):
        raise TokenInvalid from None
    if not isinstance(subject_id, int) or not isinstance(generation, int):
        raise TokenInvalid
    return subject_id, generation
