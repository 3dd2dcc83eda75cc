"""Property tests of the filter parser: any query string gives a filter or a FilterError with a
plain-text message, never another exception (issue 9)."""

import pytest
from flask import Flask
from flask_babel import Babel
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from app.features.employers import FILTER_PARAMS, EmployerFilter, parse_filter
from app.features.filters import FilterError, parse_page, parse_sort
from tests.unit.test_filters import VOCABULARY, resolve

NAMES = (*FILTER_PARAMS, "bbox", "zoom", "page", "sort")
#: Values near the edges: digits of other scripts, signs, separators, control characters.
TRICKY = st.sampled_from(
    ["²", "³", "①", "٣", "1e400", "nan", "-inf", "1_0", "0x1f", "\x00", "\ufeff", ",", ",,",
     "51.6,7.1", "91,181", "-0", "  ", "Marl", "F", "43", "26", "micro", "part_time", "de",
     "7,51,8,52", "7.0,51.0,7.0,51.0", "99999999999999999999", "22", "23", "1", "distance"]
)  # fmt: skip
VALUES = st.one_of(TRICKY, st.text(max_size=40), st.lists(TRICKY, max_size=3).map(",".join))
QUERIES = st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=8)


@pytest.fixture(scope="module")
def request_context():
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield


@settings(max_examples=400, deadline=None)
@given(QUERIES)
def test_any_query_string_gives_a_filter_or_a_plain_filter_error(request_context, pairs):
    args = MultiDict(pairs)
    try:
        parsed = parse_filter(args, VOCABULARY, resolve)
        sort = parse_sort(args, parsed)
        page = parse_page(args)
    except FilterError as error:
        assert error.parameter in NAMES
        assert type(error.message) is str and error.message
        return
    assert isinstance(parsed, EmployerFilter)
    assert sort in ("name", "distance")
    assert page >= 1
    assert parsed.zoom is None or 0 <= parsed.zoom <= 22
    if parsed.bbox:
        west, south, east, north = parsed.bbox
        assert -180 <= west < east <= 180 and -90 <= south < north <= 90
    # Permalinks round-trip: parsing the canonical parameters again gives the same filter.
    assert parse_filter(MultiDict(parsed.query_args()), VOCABULARY, resolve).query_args() == (
        parsed.query_args()
    )
