"""A public page's canonical address and its language versions (``hreflang``).

German is the default language, so a page's German version is its address without ``lang``
and its English version the same address with ``?lang=en`` (see :mod:`app.i18n`). The
canonical address is the page in the language it is shown in, without tracking parameters;
the list pages (the map with its list, the event list and calendar) keep their filter query,
every other page drops its query (an employer page's way back to the search, for instance).
A page that exists in one language only (the page in Leichte Sprache) names that language's
address as canonical in every interface language, and no other versions. Addresses are
absolute, from ``BASE_URL`` (:func:`app.notifications.absolute_url`).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import request

from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language
from app.notifications import absolute_url

#: Blueprints whose pages search engines should find (the others: workspace, questionnaire…).
INDEXED_BLUEPRINTS = frozenset({"public", "events"})
#: Pages whose query string is a filter that changes what they show.
LIST_ENDPOINTS = frozenset({"public.index", "events.index", "events.calendar"})
#: Pages that exist in one language only, whatever the interface language (Leichte Sprache is
#: German by definition): their canonical address is that language's, and they name no other
#: language versions.
SINGLE_LANGUAGE_ENDPOINTS = {"public.easy_language": "de"}
#: Parameters that only say where a visitor came from.
TRACKING = re.compile(r"utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl|ref", re.ASCII)


def with_language(address: str, query: list[tuple[str, str]], language: str) -> str:
    """``address`` with ``query`` and, for a language other than German, ``lang``."""
    pairs = [*query, *([("lang", language)] if language != DEFAULT_LANGUAGE else [])]
    return f"{address}?{urlencode(pairs)}" if pairs else address


def language_versions(address: str, query: list[tuple[str, str]] = ()) -> dict[str, str]:
    """hreflang -> URL: each language's version of a page, and ``x-default`` (German)."""
    query = list(query)
    versions = {language: with_language(address, query, language) for language in LANGUAGES}
    versions["x-default"] = with_language(address, query, DEFAULT_LANGUAGE)
    return versions


def single_language_versions(address: str, language: str) -> list[tuple[str, str]]:
    """(hreflang, URL) of a page that exists in ``language`` only: that and ``x-default``."""
    only = with_language(address, [], language)
    return [(language, only), ("x-default", only)]


def page_query() -> list[tuple[str, str]]:
    """The current request's query as it matters for the canonical address: a list page's
    filter without ``lang``, tracking parameters and empty values; nothing elsewhere."""
    if request.endpoint not in LIST_ENDPOINTS:
        return []
    return [
        (key, value)
        for key, value in request.args.items(multi=True)
        if key != "lang" and value.strip() and not TRACKING.fullmatch(key)
    ]


def page_links() -> dict | None:
    """The current public page's ``canonical`` URL and ``alternates`` ((hreflang, URL) in a
    fixed order); None for pages search engines should not index or without an endpoint."""
    if request.endpoint is None or request.blueprint not in INDEXED_BLUEPRINTS:
        return None
    if request.method != "GET":
        return None
    address = absolute_url(request.endpoint, **(request.view_args or {}))
    if request.endpoint in SINGLE_LANGUAGE_ENDPOINTS:
        versions = single_language_versions(address, SINGLE_LANGUAGE_ENDPOINTS[request.endpoint])
        return {"canonical": versions[0][1], "alternates": versions}
    query = page_query()
    return {
        "canonical": with_language(address, query, current_language()),
        "alternates": list(language_versions(address, query).items()),
    }
