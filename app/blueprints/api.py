"""The public JSON API: published employers only, public fields only."""

from flask import Blueprint, current_app, jsonify, request, url_for

from app.blueprints.filtering import map_settings, request_filter
from app.extensions import limiter
from app.filters import FilterError, parse_page, parse_sort
from app.i18n import LANGUAGES
from app.services import employers, taxonomies

bp = Blueprint("api", __name__)
# One limit for all endpoints of the public API together, per client address (API_RATE_LIMIT).
limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="public-api")(bp)


@bp.errorhandler(FilterError)
def bad_filter(error: FilterError):
    """A bad query parameter: 400 with the parameter named and a message."""
    return jsonify(
        {"error": "Bad Request", "parameter": error.parameter, "message": str(error.message)}
    ), 400


@bp.get("/employers")
def employer_collection():
    """Matching employers as GeoJSON (clusters where dense), with ``total`` and ``matched``."""
    response = jsonify(employers.map_features(request_filter(), map_settings()))
    response.mimetype = "application/geo+json"
    return response


@bp.get("/employers/list")
def employer_list():
    """One page of the matching employers, sorted, for the list beside the map."""
    employer_filter = request_filter()
    sort = parse_sort(request.args, employer_filter)
    page = employers.list_page(employer_filter, sort, parse_page(request.args))
    return jsonify(
        {
            "total": page.total,
            "page": page.page,
            "pages": page.pages,
            "per_page": page.per_page,
            "sort": sort,
            "items": [
                {
                    **employers.public_properties(company),
                    "distance_km": distance,
                    "url": url_for("public.employer", slug=company.slug),
                }
                for company, distance in page.items
            ],
        }
    )


@bp.get("/taxonomies")
def taxonomy_catalogue():
    """The codes and labels every filter accepts (``lang=en`` for English labels)."""
    language = request.args.get("lang")
    if language is not None and language not in LANGUAGES:
        raise FilterError("lang", f"lang must be one of {', '.join(LANGUAGES)}.")
    return jsonify(taxonomies.catalogue(language))
