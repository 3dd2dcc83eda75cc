"""Housing offers managed in the workspace: layer features of kind ``housing`` with an expiry
date. An expired offer stays in the workspace (marked) and leaves the public map by itself
(the layer source shows features whose ``expires_on`` is today or later, or unset)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import LayerFeature, StaffUser
from app.services import audit

KIND = "housing"
#: The offer's attributes kept in ``properties`` (the kind's fields, and the address).
PROPERTY_KEYS = ("address", "rooms", "rent", "available_from", "contact")


@dataclass(frozen=True)
class OfferValues:
    """An offer's values, checked by the form."""

    title: str
    lon: float
    lat: float
    expires_on: date
    address: str = ""
    rooms: str = ""
    rent: str = ""
    available_from: str = ""
    contact: str = ""


def offers() -> list[LayerFeature]:
    """Every housing offer, the ones that expire first first (expired ones included)."""
    return list(
        db.session.scalars(
            select(LayerFeature)
            .where(LayerFeature.kind == KIND)
            .order_by(LayerFeature.expires_on.asc().nulls_last(), LayerFeature.name)
        )
    )


def get_offer(offer_id: int) -> LayerFeature | None:
    """A housing offer by id, or None."""
    offer = db.session.get(LayerFeature, offer_id)
    return offer if offer is not None and offer.kind == KIND else None


def is_expired(offer: LayerFeature, today: date | None = None) -> bool:
    """Whether the offer's expiry date has passed."""
    return offer.expires_on is not None and offer.expires_on < (today or date.today())


def save_offer(
    values: OfferValues, actor: StaffUser, offer: LayerFeature | None = None
) -> LayerFeature:
    """Create an offer (``offer`` None) or change one; audited, committed."""
    created = offer is None
    if offer is None:
        offer = LayerFeature(kind=KIND, source="workspace")
        db.session.add(offer)
    offer.name = values.title[:300]
    offer.location = f"SRID=4326;POINT({values.lon!r} {values.lat!r})"
    offer.expires_on = values.expires_on
    offer.properties = {
        key: str(getattr(values, key)).strip()
        for key in PROPERTY_KEYS
        if str(getattr(values, key)).strip()
    }
    db.session.flush()
    audit.record(
        "housing_create" if created else "housing_update",
        None,
        actor=actor,
        note=_(
            "Wohnungsangebot %(id)d „%(title)s“, gültig bis %(date)s.",
            id=offer.id,
            title=offer.name,
            date=values.expires_on.isoformat(),
        ),
    )
    db.session.commit()
    return offer


def delete_offer(offer: LayerFeature, actor: StaffUser) -> None:
    """Delete an offer; audited, committed."""
    audit.record(
        "housing_delete",
        None,
        actor=actor,
        note=_("Wohnungsangebot %(id)d „%(title)s“ gelöscht.", id=offer.id, title=offer.name),
    )
    db.session.delete(offer)
    db.session.commit()
