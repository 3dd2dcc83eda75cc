"""OGC API – Features under /ogc, for GIS clients such as QGIS: the landing page, conformance,
the collections (one per feature source), their items and queryables, as JSON (GeoJSON for
items) or HTML (``f=json``/``f=html``, else the Accept header). The documents come from
:mod:`app.features.ogc`; this layer picks the format, renders and sets the media types."""

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from app.extensions import limiter
from app.features import ogc
from app.services.places import resolve_place

bp = Blueprint("ogc", __name__)
# The same limit as the public JSON API, counted together with it.
limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="public-api")(bp)


@bp.errorhandler(ogc.OgcError)
def ogc_error(error: ogc.OgcError):
    """A refused request: the OGC exception document (JSON), or an error page for HTML."""
    if error.status != 400 and _format(ogc.JSON, check=False) == "html":
        return render_template("ogc/error.html", error=error), error.status
    return jsonify(error.document()), error.status


def _format(json_type: str, check: bool = True) -> str:
    """``json`` or ``html`` for this request (400 for an unknown ``f``)."""
    try:
        return ogc.requested_format(
            request.args, request.accept_mimetypes.best_match, (json_type, ogc.JSON, ogc.HTML)
        )
    except ogc.OgcError:
        if check:
            raise
        return "json"


def _base() -> str:
    return url_for("ogc.landing", _external=True).rstrip("/")


def _bounds():
    return current_app.config["REGION"].bounds


def _answer(document: dict, fmt: str, template: str, media_type: str = ogc.JSON, **context):
    if fmt == "html":
        return render_template(
            f"ogc/{template}",
            data=document,
            show=ogc.display_value,
            feature_title=ogc.feature_title,
            **context,
        )
    response = jsonify(document)
    response.mimetype = media_type
    return response


def _resource(json_type: str = ogc.JSON) -> str:
    """Check the parameters of a resource without query parameters; its format."""
    ogc.check_params(request.args, ogc.RESOURCE_PARAMS)
    return _format(json_type)


@bp.get("/", strict_slashes=False)  # /ogc and /ogc/ alike, no redirect
def landing():
    """The landing page: title, description and links (conformance, collections, OpenAPI)."""
    fmt = _resource()
    region = current_app.config["REGION"].name
    document = ogc.landing(
        _base(),
        _("KMU-Atlas %(region)s", region=region),
        _(
            "Veröffentlichte Arbeitgeber, Ebenen und kommende Veranstaltungen des KMU-Atlas "
            "%(region)s als OGC API – Features.",
            region=region,
        ),
        fmt,
        request.url_root.rstrip("/") + ogc.SERVICE_DESC,
    )
    return _answer(document, fmt, "landing.html")


@bp.get("/conformance")
def conformance():
    """The conformance classes."""
    fmt = _resource()
    return _answer(ogc.conformance(_base(), fmt), fmt, "conformance.html")


@bp.get("/collections")
def collections():
    """Every feature source as a collection."""
    fmt = _resource()
    return _answer(ogc.collections(_base(), _bounds(), fmt), fmt, "collections.html")


@bp.get("/collections/<key>")
def collection(key: str):
    """One collection: title, extent and links."""
    source = ogc.collection_source(key)
    fmt = _resource()
    return _answer(ogc.collection(source, _base(), _bounds(), fmt), fmt, "collection.html")


@bp.get("/collections/<key>/items")
def items(key: str):
    """A page of the collection's public items (GeoJSON FeatureCollection)."""
    source = ogc.collection_source(key)
    fmt = _format(ogc.GEOJSON)
    checked = ogc.parse_items(source, request.args, resolve_place)
    document = ogc.items(source, checked, _base(), fmt)
    return _answer(
        document, fmt, "items.html", ogc.GEOJSON, collection=source.label(), key=source.key
    )


@bp.get("/collections/<key>/items/<feature_id>")
def item(key: str, feature_id: str):
    """One public item (GeoJSON Feature); 404 for anything not public."""
    source = ogc.collection_source(key)
    fmt = _resource(ogc.GEOJSON)
    document = ogc.item(source, feature_id, _base(), fmt)
    return _answer(
        document, fmt, "item.html", ogc.GEOJSON, collection=source.label(), key=source.key
    )


@bp.get("/collections/<key>/queryables")
def queryables(key: str):
    """The collection's filter parameters as a JSON Schema."""
    source = ogc.collection_source(key)
    fmt = _resource(ogc.SCHEMA)
    document = ogc.queryables(source, _base(), fmt)
    return _answer(
        document, fmt, "queryables.html", ogc.SCHEMA, collection=source.label(), key=source.key
    )
