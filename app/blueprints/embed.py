"""Embedding on partner websites: the builder page and the two pages other sites may frame.

``/einbetten`` lets anyone choose the employer map (with the employer filters and a layer to
switch on) or the event list (with the event filters) and copy an ``<iframe>`` snippet. The
snippet's address is built from the parsed filter's ``query_args()``, so a bad parameter gets
the filter's usual message. ``/einbetten/karte`` and ``/einbetten/veranstaltungen`` are the
minimal pages the snippet frames; only they may be framed (:mod:`app.security_headers`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app.blueprints.atlas_config import atlas_config
from app.blueprints.filtering import request_filter
from app.features import events as event_features
from app.features import pipeline
from app.features.employers import EMPLOYERS
from app.features.filters import FeatureFilter, FilterError, shown, whole_number
from app.features.source import registered
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language
from app.map import configured_map
from app.notifications import absolute_url
from app.security_headers import frameable
from app.services import event_vocabulary, taxonomies
from app.services.places import resolve_place

bp = Blueprint("embed", __name__)
#: Full links (from BASE_URL) for the embed pages, which are shown on other sites.
bp.add_app_template_global(absolute_url, "absolute_url")

#: What can be embedded (the builder's ``art``): the map or the event list.
MAP, EVENTS = "karte", "veranstaltungen"
#: The iframe's height in pixels: default and bounds.
DEFAULT_HEIGHT, MIN_HEIGHT, MAX_HEIGHT = 500, 200, 2000
#: The builder's own parameters (not filters).
BUILDER_PARAMS = ("art", "hoehe", "sprache", "layer")


@dataclass(frozen=True)
class Snippet:
    """The chosen embed: its address, title and height, and the ``<iframe>`` code."""

    src: str
    title: str
    height: int

    @property
    def code(self) -> str:
        """The ``<iframe>`` element to paste (plain text; the page escapes it again)."""
        return (
            f'<iframe src="{html.escape(self.src)}" title="{html.escape(self.title)}" '
            f'width="100%" height="{self.height}" loading="lazy" style="border:0"></iframe>'
        )


def layer_choices() -> dict[str, str]:
    """The layers the embedded map can switch on (key: name): every registered source but
    the employers."""
    return {key: source.label() for key, source in registered().items() if key != EMPLOYERS.key}


def parse_layer(args: MultiDict) -> str:
    """The ``layer`` to switch on ("" for none); FilterError for one that does not exist."""
    value = args.get("layer", "").strip()
    choices = layer_choices()
    if value and value not in choices:
        raise FilterError(
            "layer",
            _(
                "Unbekannte Ebene „%(value)s“: erlaubt sind %(allowed)s.",
                value=shown(value),
                allowed=", ".join(choices),
            ),
        )
    return value


def parse_height(args: MultiDict) -> int:
    """The iframe's height in pixels (``hoehe``); FilterError outside the bounds."""
    value = args.get("hoehe", "").strip()
    if not value:
        return DEFAULT_HEIGHT
    height = whole_number(value)
    if height is None or not MIN_HEIGHT <= height <= MAX_HEIGHT:
        raise FilterError(
            "hoehe",
            _(
                "Die Höhe muss eine ganze Zahl von %(min)d bis %(max)d Pixeln sein.",
                min=MIN_HEIGHT,
                max=MAX_HEIGHT,
            ),
        )
    return height


def parse_language(args: MultiDict) -> str:
    """The embedded page's language (``sprache``); FilterError for one the site lacks."""
    value = args.get("sprache", "").strip() or current_language()
    if value not in LANGUAGES:
        raise FilterError(
            "sprache",
            _(
                "Unbekannte Sprache „%(value)s“: erlaubt sind %(allowed)s.",
                value=shown(value),
                allowed=", ".join(LANGUAGES),
            ),
        )
    return value


def event_filter() -> FeatureFilter:
    """The event filter in the query string (FilterError on a bad value)."""
    return pipeline.parse_filter(event_features.EVENTS, request.args, resolve_place)


def build_snippet(what: str) -> Snippet:
    """The snippet for the builder's choice in the query string; FilterError on a bad value."""
    region = current_app.config["REGION"].name
    if what == MAP:
        args = dict(request_filter().query_args())
        layer = parse_layer(request.args)
        if layer:
            args["layer"] = layer
        endpoint = "embed.map_page"
        title = _("Karte der Arbeitgeber – KMU-Atlas %(region)s", region=region)
    elif what == EVENTS:
        args = dict(event_filter().query_args())
        endpoint = "embed.event_list"
        title = _("Veranstaltungen – KMU-Atlas %(region)s", region=region)
    else:
        raise FilterError(
            "art",
            _("Wählen Sie, was eingebunden werden soll: die Karte oder die Veranstaltungen."),
        )
    height = parse_height(request.args)
    language = parse_language(request.args)
    if language != DEFAULT_LANGUAGE:
        args["lang"] = language
    return Snippet(absolute_url(endpoint, **args), title, height)


def _builder_choices() -> dict:
    """What the builder's two forms offer, with names in the interface language."""
    region = current_app.config["REGION"]
    return {
        "catalogue": taxonomies.catalogue(current_language()),
        "layers": layer_choices(),
        "event_kinds": event_vocabulary.kinds(),
        "target_groups": event_vocabulary.target_groups(),
        "event_municipalities": sorted(
            ((m.ags, m.name) for m in region.municipalities), key=lambda item: item[1]
        ),
        "languages": LANGUAGES,
    }


def _language_arg() -> dict:
    """``lang`` as the embed's address chose it, for links into the atlas."""
    language = request.args.get("lang", "")
    return {"lang": language} if language in LANGUAGES else {}


@bp.get("")
def builder():
    """Choose what to embed and get the ``<iframe>`` code (and a preview) for it."""
    what = request.args.get("art", "").strip()
    snippet, error = None, None
    if what:
        try:
            snippet = build_snippet(what)
        except FilterError as exc:
            error = exc
    return render_template(
        "embed/builder.html",
        what=what,
        form=request.args,
        snippet=snippet,
        error=error,
        heights=(DEFAULT_HEIGHT, MIN_HEIGHT, MAX_HEIGHT),
        **_builder_choices(),
    ), 422 if error else 200


@bp.get("/karte")
@frameable
def map_page():
    """The employer map alone, filtered as the address says, for partner websites' iframes."""
    employer_filter, count, layer, error = None, None, "", None
    try:
        employer_filter = request_filter()
        layer = parse_layer(request.args)
        count = pipeline.count(EMPLOYERS, employer_filter, use_view=False)
    except FilterError as exc:
        error = exc
    args = employer_filter.query_args() if employer_filter else {}
    map_parts = configured_map()
    config = atlas_config(
        map_parts,
        page_url=url_for("embed.map_page"),
        family=taxonomies.catalogue(current_language())["family"],
        embed={"query": args, "layer": layer},
    )
    return render_template(
        "embed/map.html",
        map=map_parts,
        atlas_config=config,
        count=count,
        error=error,
        open_url=absolute_url("public.index", **args, **_language_arg()),
    ), 400 if error else 200


@bp.get("/veranstaltungen")
@frameable
def event_list():
    """The upcoming events alone, filtered as the address says, for partner websites."""
    listing, error, args = None, None, {}
    try:
        feature_filter = event_filter()
        args = feature_filter.query_args()
        listing = event_features.list_page(feature_filter, 1)
    except FilterError as exc:
        error = exc
    shown_ids = [o.event.id for _day, day in (listing.days if listing else []) for o in day]
    return render_template(
        "embed/events.html",
        listing=listing,
        booked_out=event_features.booked_out(shown_ids),
        kind_names=event_vocabulary.kinds(),
        error=error,
        open_url=absolute_url("events.index", **args, **_language_arg()),
    ), 400 if error else 200
