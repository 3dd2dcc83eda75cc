"""OGC API – Features (Part 1 Core, GeoJSON, HTML; Part 3 queryables) over the feature sources.

One collection per registered source (employers, each layer kind, events). Items come from the
pipeline exactly as the map's do: :func:`app.features.pipeline.parse_filter` reads the source's
declared parameters (and ``bbox``), :func:`app.features.pipeline.matching` selects the public
rows, and the source's ``properties`` gives the public fields. The queryables are the declared
parameters as a JSON Schema. Nothing here knows what an employer is.

The web layer (:mod:`app.blueprints.ogc`) chooses the format and renders; the documents here are
plain dicts whose links are built from ``base``, the absolute URL of ``/ogc`` (no endpoint
names). Bad parameters raise :class:`OgcError`, answered in the OGC exception schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app.features import pipeline
from app.features import source as registry
from app.features.filters import (
    CONTROL_CHARACTERS,
    MAX_RADIUS_KM,
    MAX_TEXT,
    FeatureFilter,
    FilterError,
    Parameter,
    Place,
    shown,
    whole_number,
)
from app.features.source import FeatureSource

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
)
REL_CONFORMANCE = "http://www.opengis.net/def/rel/ogc/1.0/conformance"
REL_DATA = "http://www.opengis.net/def/rel/ogc/1.0/data"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
#: The public API's OpenAPI document (the service description the landing page links to).
SERVICE_DESC = "/api/openapi.json"

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
SCHEMA = "application/schema+json"
#: The formats by ``f`` value, and their media types.
FORMATS = {"json": JSON, "html": HTML}

DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000
#: Query parameters of ``/items`` besides the source's declared ones (``lang`` is the
#: interface language of every page).
ITEMS_PARAMS = ("f", "bbox", "bbox-crs", "limit", "offset", "lang")
#: Query parameters of every other resource.
RESOURCE_PARAMS = ("f", "lang")


class OgcError(Exception):
    """A request the API refuses: the HTTP status, the OGC exception code and a plain-text
    description in the interface language."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = str(description)

    def document(self) -> dict:
        """The OGC exception document (``code``, ``description``)."""
        return {"code": self.code, "description": self.description}


def bad_parameter(parameter: str, message: str) -> OgcError:
    """A 400 for a bad value of ``parameter``."""
    return OgcError(400, "InvalidParameterValue", f"{parameter}: {message}")


def not_found(description: str) -> OgcError:
    """A 404 (an unknown collection or item; unpublished ones are unknown)."""
    return OgcError(404, "NotFound", description)


def _link(href: str, rel: str, media_type: str, title: str | None = None) -> dict:
    link = {"href": href, "rel": rel, "type": media_type}
    if title:
        link["title"] = title
    return link


def _url(base: str, path: str = "", **args) -> str:
    query = urlencode([(k, v) for k, v in args.items() if v not in (None, "")], safe=",:")
    return f"{base}{path}" + (f"?{query}" if query else "")


def _self_links(base: str, path: str, fmt: str, json_type: str = JSON, **args) -> list[dict]:
    """``self`` in the format answered and ``alternate`` in the other one."""
    json_link = _url(base, path, **args, f="json")
    html_link = _url(base, path, **args, f="html")
    json_title, html_title = _("als JSON"), _("als HTML")
    if fmt == "html":
        return [
            _link(html_link, "self", HTML, html_title),
            _link(json_link, "alternate", json_type, json_title),
        ]
    return [
        _link(json_link, "self", json_type, json_title),
        _link(html_link, "alternate", HTML, html_title),
    ]


def check_params(args: MultiDict, allowed: Iterable[str]) -> None:
    """400 for a query parameter the resource does not define (OGC /req/core/query-param-
    unknown) and for control characters in any value."""
    allowed = tuple(allowed)
    for name in args:
        if name not in allowed:
            raise bad_parameter(
                shown(name),
                _(
                    "Diesen Parameter gibt es hier nicht; erlaubt sind %(allowed)s.",
                    allowed=", ".join(allowed),
                ),
            )
        if any(CONTROL_CHARACTERS.search(value) for value in args.getlist(name)):
            raise bad_parameter(name, _("Die Angabe enthält unzulässige Steuerzeichen."))


def requested_format(args: MultiDict, accepted: Callable[[list[str]], str | None], types) -> str:
    """``json`` or ``html``: the ``f`` parameter, else the best of the Accept header among
    ``types`` (media types, JSON ones first), else JSON. 400 for an unknown ``f``."""
    value = args.get("f", "").strip().lower()
    if value:
        if value not in FORMATS:
            raise bad_parameter(
                "f", _("Unbekanntes Format „%(value)s“: erlaubt sind json und html.", value=value)
            )
        return value
    return "html" if accepted(list(types)) == HTML else "json"


def landing(base: str, title: str, description: str, fmt: str, service_desc: str) -> dict:
    """The landing page: title, description and the links QGIS starts from (``service_desc``:
    the absolute URL of the OpenAPI document)."""
    return {
        "title": title,
        "description": description,
        "links": [
            *_self_links(base, "/", fmt),
            _link(
                service_desc,
                "service-desc",
                "application/vnd.oai.openapi+json;version=3.1",
                _("Beschreibung der öffentlichen JSON-Schnittstelle (OpenAPI)"),
            ),
            _link(_url(base, "/conformance", f="json"), REL_CONFORMANCE, JSON, _("Konformität")),
            _link(_url(base, "/conformance", f="json"), "conformance", JSON, _("Konformität")),
            _link(_url(base, "/collections", f="json"), REL_DATA, JSON, _("Sammlungen")),
            _link(_url(base, "/collections", f="json"), "data", JSON, _("Sammlungen")),
        ],
    }


def conformance(base: str, fmt: str) -> dict:
    """The conformance classes this API implements."""
    return {"conformsTo": list(CONFORMANCE), "links": _self_links(base, "/conformance", fmt)}


def collection_source(key: str) -> FeatureSource:
    """The registered source behind collection ``key``; 404 if there is none."""
    try:
        return registry.get(key)
    except KeyError:
        raise not_found(_("Diese Sammlung gibt es nicht.")) from None


def collection(source: FeatureSource, base: str, bounds, fmt: str = "json") -> dict:
    """A collection's description: title, extent (the region's bounds, CRS84) and links to its
    items (GeoJSON and HTML) and queryables."""
    (west, south), (east, north) = bounds
    path = f"/collections/{source.key}"
    return {
        "id": source.key,
        "title": source.label(),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [[west, south, east, north]], "crs": CRS84}},
        "links": [
            *_self_links(base, path, fmt),
            _link(
                _url(base, f"{path}/items", f="json"), "items", GEOJSON, _("Objekte als GeoJSON")
            ),
            _link(_url(base, f"{path}/items", f="html"), "items", HTML, _("Objekte als HTML")),
            _link(
                _url(base, f"{path}/queryables", f="json"),
                REL_QUERYABLES,
                SCHEMA,
                _("Abfragbare Eigenschaften"),
            ),
        ],
    }


def collections(base: str, bounds, fmt: str) -> dict:
    """Every registered source as a collection."""
    return {
        "links": _self_links(base, "/collections", fmt),
        "collections": [
            collection(source, base, bounds) for source in registry.registered().values()
        ],
    }


@dataclass(frozen=True)
class ItemsRequest:
    """A checked ``/items`` request: the source's filter (with ``bbox``), limit and offset."""

    filter: FeatureFilter
    limit: int
    offset: int
    #: The ``bbox`` as given (when valid), for the links.
    bbox: str = ""

    def query_args(self) -> dict[str, str]:
        """The request as canonical query parameters (without ``offset`` and ``f``)."""
        args = dict(self.filter.query_args())
        if self.bbox:
            args["bbox"] = self.bbox
        args["limit"] = str(self.limit)
        return args


def _whole(args: MultiDict, name: str, default: int, minimum: int, maximum: int) -> int:
    value = args.get(name, "").strip()
    if not value:
        return default
    number = whole_number(value)
    if number is None or number < minimum:
        raise bad_parameter(
            name,
            _(
                "„%(value)s“ ist keine ganze Zahl ab %(minimum)d.",
                value=shown(value),
                minimum=minimum,
            ),
        )
    return min(number, maximum)


def parse_items(
    source: FeatureSource, args: MultiDict, resolve_place: Callable[[str], Place | None]
) -> ItemsRequest:
    """Check an ``/items`` query: only defined parameters; ``bbox`` (CRS84), the source's
    declared filter parameters (the map's contract: :func:`pipeline.parse_filter`), ``limit``
    (default 10; above the maximum, the maximum) and ``offset``. OgcError 400 on a bad value."""
    check_params(args, (*ITEMS_PARAMS, *(p.name for p in source.parameters)))
    crs = args.get("bbox-crs", "").strip()
    if crs and crs != CRS84:
        raise bad_parameter(
            "bbox-crs", _("Unterstützt wird nur %(crs)s (Länge, Breite).", crs=CRS84)
        )
    try:
        feature_filter = pipeline.parse_filter(source, args, resolve_place)
    except FilterError as error:
        raise bad_parameter(error.parameter, error.message) from None
    limit = _whole(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _whole(args, "offset", 0, 0, MAX_OFFSET)
    bbox = args.get("bbox", "").strip() if feature_filter.bbox else ""
    return ItemsRequest(feature_filter, limit, offset, bbox)


def items(source: FeatureSource, request: ItemsRequest, base: str, fmt: str = "json") -> dict:
    """One page of the collection's items as a GeoJSON FeatureCollection (ordered by id), with
    ``numberMatched``, ``numberReturned``, ``timeStamp`` and self/alternate/next/prev links."""
    f = request.filter
    query = pipeline.matching(source, f).order_by(source.id_column)
    page = query.limit(request.limit).offset(request.offset)
    features = pipeline.point_features(source, page, f)
    matched = pipeline.count(source, f)
    path = f"/collections/{source.key}/items"
    args = request.query_args()
    offset = request.offset or None
    links = _self_links(base, path, fmt, GEOJSON, **args, offset=offset)
    if request.offset + len(features) < matched:
        links.append(
            _link(
                _url(base, path, **args, offset=request.offset + request.limit, f=fmt),
                "next",
                GEOJSON if fmt == "json" else HTML,
                _("Nächste Seite"),
            )
        )
    if request.offset > 0:
        previous = max(0, request.offset - request.limit) or None
        links.append(
            _link(
                _url(base, path, **args, offset=previous, f=fmt),
                "prev",
                GEOJSON if fmt == "json" else HTML,
                _("Vorige Seite"),
            )
        )
    links.append(
        _link(
            _url(base, f"/collections/{source.key}", f="json"), "collection", JSON, source.label()
        )
    )
    return {
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
        "features": features,
    }


def item(source: FeatureSource, feature_id: str, base: str, fmt: str = "json") -> dict:
    """One public item as a GeoJSON Feature; 404 if it is not public (or does not exist)."""
    number = whole_number(feature_id)
    if number is None or number > 2**31 - 1:
        raise not_found(_("Dieses Objekt gibt es nicht."))
    query = pipeline.matching(source, source.empty_filter(), use_view=False).where(
        source.id_column == number
    )
    found = pipeline.point_features(source, query, source.empty_filter())
    if not found:
        raise not_found(_("Dieses Objekt gibt es nicht."))
    feature = found[0]
    path = f"/collections/{source.key}"
    feature["links"] = [
        *_self_links(base, f"{path}/items/{number}", fmt, GEOJSON),
        _link(_url(base, path, f="json"), "collection", JSON, source.label()),
    ]
    return feature


def _parameter_schema(parameter: Parameter, vocabulary) -> dict:
    """A declared parameter as a JSON Schema (a query parameter's values)."""
    if parameter.type == "text":
        return {"type": "string", "maxLength": MAX_TEXT, "description": _("Volltextsuche")}
    if parameter.type == "place":
        return {
            "type": "string",
            "description": _("Postleitzahl, Ort der Region oder Breite,Länge"),
        }
    if parameter.type == "number":
        schema = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_KM}
        if parameter.default:
            schema["default"] = float(parameter.default)
        if parameter.requires:
            schema["description"] = _("Nur zusammen mit %(name)s", name=parameter.requires)
        return schema
    if parameter.type == "proximity":
        return {"type": "integer", "enum": [int(option) for option in parameter.options]}
    if parameter.type == "within":
        kinds = list(parameter.allowed(vocabulary))
        return {
            "type": "string",
            "description": _(
                "Art:Meter, mehrere durch Komma getrennt (alle müssen gelten); Arten: "
                "%(kinds)s; Meter: %(metres)s",
                kinds=", ".join(kinds) or "–",
                metres=", ".join(parameter.options),
            ),
        }
    values = sorted(parameter.allowed(vocabulary)) if parameter.allowed else list(parameter.options)
    schema = {"type": "string", "enum": values}
    if parameter.multiple:
        schema["description"] = _("Mehrere Werte durch Komma getrennt: einer davon muss passen")
    return schema


def queryables(source: FeatureSource, base: str, fmt: str = "json") -> dict:
    """The collection's queryables (OGC API – Features Part 3): its declared filter parameters
    as a JSON Schema, plus the point geometry (filtered by ``bbox``)."""
    vocabulary = source.vocabulary()
    properties = {"geometry": {"$ref": "https://geojson.org/schema/Point.json"}}
    for parameter in source.parameters:
        properties[parameter.name] = {
            "title": parameter.name,
            **_parameter_schema(parameter, vocabulary),
        }
    path = f"/collections/{source.key}/queryables"
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": _url(base, path),
        "type": "object",
        "title": source.label(),
        "properties": properties,
        "additionalProperties": False,
        "links": _self_links(base, path, fmt, SCHEMA),
    }


def display_value(value) -> str:
    """A property value as text for the HTML pages (lists joined, labelled objects by label)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Ja") if value else _("Nein")
    if isinstance(value, dict):
        return str(value.get("label") or value.get("name") or value.get("code") or "")
    if isinstance(value, list | tuple):
        return ", ".join(display_value(part) for part in value)
    return str(value)


def feature_title(feature: dict) -> str:
    """A feature's name for the HTML pages: its name or title, else its id."""
    properties = feature.get("properties") or {}
    return str(properties.get("name") or properties.get("title") or feature.get("id"))
