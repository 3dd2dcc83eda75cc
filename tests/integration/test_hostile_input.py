"""Hostile values in every parameter of every route never come back as markup, and never cause
a server error (issue 9: reflected XSS through filter error messages).

The routes come from the URL map, so a new page or API endpoint is covered without editing this
file. Each query parameter any view reads is sent alone (so that its own error message is
reached, not the first parameter's) and all together, by an anonymous visitor and by an admin.
"""

from __future__ import annotations

import re

import pytest
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import AnyConverter, IntegerConverter

from app.blueprints.filtering import request_filter
from app.features.employers import FILTER_PARAMS
from app.features.filters import FilterError
from app.models import CompanyStatus
from tests.conftest import AuthActions, csrf_token

#: Payloads for HTML text, attribute and script contexts. None may come back verbatim in HTML.
PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</script><script>alert(1)</script>",
)
#: Every query parameter a view reads (filters, list, workspace) plus url_for's own arguments.
PARAMETERS = (
    *FILTER_PARAMS,
    "bbox",
    "zoom",
    "page",
    "sort",
    "lang",
    "seite",
    "eintrag",
    "status",
    "format",
    "private",
    "next",
    "postal_code",
    "endpoint",
    "_method",
    "_external",
    "_anchor",
)
SKIPPED = {"static"}


def _path_values(rule, company_id: int, slug: str) -> dict:
    """Real values for the route's URL parts, so that the view itself runs."""
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter):
            values[name] = company_id
        elif name == "slug":
            values[name] = slug
        else:
            values[name] = PAYLOADS[0]
    return values


def get_urls(app, company_id: int, slug: str) -> list[str]:
    """The URL of every GET route, with its URL parts filled in."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in SKIPPED or "GET" not in rule.methods:
                continue
            urls.append(url_for(rule.endpoint, **_path_values(rule, company_id, slug)))
    return sorted(urls)


def assert_not_reflected(response, url: str) -> None:
    """No server error, and no payload verbatim in an HTML answer."""
    assert response.status_code < 500, f"{url}: {response.status_code}"
    body = response.get_data(as_text=True)
    if response.mimetype == "text/html" or "<html" in body[:200].lower():
        for payload in PAYLOADS:
            assert payload not in body, f"{url} reflects {payload!r} unescaped"
    elif response.mimetype == "text/plain":  # e.g. the event feed's filter error: never sniffed
        assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    elif response.mimetype == "text/javascript":  # the service worker: nothing of the query in it
        for payload in PAYLOADS:
            assert payload not in body, f"{url} reflects {payload!r}"
    elif response.mimetype not in ("application/json", "application/geo+json"):
        assert response.mimetype.startswith(
            ("text/csv", "text/calendar", "application/", "text/css", "image/svg+xml")
        ), response.mimetype


@pytest.fixture
def entry(make_company):
    """A published entry whose pages the hostile requests reach."""
    return make_company("Bäckerei Sicher", slug="baeckerei-sicher")


@pytest.fixture
def admin(app, make_staff):
    client = app.test_client()
    assert AuthActions(client, make_staff).login("admin").status_code == 302
    return client


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_no_route_reflects_a_hostile_query_value(app, entry, admin, role):
    client = admin if role == "admin" else app.test_client()
    urls = get_urls(app, entry, "baeckerei-sicher")
    assert "/" in urls and "/agentur/export" in urls and "/api/employers" in urls
    for url in urls:
        if role == "anonymous" and url.startswith("/agentur") and url != "/agentur/anmelden":
            # Signed out, the workspace answers 403 with the sign-in form; once is enough.
            requests = [{name: PAYLOADS[0] for name in PARAMETERS}]
        else:
            # Each parameter alone (with the two markup payloads in turn), then all at once.
            requests = [
                *({name: PAYLOADS[number % 2]} for number, name in enumerate(PARAMETERS)),
                {name: PAYLOADS[2] for name in PARAMETERS},
            ]
        for query in requests:
            assert_not_reflected(client.get(url, query_string=query), f"{url} {query}")


def test_hostile_path_values_are_not_reflected(app, admin):
    with app.test_request_context():
        urls = [
            url_for(rule.endpoint, **{name: payload for name in rule.arguments})
            for rule in app.url_map.iter_rules()
            if rule.endpoint not in SKIPPED
            and "GET" in rule.methods
            and all(
                not isinstance(c, AnyConverter | IntegerConverter)
                for c in rule._converters.values()
            )
            and rule.arguments
            for payload in PAYLOADS
        ]
    assert urls
    for url in urls:
        for client in (app.test_client(), admin):
            assert_not_reflected(client.get(url), url)


@pytest.mark.parametrize(
    "parameter", ["near", "sector", "occupation", "municipality", "size", "family", "offers",
                  "language", "radius_km", "bbox"]
)  # fmt: skip
def test_filter_error_message_quotes_the_value_escaped(client, parameter):
    payload = PAYLOADS[0]
    response = client.get("/", query_string={parameter: payload})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert payload not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # shown, as text


def test_export_page_error_is_escaped_for_staff(admin):
    payload = PAYLOADS[0]
    page = admin.get("/agentur/export", query_string={"near": payload}).get_data(as_text=True)
    assert payload not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_filter_messages_are_plain_text_not_markup(app):
    with app.test_request_context("/?size=<b>x</b>"), pytest.raises(FilterError) as raised:
        request_filter()
    assert type(raised.value.message) is str
    assert not hasattr(raised.value.message, "__html__")


def test_a_long_value_is_quoted_shortened(client):
    response = client.get("/api/employers", query_string={"size": "x" * 5000})
    assert response.status_code == 400
    assert len(response.get_json()["message"]) < 300


@pytest.mark.parametrize("status", [CompanyStatus.PENDING, CompanyStatus.REJECTED])
def test_unpublished_entries_stay_hidden_behind_hostile_queries(client, make_company, status):
    make_company("Nicht öffentlich", status=status, slug="nicht-oeffentlich")
    response = client.get("/api/employers", query_string={"q": "öffentlich", "zoom": "15"})
    assert response.get_json()["total"] == 0
    assert client.get("/arbeitgeber/nicht-oeffentlich").status_code == 404


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(["/", "/api/employers", "/api/employers/list"]),
    pairs=st.lists(
        st.tuples(
            st.sampled_from([*PARAMETERS[:14]]),
            st.one_of(st.text(max_size=30), st.sampled_from(["²", "\x00", "1e999", "Marl"])),
        ),
        max_size=5,
    ),
)
def test_any_query_string_answers_200_or_400(client, path, pairs):
    response = client.get(path, query_string=pairs)
    assert response.status_code in (200, 400), (path, pairs, response.status_code)
    if response.status_code == 400 and path.startswith("/api/"):
        assert set(response.get_json()) >= {"parameter", "message"}


FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')
#: Form fields of forms that have no page of their own to read them from.
FALLBACK_FIELDS = ("email", "password", "reason", "version", "keep_version", "drop_version",
                   "action", "name", "role", "status", "draft", "csrf_token")  # fmt: skip
#: POSTs that would end the signed-in session the sweep goes on with.
NOT_SWEPT = {"staff.logout"}


def post_targets(app, company_id: int) -> list[tuple[str, str]]:
    """(url, page to read the fields from) for every POST route; every step of the
    questionnaire counts as its own route."""
    targets = []
    steps = app.extensions["questionnaire"].keys
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods or rule.endpoint in NOT_SWEPT:
                continue
            for step in steps if "step_key" in rule.arguments else [None]:
                values = _path_values(rule, company_id, "baeckerei-sicher")
                if step:
                    values["step_key"] = step
                url = url_for(rule.endpoint, **values)
                targets.append((url, url if "GET" in rule.methods else None))
    return sorted(targets)


def swept_form(client, page_url: str | None, payload: str) -> dict:
    """Every field of the page's forms (or the usual names) set to ``payload``, with a valid
    CSRF token of ``client``'s session."""
    names = set(FALLBACK_FIELDS)
    if page_url:
        names |= set(FIELD.findall(client.get(page_url).get_data(as_text=True)))
    data = dict.fromkeys(names, payload)
    data["csrf_token"] = csrf_token(client)
    return data


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_no_form_reflects_a_hostile_value(app, entry, admin, role):
    client = admin if role == "admin" else app.test_client()
    client.post("/mitmachen/start", data={"csrf_token": csrf_token(client)})
    targets = post_targets(app, entry)
    assert any(url.startswith("/mitmachen/schritt/") for url, _ in targets)
    for url, page in targets:
        for payload in PAYLOADS:
            response = client.post(url, data=swept_form(client, page, payload))
            assert_not_reflected(response, f"POST {url}")
            if response.status_code in (301, 302, 303) and response.location.startswith("/"):
                assert_not_reflected(client.get(response.location), f"after POST {url}")
