"""Public pages: the map with filters and list, employer detail pages, the health check."""

from dataclasses import replace

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal

from app.blueprints.filtering import request_filter
from app.features import events as event_features
from app.features import pipeline
from app.features.employers import EMPLOYERS
from app.features.filters import FilterError, parse_page, parse_sort
from app.features.source import FeatureSource
from app.i18n import current_language, language_name
from app.map import configured_map
from app.services import apprenticeships, employers, events, taxonomies
from app.services.health import check_health

bp = Blueprint("public", __name__)
#: A company's apprenticeship occupations with their places, for the pages and the list.
bp.add_app_template_global(apprenticeships.for_company, "apprenticeship_rows")
#: (code, name) of every apprenticeship occupation, for the filter panel.
bp.add_app_template_global(apprenticeships.choices, "apprenticeship_choices")


@bp.get("/")
def index():
    """The map with the filter panel and the accessible list of the same employers."""
    error, employer_filter, page, sort = None, None, None, "name"
    try:
        employer_filter = request_filter()
        sort = parse_sort(request.args, employer_filter)
        page = pipeline.list_page(EMPLOYERS, employer_filter, sort, parse_page(request.args))
        page = replace(page, items=[(EMPLOYERS.entity(row), km) for row, km in page.items])
    except FilterError as exc:
        error = exc
    language = current_language()
    return render_template(
        "public/index.html",
        region=current_app.config["REGION"],
        map=configured_map(),
        filter=employer_filter,
        form=request.args,
        error=error,
        page=page,
        sort=sort,
        catalogue=taxonomies.catalogue(language),
        languages_in_use=taxonomies.languages_in_use(language),
        size_labels=taxonomies.size_labels(),
        sources=pipeline.browser_declarations(source_urls),
    ), 400 if error else 200


def source_urls(source: FeatureSource) -> dict:
    """Where the browser gets a source's map data and list, and its detail pages."""
    endpoint = getattr(source, "detail_endpoint", None)
    return {
        "mapUrl": url_for("api.feature_collection", key=source.key),
        "listUrl": url_for("api.feature_list", key=source.key),
        "detailUrl": url_for(endpoint, slug="__slug__") if endpoint else None,
    }


@bp.get("/arbeitgeber/<slug>")
def employer(slug: str):
    """An employer's public profile, with a way back to the search it came from."""
    company = employers.published_by_slug(slug)
    if company is None:
        abort(404)
    try:
        back = request_filter().query_args()
    except FilterError:
        back = {}
    lon, lat = employers.location_of(company)
    language = current_language()
    return render_template(
        "public/employer.html",
        company=company,
        map=configured_map(focus=(lon, lat)),
        back_url=url_for("public.index", **back),
        language=language,
        size_labels=taxonomies.size_labels(),
        language_names=[language_name(code, language) for code in company.languages],
        around=employers.surroundings(company),
        company_events=[
            (event, event_features.next_occurrence(event))
            for event in events.upcoming_for_company(company)
        ],
    )


@bp.app_template_global("distance_text")
def distance_text(metres: float) -> str:
    """A straight-line distance as shown on pages: "450 m" (to 10 m) or "1,2 km"."""
    if metres < 1000:
        return f"{int(round(metres, -1))} m"
    return f"{format_decimal(round(metres / 1000, 1), format='#,##0.0')} km"


@bp.get("/healthz")
def healthz():
    """200 with a small JSON body when healthy; 503 with the reason otherwise."""
    healthy, body = check_health()
    return jsonify(body), 200 if healthy else 503


@bp.get("/favicon.ico")
def favicon():
    """The site icon for browsers that ask for /favicon.ico: the static file (the pages link
    it and favicon.svg themselves)."""
    return redirect(url_for("static", filename="favicon.ico"))
