"""The shortlist page (Merkliste): the employers and events a visitor keeps on the device,
shown from the page's address as a list and a small map, printable and shareable.

``/merkliste?arbeitgeber=a,b&veranstaltungen=c`` shows the published ones of those entries; the
others are left out with a note saying how many. ``/merkliste`` alone has the page's script
read the device's list and open its address (without JavaScript the page explains why it
cannot show the list).
"""

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from app.features import events as event_features
from app.map import configured_map
from app.notifications import absolute_url
from app.services import event_vocabulary
from app.services import shortlist as shortlist_service

bp = Blueprint("shortlist", __name__)
#: The address parameter of each kind of entry (the same names as ``shortlist/store.js``).
PARAMETERS = {"employer": "arbeitgeber", "event": "veranstaltungen"}


def _entries_config(found: shortlist_service.Shortlist) -> list[dict]:
    """The entries for the page's script and map, numbered as on the page."""
    entries = []
    for kind, rows, endpoint in (
        ("employer", found.employers, "public.employer"),
        ("event", found.events, "events.detail"),
    ):
        for entry in rows:
            point = entry.point
            entries.append(
                {
                    "number": len(entries) + 1,
                    "type": kind,
                    "slug": entry.row.slug,
                    "name": entry.row.name if kind == "employer" else entry.row.title,
                    "url": url_for(endpoint, slug=entry.row.slug),
                    "lon": point[0] if point else None,
                    "lat": point[1] if point else None,
                }
            )
    return entries


def _labels() -> dict:
    """The texts the page's script shows, in the interface language."""
    return {
        "removed": _("„%(name)s“ ist nicht mehr auf der Merkliste.", name="{name}"),
        "nowEmpty": _("Ihre Merkliste ist jetzt leer."),
        "copied": _("Der Link ist kopiert. Sie können ihn jetzt einfügen und verschicken."),
        "copyByHand": _("Markieren und kopieren Sie den Link im Feld."),
        "shareTitle": _("Meine Merkliste im KMU-Atlas"),
        "imported": _("Die Einträge sind jetzt in Ihrer Merkliste."),
    }


@bp.get("/merkliste")
def page():
    """The shortlist of the address (published entries only), or the device's list."""
    slugs = {
        kind: shortlist_service.parse_slugs(request.args.get(name))
        for kind, name in PARAMETERS.items()
    }
    requested = any(slugs.values())
    found = shortlist_service.resolve(slugs["employer"], slugs["event"])
    entries = _entries_config(found)
    # The link to share: the entries shown (those no longer there are not passed on).
    shown = {kind: [e["slug"] for e in entries if e["type"] == kind] for kind in PARAMETERS}
    query = {PARAMETERS[kind]: ",".join(values) for kind, values in shown.items() if values}
    map_parts = configured_map() if any(e["lat"] is not None for e in entries) else None
    return render_template(
        "shortlist/page.html",
        requested=requested,
        shortlist=found,
        numbers={(e["type"], e["slug"]): e["number"] for e in entries},
        map=map_parts,
        share_url=absolute_url("shortlist.page", **query),
        kind_names=event_vocabulary.kinds(),
        event_dates=lambda event: event_features.dates_of(event)[:3],
        past=event_features.is_past,
        place_text=event_features.place_text,
        page_config={
            "mapName": map_parts.name if map_parts else None,
            "pageUrl": url_for("shortlist.page"),
            "entries": entries,
            "requested": requested,
            "labels": _labels(),
        },
    )
