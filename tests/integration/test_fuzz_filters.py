"""Fuzzing the filter parser through HTTP (issue 17): arbitrary query strings for every public
filter parameter of the employer and event sources, on every page and endpoint that reads them.

Whatever is asked, the answer is 200 or 400 (a bad parameter), never a server error; a 400 says
what is wrong in the visitor's language: the JSON carries the parser's own message for the same
query (German by default, English with ``lang=en``), a page shows it in its error box.
"""

from __future__ import annotations

import html

import pytest
from flask import request
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.blueprints.filtering import request_filter
from app.features import events
from app.features.employers import FILTER_PARAMS
from app.features.filters import FilterError, parse_page, parse_properties, parse_sort

EMPLOYER_NAMES = (*FILTER_PARAMS, "bbox", "zoom", "page", "sort", "properties")
EVENT_NAMES = (*events.FILTER_PARAMS, "bbox", "zoom", "page", "sort")
#: Values at the edges: other scripts' digits, huge and odd numbers, separators, NUL and other
#: control characters, byte order mark, right-to-left text, and values that are valid.
TRICKY = st.sampled_from(
    ["²", "①", "٣", "۵", "१०", "５", "1e400", "-1e400", "nan", "inf", "1_0", "0x1f", "\x00",
     "\x1b[31m", "\ufeff", "\u202e", ",", ",,,", ":", "51.6,7.1", "91,181", "-0", "  ",
     "Marl", "45768", "F", "43", "2", "micro", "part_time", "de", "transit:500", "bus:300",
     "7,51,8,52", "7.0,51.0,7.0,51.0", "99999999999999999999", "2147483648", "22", "23",
     "1", "0", "distance", "name", "marker", "all", "workshop", "yes", "online", "𝟘",
     "ﷺ", "ß" * 300]
)  # fmt: skip
VALUES = st.one_of(
    TRICKY,
    st.text(max_size=30),
    st.lists(TRICKY, min_size=1, max_size=3).map(",".join),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
LANGUAGES = st.sampled_from([None, "en", "tr", "ar", "uk"])
FUZZ = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _pairs(names):
    """Query pairs: any of ``names`` (repeated keys included) with any value."""
    return st.lists(st.tuples(st.sampled_from(names), VALUES), max_size=6)


def _expected_error(app, path: str, pairs, language) -> FilterError | None:
    """The FilterError the employer parser raises for this query at ``path`` (or None): the
    map data read the filter and ``properties``, a list (and a page) the sort and page too."""
    query = [*pairs, *([("lang", language)] if language else [])]
    with app.test_request_context(path, query_string=query):
        try:
            parsed = request_filter()
            if path == "/api/employers":
                parse_properties(request.args)
            else:
                parse_sort(request.args, parsed)
                parse_page(request.args)
        except FilterError as error:
            return error
    return None


def _get(app, path, pairs, language):
    """GET ``path`` with a fresh client (``lang`` is kept in a cookie, which must not carry over
    from one example to the next)."""
    client = app.test_client()
    query = [*pairs, *([("lang", language)] if language else [])]
    return client.get(path, query_string=query)


@pytest.fixture
def entries(make_company, make_event):
    """One published employer and one event, so the answers are not trivially empty."""
    make_company("Bäckerei Fuzz", slug="baeckerei-fuzz")
    make_event(title="Bewerbungstraining")


@pytest.mark.parametrize("path", ["/api/employers", "/api/employers/list"])
@FUZZ
@given(pairs=_pairs(EMPLOYER_NAMES), language=LANGUAGES)
@example(pairs=[("zoom", "٣")], language=None)
@example(pairs=[("radius_km", "1e400"), ("near", "Marl")], language="en")
@example(pairs=[("page", "2147483648")], language=None)
@example(pairs=[("bbox", "nan,nan,nan,nan")], language="en")
def test_employer_api_answers_200_or_a_400_with_the_parsers_message(
    app, entries, path, pairs, language
):
    response = _get(app, path, pairs, language)
    assert response.status_code in (200, 400), (pairs, response.status_code)
    expected = _expected_error(app, path, pairs, language)
    if response.status_code == 400:
        body = response.get_json()
        assert expected is not None, pairs
        assert body["parameter"] == expected.parameter
        assert body["message"] == expected.message and body["message"].strip()
    else:
        assert expected is None, pairs


@pytest.mark.parametrize("path", ["/api/events", "/api/events/list"])
@FUZZ
@given(pairs=_pairs(EVENT_NAMES), language=LANGUAGES)
@example(pairs=[("free", "\x00")], language=None)
def test_event_api_answers_200_or_a_400_with_a_message(app, entries, path, pairs, language):
    response = _get(app, path, pairs, language)
    assert response.status_code in (200, 400), (pairs, response.status_code)
    if response.status_code == 400:
        body = response.get_json()
        assert body["message"].strip() and body["parameter"], body


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/", EMPLOYER_NAMES),
        ("/einbetten/karte", EMPLOYER_NAMES),
        ("/veranstaltungen", EVENT_NAMES),
        ("/einbetten/veranstaltungen", EVENT_NAMES),
    ],
)
@FUZZ
@given(data=st.data(), language=LANGUAGES)
def test_pages_answer_200_or_a_400_showing_the_message(app, entries, path, names, data, language):
    pairs = data.draw(_pairs(names))
    response = _get(app, path, pairs, language)
    assert response.status_code in (200, 400), (pairs, response.status_code)
    if response.status_code == 400 and path in ("/", "/einbetten/karte"):
        expected = _expected_error(app, "/api/employers/list", pairs, language)
        assert expected is not None, pairs
        page = html.unescape(response.get_data(as_text=True))
        assert expected.message in page, (pairs, expected.message)


@pytest.mark.parametrize(
    ("language", "words"),
    [(None, "Zoomstufe"), ("en", "zoom level")],
)
@pytest.mark.parametrize("path", ["/api/employers", "/"])
def test_a_bad_value_is_explained_in_the_visitors_language(app, path, language, words):
    response = _get(app, path, [("zoom", "٣")], language)
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)


def test_the_parser_itself_never_raises_anything_but_filter_error(app):
    """Direct: every parameter's value through the parser in one request context."""

    @FUZZ
    @given(pairs=_pairs(EMPLOYER_NAMES))
    def check(pairs):
        with app.test_request_context("/", query_string=pairs):
            try:
                parsed = request_filter()
                parse_sort(request.args, parsed)
                parse_page(request.args)
                parse_properties(request.args)
            except FilterError as error:
                assert type(error.message) is str and error.message.strip()
                assert error.parameter in EMPLOYER_NAMES

    check()
