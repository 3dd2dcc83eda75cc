"""schema.org descriptions (JSON-LD) of an employer's and an event's public page.

Both are built from what the public API already gives away: the sources' public properties
(:func:`app.features.employers.public_properties`, :func:`app.features.events.public_properties`),
never from a second list of fields, so the contact person and anything unpublished stay out.
An event's page shows a few fields the map's properties leave out (its description, address
parts, online link and organiser's website); those are read from the same published event the
page shows. The page's own address comes from the caller (services build no URLs), and the
template writes the dict with Flask's ``tojson``, which escapes ``<``, ``>``, ``&`` and ``'``.
"""

from __future__ import annotations

from app.features import events as event_features
from app.features.employers import public_properties as employer_properties
from app.models import Company, Event
from app.services import employers, ical

CONTEXT = "https://schema.org"
#: An event's ``attendance`` -> schema.org's attendance mode.
ATTENDANCE_MODES = {
    "on_site": "https://schema.org/OfflineEventAttendanceMode",
    "online": "https://schema.org/OnlineEventAttendanceMode",
    "hybrid": "https://schema.org/MixedEventAttendanceMode",
}
SCHEDULED = "https://schema.org/EventScheduled"
CANCELLED = "https://schema.org/EventCancelled"
IN_STOCK = "https://schema.org/InStock"
SOLD_OUT = "https://schema.org/SoldOut"


def web_address(value: str) -> str | None:
    """``value`` if it is an http(s) address (as the pages link them), else None."""
    value = (value or "").strip()
    return value if value.startswith(("https://", "http://")) else None


def _without_empty(data: dict) -> dict:
    """``data`` without keys whose value is None, "" or empty."""
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


def postal_address(*, street: str, postal_code: str, town: str) -> dict:
    """A schema.org PostalAddress in Germany (empty parts left out)."""
    return _without_empty(
        {
            "@type": "PostalAddress",
            "streetAddress": street.strip(),
            "postalCode": postal_code,
            "addressLocality": town,
            "addressCountry": "DE",
        }
    )


def coordinates(point: tuple[float, float] | None) -> dict | None:
    """GeoCoordinates of a (lon, lat) point, or None."""
    if point is None:
        return None
    lon, lat = point
    return {"@type": "GeoCoordinates", "latitude": round(lat, 6), "longitude": round(lon, 6)}


def employer(company: Company, *, url: str) -> dict:
    """A published employer as a schema.org LocalBusiness (an Organization with a place):
    name, description, its page ``url``, address, geo, head count, and the public phone, e-mail
    and website. Never the contact person."""
    properties = employer_properties(company)
    street = f"{properties['street']} {properties['house_number']}"
    employees = properties["employees"]
    return _without_empty(
        {
            "@context": CONTEXT,
            "@type": "LocalBusiness",
            "@id": f"{url}#organization",
            "name": properties["name"],
            "description": properties["description"],
            "url": url,
            "sameAs": [web_address(properties["website"])]
            if web_address(properties["website"])
            else None,
            "address": postal_address(
                street=street, postal_code=properties["postal_code"], town=properties["town"]
            ),
            "geo": coordinates(employers.location_of(company) if company.location else None),
            "numberOfEmployees": {"@type": "QuantitativeValue", "value": employees}
            if employees
            else None,
            "telephone": properties["phone"],
            "email": properties["email"],
        }
    )


def _event_location(event: Event, properties: dict, url: str) -> dict | list[dict]:
    """A Place (address and geo) for an event on site, a VirtualLocation for one online, both
    for a hybrid one. A cancelled event's online link is not given away (as on its page)."""
    place = _without_empty(
        {
            "@type": "Place",
            "name": event.venue or properties["place"],
            "address": postal_address(
                street=event.street, postal_code=event.postal_code, town=event.town
            ),
            "geo": coordinates(event_features.location_of(event)),
        }
    )
    online_url = None if event.cancelled else web_address(event.online_url)
    virtual = {"@type": "VirtualLocation", "url": online_url or url}
    attendance = properties["attendance"]
    if attendance == "online":
        return virtual
    if attendance == "hybrid":
        return [place, virtual]
    return place


def _offer(event: Event, properties: dict, url: str, *, booked_out: bool) -> dict:
    """The offer: free of charge (price 0 EUR) or with a fee (its note), and availability."""
    offer = {
        "@type": "Offer",
        "url": url,
        "availability": SOLD_OUT if booked_out else IN_STOCK,
    }
    if properties["free_of_charge"]:
        offer.update(price=0, priceCurrency="EUR")
    elif event.price_note:
        offer["description"] = event.price_note
    return offer


def event(event: Event, *, url: str, booked_out: bool = False) -> dict:
    """A published event as a schema.org Event: name, its (next) start and end with offset,
    status (scheduled or cancelled), attendance mode, location, organiser, offer,
    description and its page ``url``."""
    properties = event_features.public_properties(event)
    occurrence = event_features.next_occurrence(event)
    if occurrence is None:  # all over: the last dates the page shows
        shown = event_features.dates_of(event)
        occurrence = shown[-1] if shown else None
    if occurrence is None:
        occurrence = ical.Occurrence(event, ical.local(event.starts_at), ical.local(event.ends_at))
    organisation = event.organisation
    return _without_empty(
        {
            "@context": CONTEXT,
            "@type": "Event",
            "@id": f"{url}#event",
            "name": properties["title"],
            "description": event.description,
            "url": url,
            "startDate": occurrence.starts_at.isoformat(),
            "endDate": occurrence.ends_at.isoformat(),
            "eventStatus": CANCELLED if properties["cancelled"] else SCHEDULED,
            "eventAttendanceMode": ATTENDANCE_MODES.get(properties["attendance"]),
            "location": _event_location(event, properties, url),
            "organizer": _without_empty(
                {
                    "@type": "Organization",
                    "name": properties["organiser"],
                    "url": web_address(organisation.website) if organisation else None,
                }
            ),
            "offers": _offer(event, properties, url, booked_out=booked_out),
        }
    )
