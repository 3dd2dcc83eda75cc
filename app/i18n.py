"""Interface languages: German by default; English, Turkish, Arabic and Ukrainian on request.

A visitor chooses a language with ``?lang=`` (kept in a cookie). Jobseekers' pages (the map,
the list, employer and event pages, registrations, the public API's labels) are offered in all
of :data:`LANGUAGES`; the pages for businesses and staff (the questionnaire, the workspace, the
OGC pages, the API documentation, the embed builder) in German and English only
(:data:`GERMAN_AND_ENGLISH`): a visitor who chose Turkish, Arabic or Ukrainian sees them in
English, and their language switch offers German and English. Which pages are which is decided
by blueprint (:data:`JOBSEEKER_BLUEPRINTS`, :data:`GERMAN_ENGLISH_BLUEPRINTS`), with single
endpoints of a jobseeker blueprint excepted (:data:`GERMAN_ENGLISH_ENDPOINTS`);
``tests/unit/test_languages.py`` fails for a blueprint in neither set.

Arabic is written right to left (:func:`text_direction`; ``<html dir>`` in the layouts).
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlencode

from babel import Locale
from flask import Flask, has_request_context, request, url_for
from flask_babel import get_locale

#: Every interface language, in the order the language switch offers them.
LANGUAGES = ("de", "en", "tr", "ar", "uk")
#: The languages of the pages for businesses and staff.
GERMAN_AND_ENGLISH = ("de", "en")
DEFAULT_LANGUAGE = "de"
#: The language a page without the visitor's language is shown in.
FALLBACK_LANGUAGE = "en"
COOKIE = "lang"

#: Languages whose catalogue a native speaker has reviewed (the README says which). Turkish,
#: Arabic and Ukrainian are machine translations until then: each of their entries carries the
#: translator comment "machine translation, not yet reviewed by a native speaker".
REVIEWED_LANGUAGES: frozenset[str] = frozenset()

#: Each language's name in itself, for the language switch (never translated).
LANGUAGE_NAMES = {
    "de": "Deutsch",
    "en": "English",
    "tr": "Türkçe",
    "ar": "العربية",
    "uk": "Українська",
}

#: Blueprints whose pages jobseekers use: offered in every language (``csp_report`` takes
#: their browsers' reports and ``health`` the load balancer's checks; their errors speak the
#: visitor's language).
JOBSEEKER_BLUEPRINTS = frozenset(
    {
        "public",
        "events",
        "registration",
        "api",
        "embed",
        "region",
        "shortlist",
        "alerts",
        "pwa",
        "csp_report",
        "health",
    }
)
#: Blueprints for businesses and staff: German and English.
GERMAN_ENGLISH_BLUEPRINTS = frozenset(
    {
        "questionnaire",
        "confirm",
        "staff",
        "dashboard",
        "curation",
        "freshness",
        "transfer",
        "accounts",
        "security",
        "data_rights",
        "boundaries",
        "layers_admin",
        "events_admin",
        "organisations",
        "ogc",
    }
)
#: Pages of jobseeker blueprints that are for developers or partner websites' editors.
GERMAN_ENGLISH_ENDPOINTS = frozenset({"api.openapi_document", "api.documentation", "embed.builder"})

#: Source files whose texts jobseekers see (globs relative to the project root): their
#: messages must be translated into every language (``tests/unit/test_languages.py``).
#: Extend it with every new jobseeker page, partial, mail or module with texts.
JOBSEEKER_SOURCES = (
    "templates/base.html",
    "templates/errors/*.html",
    "templates/public/*.html",
    "templates/events/*.html",
    "templates/events/mail_registration_*.txt",
    "templates/embed/map.html",
    "templates/embed/events.html",
    "templates/embed/_frame.html",
    "templates/region/_contact.html",
    "app/blueprints/atlas_config.py",
    "app/blueprints/api.py",
    "app/blueprints/errors.py",
    "app/blueprints/events.py",
    "app/blueprints/params.py",
    "app/blueprints/registration.py",
    "app/blueprints/public.py",
    "app/blueprints/embed.py",
    "app/features/employers.py",
    "app/features/events.py",
    "app/features/filters.py",
    "app/features/layers.py",
    "app/services/registrations.py",
    "app/services/event_vocabulary.py",
    "app/services/taxonomies.py",
    "app/services/apprenticeships.py",
    "app/notifications.py",
    # issue 15's other pages: the shortlist, job alerts, the installable app (extend as needed)
    "templates/shortlist/*.html",
    "templates/alerts/*.html",
    "templates/alerts/mail_*.txt",
    "templates/pwa/*.html",
    "app/blueprints/shortlist.py",
    "app/blueprints/alerts.py",
    "app/services/alerts.py",
    "app/pwa/__init__.py",
)


def page_languages() -> tuple[str, ...]:
    """The languages the current page is offered in: all for jobseekers' pages (and for a
    page without an endpoint, such as a 404), German and English for the others."""
    if not has_request_context():
        return LANGUAGES
    if request.endpoint in GERMAN_ENGLISH_ENDPOINTS:
        return GERMAN_AND_ENGLISH
    if request.blueprint in GERMAN_ENGLISH_BLUEPRINTS:
        return GERMAN_AND_ENGLISH
    return LANGUAGES


def select_locale() -> str:
    """The language for this request: ``lang`` in the URL, then the cookie, then German
    (also outside a request, e.g. in CLI commands). A language the page is not offered in
    gives English."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    for candidate in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return candidate if candidate in page_languages() else FALLBACK_LANGUAGE
    return DEFAULT_LANGUAGE


def current_language() -> str:
    """The language code of the current request (one of :data:`LANGUAGES`)."""
    locale = get_locale()
    return locale.language if locale else DEFAULT_LANGUAGE


def text_direction(language: str | None = None) -> str:
    """``"rtl"`` for a language written right to left (Arabic), else ``"ltr"``."""
    return Locale.parse(language or current_language()).text_direction


def language_name(code: str, in_language: str | None = None) -> str:
    """The name of an ISO 639-1 language, in the interface language: 'tr' -> 'Türkisch'."""
    names = Locale(in_language or current_language()).languages
    return names.get(code, code)


@cache
def iso_639_1_codes() -> frozenset[str]:
    """All two-letter ISO 639-1 language codes Babel knows (Babel's data do not change
    while the process runs)."""
    return frozenset(code for code in Locale("en").languages if len(code) == 2)


def _page_path() -> str:
    """The current page's path (the start page for a page without an endpoint, e.g. a 404)."""
    if request.endpoint is None:
        return url_for("public.index")
    return url_for(request.endpoint, **(request.view_args or {}))


def _kept_query() -> list[tuple[str, str]]:
    """The current query string without ``lang``, as (name, value) pairs (a page without an
    endpoint keeps none: the switch leads to the start page)."""
    if request.endpoint is None:
        return []
    return [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]


def language_switch_url(language: str) -> str:
    """This page in another language: the same path and query string with ``lang`` replaced.

    The query string is copied as data, never passed to ``url_for`` as keyword arguments (a
    parameter named ``endpoint`` or ``_method`` would otherwise be taken as an argument of
    ``url_for`` itself). A page without an endpoint (a 404) links to the start page.
    """
    return f"{_page_path()}?{urlencode([*_kept_query(), ('lang', language)])}"


def language_switch() -> dict:
    """What the header's language switch (a GET form) needs: the page's path (``action``),
    the query to keep as hidden fields (``keep``, without ``lang``), the offered languages as
    (code, own name) and the current one."""
    return {
        "action": _page_path(),
        "keep": _kept_query(),
        "languages": [(code, LANGUAGE_NAMES[code]) for code in page_languages()],
        "current": current_language(),
    }


def init_app(app: Flask) -> None:
    """Keep an explicit ``?lang=`` choice in a cookie; give templates ``current_language``,
    ``text_direction``, ``language_switch``, ``language_switch_url`` and ``language_names``."""
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["text_direction"] = text_direction
    app.jinja_env.globals["language_switch"] = language_switch
    app.jinja_env.globals["language_switch_url"] = language_switch_url
    app.jinja_env.globals["language_names"] = LANGUAGE_NAMES

    @app.after_request
    def set_language_cookie(response):
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
            response.set_cookie(
                COOKIE,
                chosen,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                httponly=True,
                secure=app.config["SESSION_COOKIE_SECURE"],
            )
        return response
