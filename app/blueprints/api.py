"""The public JSON API: public rows of each feature source only, public fields only."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from app.blueprints.filtering import map_settings, request_filter
from app.extensions import limiter
from app.features import map_cache, pipeline
from app.features import source as sources
from app.features.filters import (
    CONTROL_CHARACTERS,
    FilterError,
    parse_page,
    parse_properties,
    parse_sort,
)
from app.features.source import FeatureSource
from app.i18n import LANGUAGES, current_language
from app.layers import layer_kinds
from app.services import boundaries, openapi, taxonomies, vocabulary_search

bp = Blueprint("api", __name__)
# One limit for all endpoints of the public API together, per client address (API_RATE_LIMIT).
limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="public-api")(bp)


@bp.errorhandler(FilterError)
def bad_filter(error: FilterError):
    """A bad query parameter: 400 with the parameter named and a message."""
    return jsonify(
        {"error": "Bad Request", "parameter": error.parameter, "message": str(error.message)}
    ), 400


def _source(key: str) -> FeatureSource:
    try:
        return sources.get(key)
    except KeyError:
        abort(404)


@bp.get("/features/<key>")
def feature_collection(key: str):
    """A source's matching features as GeoJSON (clusters where dense), with ``total`` and
    ``matched``."""
    source = _source(key)
    feature_filter = request_filter(source)
    settings = map_settings(parse_properties(request.args))
    cache_key = map_cache.key(source, feature_filter, settings, current_language())
    body, state = map_cache.answer(
        cache_key, lambda: pipeline.to_json(pipeline.map_features(source, feature_filter, settings))
    )
    return Response(body, mimetype="application/geo+json", headers={"X-Map-Cache": state})


@bp.get("/features/<key>/<int:feature_id>")
def feature(key: str, feature_id: int):
    """One public feature with every public property (what the map's popup shows when the map
    data came with ``properties=marker``); 404 for a source without such single features and
    for an id that is not public."""
    found = getattr(_source(key), "published_feature", None)
    data = found(feature_id) if found is not None else None
    if data is None:
        abort(404, description=_("Unter dieser Nummer ist kein veröffentlichter Eintrag."))
    return Response(pipeline.to_json(data), mimetype="application/geo+json")


@bp.get("/features/<key>/list")
def feature_list(key: str):
    """One page of a source's matching features, sorted, for the list beside the map, with a
    "did you mean" ``suggestion`` for a text search that found nothing or only similar names."""
    source = _source(key)
    feature_filter = request_filter(source)
    sort = parse_sort(request.args, feature_filter)
    page = pipeline.list_page(source, feature_filter, sort, parse_page(request.args))
    return jsonify(
        {
            "total": page.total,
            "page": page.page,
            "pages": page.pages,
            "per_page": page.per_page,
            "sort": sort,
            "suggestion": pipeline.suggestion(source, feature_filter, page.total),
            "items": [
                {**source.properties(row), "distance_km": distance, "url": _detail_url(source, row)}
                for row, distance in page.items
            ],
        }
    )


def _detail_url(source: FeatureSource, row) -> str | None:
    endpoint = getattr(source, "detail_endpoint", None)
    return url_for(endpoint, **source.detail_values(row)) if endpoint else None


@bp.get("/employers")
def employer_collection():
    """Matching employers as GeoJSON (clusters where dense), with ``total`` and ``matched``."""
    return feature_collection("employers")


@bp.get("/employers/<int:feature_id>")
def employer_feature(feature_id: int):
    """One published employer with every public property, as a GeoJSON feature."""
    return feature("employers", feature_id)


@bp.get("/employers/list")
def employer_list():
    """One page of the matching employers, sorted, for the list beside the map."""
    return feature_list("employers")


@bp.get("/events")
def event_collection():
    """Matching events with a place as GeoJSON (the map layer "Veranstaltungen")."""
    return feature_collection("events")


@bp.get("/events/list")
def event_list():
    """One page of the matching events with a place, sorted by title."""
    return feature_list("events")


@bp.get("/layers")
def layer_kinds_list():
    """The configured layer kinds: key, name (interface language), symbol, colour, fields with
    their labels in order, and whether employers can be filtered by proximity to them."""
    language = current_language()
    return jsonify({"kinds": [kind.declaration(language) for kind in layer_kinds().values()]})


@bp.get("/layers/<kind>")
def layer_collection(kind: str):
    """One layer's features in the view as GeoJSON (clusters where dense), with ``total``."""
    if kind not in layer_kinds():
        abort(404)
    return feature_collection(kind)


@bp.get("/taxonomies")
def taxonomy_catalogue():
    """The codes and labels every filter accepts (``lang=en`` for English labels)."""
    language = request.args.get("lang")
    if language is not None and language not in LANGUAGES:
        raise FilterError("lang", f"lang must be one of {', '.join(LANGUAGES)}.")
    return jsonify(taxonomies.catalogue(language))


@bp.get("/taxonomies/search")
def taxonomy_search():
    """Sectors, occupations and apprenticeship occupations for everyday words, best first."""
    language = request.args.get("lang") or current_language()
    if language not in LANGUAGES:
        raise FilterError("lang", f"lang must be one of {', '.join(LANGUAGES)}.")
    query = " ".join(request.args.get("q", "").split())
    if CONTROL_CHARACTERS.search(request.args.get("q", "")):
        raise FilterError("q", _("Die Angabe enthält unzulässige Steuerzeichen."))
    if len(query) > vocabulary_search.MAX_QUERY_LENGTH:
        raise FilterError(
            "q",
            _(
                "Der Suchbegriff ist zu lang (höchstens %(max)d Zeichen).",
                max=vocabulary_search.MAX_QUERY_LENGTH,
            ),
        )
    found = vocabulary_search.search(query, language)
    return jsonify(
        {"query": query, "language": language}
        | {kind: [hit.as_dict() for hit in hits] for kind, hits in found.items()}
    )


@bp.get("/region/outline")
def region_outline():
    """The region's outline (its stored municipality boundaries dissolved, simplified) as a
    GeoJSON FeatureCollection of one feature; no features while no boundaries are stored (an
    empty answer rather than 404, so the map page logs no failed request)."""
    geometry = boundaries.outline()
    features = [{"type": "Feature", "geometry": geometry, "properties": {}}] if geometry else []
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.mimetype = "application/geo+json"
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API, generated from the sources' declarations."""
    return jsonify(openapi.document())


@bp.get("/docs")
def documentation():
    """The same description as a readable page (server-rendered, no script)."""
    spec = openapi.document()
    return render_template(
        "api/docs.html",
        spec=spec,
        operations=openapi.page_outline(spec),
        errors=openapi.error_outline(spec),
    )
