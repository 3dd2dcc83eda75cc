"""What a page with the atlas map hands to its script in ``#atlas[data-config]``.

The start page (``atlas.js``) and the embedded map (``embed-map.js``) read the same settings:
the folium map's name, the data URLs, the labels, the employer vocabulary and the feature
sources' declarations. They are written here once.
"""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _

from app.features import pipeline
from app.features.source import FeatureSource
from app.i18n import current_language
from app.map import MapParts
from app.services import taxonomies


def source_urls(source: FeatureSource) -> dict:
    """Where the browser gets a source's map data and list, and its detail pages."""
    endpoint = getattr(source, "detail_endpoint", None)
    urls = {
        "mapUrl": url_for("api.feature_collection", key=source.key),
        "listUrl": url_for("api.feature_list", key=source.key),
        "detailUrl": url_for(endpoint, slug="__slug__") if endpoint else None,
    }
    if hasattr(source, "published_feature"):
        # One feature's properties, fetched when its popup opens (the map data then carry
        # only what the markers need: properties=marker). "__id__" stands for the id.
        urls["featureUrl"] = url_for("api.feature", key=source.key, feature_id=0)[:-1] + "__id__"
    return urls


def labels() -> dict[str, str]:
    """The texts the map's script shows, in the interface language ({n}-style placeholders)."""
    return {
        "countOne": _("1 Arbeitgeber gefunden"),
        "count": _("%(num)s Arbeitgeber gefunden", num="{n}"),
        "cluster": _("%(num)s Arbeitgeber hier – zum Vergrößern wählen", num="{n}"),
        "loadError": _(
            "Die Arbeitgeber konnten nicht geladen werden. Bitte versuchen Sie es erneut."
        ),
        "checkInput": _("Bitte prüfen Sie die Eingabe"),
        "phone": _("Telefon"),
        "email": _("E-Mail"),
        "website": _("Website"),
        "details": _("Details ansehen"),
        "detailsLoading": _("Angaben werden geladen …"),
        "detailsFailed": _(
            "Die Angaben konnten nicht geladen werden. Bitte versuchen Sie es noch einmal."
        ),
        "distance": _("%(km)s km entfernt", km="{km}"),
        "apprenticeship": _("Ausbildung"),
        "internship": _("Praktikum"),
        "jobsOne": _("1 offene Stelle"),
        "jobs": _("%(num)s offene Stellen", num="{n}"),
        "pickPoint": _("Tippen oder klicken Sie auf die Karte, um den Mittelpunkt zu wählen."),
        "page": _("Seite %(page)s von %(pages)s", page="{page}", pages="{pages}"),
        "previous": _("Vorherige Seite"),
        "next": _("Nächste Seite"),
        "activeFilters": _("%(num)s aktiv", num="{n}"),
        "noResults": _("Keine Arbeitgeber gefunden. Versuchen Sie es mit weniger Filtern."),
        "suggestion": _("Meinten Sie: %(suggestion)s?", suggestion="{suggestion}"),
        "legend": _("Legende"),
        "mapView": _("Kartenausschnitt"),
        "givenValue": _("„%(value)s“ (aus dem Link, ungültig)", value="{value}"),
        "searchArea": _(
            "Auf der Karte: Umkreis von %(km)s km um %(place)s", km="{km}", place="{place}"
        ),
        "family": _("Familienfreundlich"),
        "call": _("Anrufen"),
        "writeEmail": _("E-Mail schreiben"),
        "route": _("Route"),
        "fictional": _("Fiktives Beispiel (Demodaten)"),
    }


def atlas_config(map_parts: MapParts, *, page_url: str, family: list[dict], **extra) -> dict:
    """The ``data-config`` of a map page: ``page_url`` is the page the filter's address
    belongs to, ``family`` the family-friendliness criteria (code, label) of the catalogue;
    ``extra`` adds page-specific settings."""
    return {
        "mapName": map_parts.name,
        "mapUrl": url_for("api.employer_collection"),
        "listUrl": url_for("api.employer_list"),
        "outlineUrl": url_for("api.region_outline"),
        "pageUrl": page_url,
        "detailUrl": url_for("public.employer", slug="__slug__"),
        "language": current_language(),
        "labels": labels(),
        "sizes": taxonomies.size_labels(),
        "family": family,
        "sources": pipeline.browser_declarations(source_urls),
        "routeUrl": current_app.config["ROUTE_URL"],
        **extra,
    }
