"""Interface language: German by default, English on request (``?lang=en``, then a cookie)."""

from __future__ import annotations

from urllib.parse import urlencode

from babel import Locale
from flask import Flask, has_request_context, request, url_for
from flask_babel import get_locale

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
COOKIE = "lang"


def select_locale() -> str:
    """The language for this request: ``lang`` in the URL, then the cookie, then German
    (also outside a request, e.g. in CLI commands)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    for candidate in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def current_language() -> str:
    """The language code of the current request ('de' or 'en')."""
    locale = get_locale()
    return locale.language if locale else DEFAULT_LANGUAGE


def language_name(code: str, in_language: str | None = None) -> str:
    """The name of an ISO 639-1 language, in the interface language: 'tr' -> 'Türkisch'."""
    names = Locale(in_language or current_language()).languages
    return names.get(code, code)


def iso_639_1_codes() -> frozenset[str]:
    """All two-letter ISO 639-1 language codes Babel knows."""
    return frozenset(code for code in Locale("en").languages if len(code) == 2)


def language_switch_url(language: str) -> str:
    """This page in another language: the same path and query string with ``lang`` replaced.

    The query string is copied as data, never passed to ``url_for`` as keyword arguments (a
    parameter named ``endpoint`` or ``_method`` would otherwise be taken as an argument of
    ``url_for`` itself). A page without an endpoint (a 404) links to the start page.
    """
    if request.endpoint is None:
        return url_for("public.index", lang=language)
    path = url_for(request.endpoint, **(request.view_args or {}))
    query = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return f"{path}?{urlencode([*query, ('lang', language)])}"


def init_app(app: Flask) -> None:
    """Keep an explicit ``?lang=`` choice in a cookie; give templates ``current_language`` and
    ``language_switch_url``."""
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["language_switch_url"] = language_switch_url

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
