"""Public pages: the map with filters and list, employer detail pages."""

from dataclasses import replace
from urllib.parse import urlsplit

from babel.units import format_unit
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale

from app.blueprints.atlas_config import atlas_config
from app.blueprints.filtering import request_filter
from app.features import events as event_features
from app.features import pipeline
from app.features.employers import EMPLOYERS
from app.features.filters import FilterError, parse_page, parse_sort
from app.i18n import current_language, language_name
from app.map import configured_map, tile_attribution
from app.notifications import absolute_url
from app.page_links import (
    SINGLE_LANGUAGE_ENDPOINTS,
    language_versions,
    page_links,
    single_language_versions,
)
from app.services import apprenticeships, employers, events, sitemap, structured_data, taxonomies
from app.services.credits import credit_parts

bp = Blueprint("public", __name__)
#: A company's apprenticeship occupations with their places, for the pages and the list.
bp.add_app_template_global(apprenticeships.for_company, "apprenticeship_rows")
#: (code, name) of every apprenticeship occupation, for the filter panel.
bp.add_app_template_global(apprenticeships.choices, "apprenticeship_choices")
#: The page's canonical URL and language versions, for <head> (None where not indexed).
bp.add_app_template_global(page_links, "page_links")


@bp.get("/")
def index():
    """The map with the filter panel and the accessible list of the same employers."""
    error, employer_filter, page, sort, suggestion = None, None, None, "name", None
    try:
        employer_filter = request_filter()
        sort = parse_sort(request.args, employer_filter)
        page = pipeline.list_page(EMPLOYERS, employer_filter, sort, parse_page(request.args))
        page = replace(page, items=[(EMPLOYERS.entity(row), km) for row, km in page.items])
        suggestion = pipeline.suggestion(EMPLOYERS, employer_filter, page.total)
    except FilterError as exc:
        error = exc
    language = current_language()
    map_parts = configured_map()
    catalogue = taxonomies.catalogue(language)
    config = atlas_config(map_parts, page_url=url_for("public.index"), family=catalogue["family"])
    # "Meinten Sie: {suggestion}?": the sentence around the link (plain text, autoescaped).
    before, _placeholder, after = config["labels"]["suggestion"].partition("{suggestion}")
    return render_template(
        "public/index.html",
        region=current_app.config["REGION"],
        map=map_parts,
        filter=employer_filter,
        form=request.args,
        error=error,
        page=page,
        sort=sort,
        suggestion=suggestion,
        suggestion_text=(before, after),
        catalogue=catalogue,
        languages_in_use=taxonomies.languages_in_use(language),
        size_labels=config["sizes"],
        sources=config["sources"],
        atlas_config=config,
    ), 400 if error else 200


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
        point=(lon, lat),
        back_url=url_for("public.index", **back),
        language=language,
        size_labels=taxonomies.size_labels(),
        language_names=[language_name(code, language) for code in company.languages],
        around=employers.surroundings(company),
        company_events=[
            (event, event_features.next_occurrence(event))
            for event in events.upcoming_for_company(company)
        ],
        structured_data=structured_data.employer(
            company, url=absolute_url("public.employer", slug=company.slug)
        ),
    )


@bp.app_template_global("distance_text")
def distance_text(metres: float) -> str:
    """A straight-line distance as shown on pages: "450 m" (to 10 m) or "1,2 km", with the
    units of the interface language (Babel's: "450 م" in Arabic, "1,2 км" in Ukrainian)."""
    locale = get_locale()
    if metres < 1000:
        return format_unit(int(round(metres, -1)), "length-meter", "short", locale=locale)
    kilometres = round(metres / 1000, 1)
    return format_unit(kilometres, "length-kilometer", "short", format="#,##0.0", locale=locale)


@bp.get("/favicon.ico")
def favicon():
    """The site icon for browsers that ask for /favicon.ico: the static file (the pages link
    it and favicon.svg themselves)."""
    return redirect(url_for("static", filename="favicon.ico"))


#: Paths search engines should leave alone: the workspace, the questionnaire, the JSON API and
#: the personal links of registrations. (The embed pages say ``noindex`` themselves.)
ROBOTS_DISALLOW = (
    "/agentur/",
    "/mitmachen/",
    "/api/",
    "/veranstaltungen/abmelden/",
    "/suchauftrag/",
)


def _sitemap_url(endpoint: str, lastmod=None, **values) -> list[sitemap.SitemapUrl]:
    """A page's ``<url>`` entries: one per language, each naming all language versions."""
    versions = language_versions(absolute_url(endpoint, **values))
    return [
        sitemap.SitemapUrl(versions[language], lastmod, versions)
        for language in versions
        if language != "x-default"
    ]


def _single_language_url(endpoint: str) -> list[sitemap.SitemapUrl]:
    """The ``<url>`` of a page that exists in one language only (Leichte Sprache: German)."""
    address = absolute_url(endpoint)
    versions = single_language_versions(address, SINGLE_LANGUAGE_ENDPOINTS[endpoint])
    return [sitemap.SitemapUrl(address, None, dict(versions))]


@bp.get("/sitemap.xml")
def sitemap_xml():
    """Every published employer's page and every public event's page that is not over, with
    the start page, the event list and calendar, this site's "about" page, the page in
    Leichte Sprache (German only: one entry) and the legal pages."""
    employer_pages = sitemap.published_employers()
    event_pages = sitemap.upcoming_events()
    urls = [
        *_sitemap_url("public.index", sitemap.latest(employer_pages)),
        *_sitemap_url("events.index", sitemap.latest(event_pages)),
        *_sitemap_url("events.calendar", sitemap.latest(event_pages)),
        *_sitemap_url("public.about"),
        *_single_language_url("public.easy_language"),
        *_sitemap_url("public.privacy"),
        *_sitemap_url("public.imprint"),
        *_sitemap_url("public.accessibility"),
    ]
    for page in employer_pages:
        urls += _sitemap_url("public.employer", page.changed_at, slug=page.slug)
    for page in event_pages:
        urls += _sitemap_url("events.detail", page.changed_at, slug=page.slug)
    response = current_app.response_class(
        sitemap.sitemap_xml(urls), content_type="application/xml; charset=utf-8"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/robots.txt")
def robots_txt():
    """What crawlers may visit (public pages) and where the sitemap is."""
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {path}" for path in ROBOTS_DISALLOW]
    lines += ["", f"Sitemap: {absolute_url('public.sitemap_xml')}", ""]
    response = current_app.response_class(
        "\n".join(lines), content_type="text/plain; charset=utf-8"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/leichte-sprache")
def easy_language():
    """The atlas explained in Leichte Sprache (easy German; German only, whatever the interface
    language: other languages get a note above it), with the agency as the contact."""
    theme = getattr(current_app.config["REGION"], "theme", None)
    agency = getattr(theme, "agency", None)
    return render_template(
        "public/easy_language.html",
        region=current_app.config["REGION"],
        agency=agency if agency is not None and not agency.empty else None,
        german=current_language() == "de",
    )


@bp.get("/ueber")
def about():
    """About the platform: who runs it, the software's licence, and every shipped data set
    with its licence and attribution."""
    region = current_app.config["REGION"]
    theme = getattr(region, "theme", None)  # the region file's theme: agency and operator
    contacts = [getattr(theme, role, None) for role in ("operator", "agency")]
    contacts = [c for c in contacts if c is not None and not c.empty]
    return render_template(
        "public/about.html",
        region=region,
        operator=contacts[0] if contacts else None,
        agency=contacts[-1] if len(contacts) > 1 and contacts[-1] != contacts[0] else None,
        region_sources=getattr(region, "sources", ""),
        tile_credit=credit_parts(tile_attribution(current_language())),
    )


@bp.get("/datenschutz")
def privacy():
    """The privacy notice: what is stored when, and for how long (job alerts, event
    registrations, the shortlist on the device, cookies, businesses' entries, drafts, uploads
    and mail copies, the tile server). A template the operator completes: their details come
    from the region's theme, the rest is marked on the page. The deletion periods are the ones
    the retention jobs use (:func:`app.services.retention.periods`)."""
    from app.services import alerts, retention

    region = current_app.config["REGION"]
    theme = getattr(region, "theme", None)
    contacts = [getattr(theme, role, None) for role in ("operator", "agency")]
    contacts = [c for c in contacts if c is not None and not c.empty]
    tile_host = (urlsplit(current_app.config["TILE_URL"]).hostname or "").replace("{s}.", "")
    return render_template(
        "public/privacy.html",
        region=region,
        controller=contacts[0] if contacts else None,
        tile_host=tile_host,
        unconfirmed_days=alerts.UNCONFIRMED_DAYS,
        keep_days=events.KEEP_PAST_DAYS,
        retention=retention.periods(),
    )


@bp.get("/impressum")
def imprint():
    """The imprint (§ 5 DDG, § 18 MStV): the operator and the details the region file gives;
    what it does not give yet is shown as a marked placeholder for the operator."""
    theme = current_app.config["REGION"].theme
    return render_template("public/imprint.html", operator=theme.operator, imprint=theme.imprint)


@bp.get("/barrierefreiheit")
def accessibility():
    """The accessibility statement (BITV 2.0): how far the site conforms, its known
    limitations, the feedback contact (the operator's unless the region names one) and the
    enforcement body; missing details are marked placeholders for the operator."""
    theme = current_app.config["REGION"].theme
    statement = theme.accessibility
    feedback = statement.feedback if statement.feedback is not None else theme.operator
    return render_template(
        "public/accessibility.html",
        statement=statement,
        feedback=None if feedback.empty else feedback,
        enforcement=statement.enforcement
        if statement.enforcement is not None and not statement.enforcement.empty
        else None,
    )
