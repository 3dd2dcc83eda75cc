"""The filter contract parsed from a query string, without a database."""

import pytest
from flask import Flask
from flask_babel import Babel
from werkzeug.datastructures import MultiDict

from app.features.employers import parse_filter
from app.features.filters import DEFAULT_RADIUS_KM, FilterError, Place, parse_page, parse_sort
from app.services.taxonomies import Vocabulary

VOCABULARY = Vocabulary(
    sections=frozenset("ABCF"),
    divisions=frozenset({"01", "10", "41", "43"}),
    areas=frozenset("123"),
    groups=frozenset({"11", "26", "32"}),
    family=("part_time", "home_office"),
    municipalities=frozenset({"05562032", "05562024"}),
    languages=frozenset({"de", "en", "tr"}),
)
MARL = Place(7.1, 51.65, "Marl", "Marl")


def resolve(text):
    return MARL if text.lower() == "marl" else None


@pytest.fixture(autouse=True)
def babel_context():
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield


def parse(query: str):
    from urllib.parse import parse_qsl

    return parse_filter(MultiDict(parse_qsl(query)), VOCABULARY, resolve)


def test_empty_query_narrows_nothing():
    f = parse("")
    assert f.sections == f.divisions == f.sizes == frozenset()
    assert f.near is None and f.bbox is None and f.zoom is None
    assert f.query_args() == {}
    assert f.active_count == 0


def test_sector_splits_into_sections_and_divisions_any_of():
    f = parse("sector=F,43&sector=c")
    assert f.sections == {"F", "C"}
    assert f.divisions == {"43"}


def test_occupation_splits_into_areas_and_groups():
    f = parse("occupation=2,32")
    assert f.areas == {"2"}
    assert f.groups == {"32"}


def test_near_with_default_and_given_radius():
    assert parse("near=Marl").radius_km == DEFAULT_RADIUS_KM
    f = parse("near=Marl&radius_km=2,5")
    assert f.near == MARL
    assert f.radius_km == 2.5
    assert f.radius_m == 2500


def test_near_as_latitude_and_longitude():
    f = parse("near=51.6146, 7.1975")
    assert (f.near.lat, f.near.lon) == (51.6146, 7.1975)


def test_radius_without_place_is_ignored_and_not_in_the_permalink():
    f = parse("radius_km=5")
    assert f.near is None
    assert f.query_args() == {}


def test_permalink_arguments_are_canonical():
    f = parse("size=small&size=micro&q=  Bäcker   Meister &near=Marl&radius_km=5&zoom=12")
    assert f.query_args() == {
        "q": "Bäcker Meister",
        "near": "Marl",
        "radius_km": "5",
        "size": "small,micro",
    }
    assert f.active_count == 3


def test_bbox_and_zoom():
    f = parse("bbox=7.0,51.5,7.3,51.7&zoom=12")
    assert f.bbox == (7.0, 51.5, 7.3, 51.7)
    assert f.zoom == 12
    assert f.without_view().bbox is None


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("sector=Z", "sector"),
        ("sector=99", "sector"),
        ("occupation=9", "occupation"),
        ("municipality=05513000", "municipality"),
        ("near=Atlantis", "near"),
        ("near=91,7", "near"),
        ("near=Marl&radius_km=-3", "radius_km"),
        ("near=Marl&radius_km=101", "radius_km"),
        ("near=Marl&radius_km=inf", "radius_km"),
        ("size=tiny", "size"),
        ("family=all", "family"),
        ("offers=money", "offers"),
        ("language=fr", "language"),
        ("q=" + "a" * 201, "q"),
        ("bbox=7,51,7,52", "bbox"),
        ("bbox=7,51,8", "bbox"),
        ("zoom=23", "zoom"),
        ("zoom=1.5", "zoom"),
    ],
)
def test_bad_values_name_their_parameter(query, parameter):
    with pytest.raises(FilterError) as error:
        parse(query)
    assert error.value.parameter == parameter
    assert str(error.value.message)


def test_page_and_sort():
    from urllib.parse import parse_qsl

    near = parse("near=Marl")
    assert parse_sort(MultiDict(), near) == "distance"
    assert parse_sort(MultiDict(), parse("")) == "name"
    assert parse_sort(MultiDict([("sort", "name")]), near) == "name"
    with pytest.raises(FilterError):
        parse_sort(MultiDict([("sort", "distance")]), parse(""))
    with pytest.raises(FilterError):
        parse_sort(MultiDict([("sort", "size")]), near)
    assert parse_page(MultiDict(parse_qsl("page=3"))) == 3
    for bad in ("page=0", "page=-1", "page=x"):
        with pytest.raises(FilterError):
            parse_page(MultiDict(parse_qsl(bad)))


def test_a_place_counts_once_with_or_without_a_radius():
    assert parse_filter(MultiDict({"near": "Marl"}), VOCABULARY, resolve).active_count == 1
    with_radius = parse_filter(MultiDict({"near": "Marl", "radius_km": "5"}), VOCABULARY, resolve)
    assert with_radius.active_count == 1
    assert with_radius.query_args() == {"near": "Marl", "radius_km": "5"}


def test_permalinks_keep_the_place_that_was_used_not_every_one_given():
    args = MultiDict([("near", ""), ("near", "Dorsten"), ("radius_km", "5"), ("radius_km", "x")])
    f = parse_filter(args, VOCABULARY, resolve)
    assert f.near is None and f.query_args() == {}
    f = parse_filter(MultiDict([("near", "Marl"), ("near", "Dorsten")]), VOCABULARY, resolve)
    assert f.query_args() == {"near": "Marl"}
