"""The shared map cache (issue 16): unfiltered employer map answers are served from PostgreSQL
to every process, and never once a change has been committed after them."""

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models import Company, CompanyStatus
from tests.fixtures import RE

VIEW = "/api/employers?zoom=9&bbox=6.9,51.4,7.6,51.8"


@pytest.fixture
def two(make_company):
    return [
        make_company("Erster Betrieb", lon=RE[0], lat=RE[1]),
        make_company("Zweiter Betrieb", lon=RE[0] + 0.25, lat=RE[1], status=CompanyStatus.DRAFT),
    ]


def _get(client, path=VIEW):
    response = client.get(path)
    assert response.status_code == 200
    return response.headers["X-Map-Cache"], response.get_json()


def _names(data):
    return sorted(f["properties"]["name"] for f in data["features"])


def test_an_unfiltered_view_is_computed_once_and_shared(app, two):
    first, second = app.test_client(), app.test_client()  # two visitors
    assert _get(first)[0] == "miss"
    state, data = _get(second)
    assert state == "hit"
    assert _names(data) == ["Erster Betrieb"]
    # Another language or another view is another answer.
    assert _get(second, VIEW + "&lang=en")[0] == "miss"
    assert _get(second, "/api/employers?zoom=10&bbox=6.9,51.4,7.5,51.8")[0] == "miss"


def test_filtered_views_and_other_sources_are_not_cached(app, client, two):
    assert _get(client, VIEW + "&sector=F")[0] == "off"
    assert _get(client, VIEW + "&within=transit:500")[0] == "off"
    assert client.get("/api/features/events").headers["X-Map-Cache"] == "off"


@pytest.mark.parametrize("change", ["publish", "edit", "unpublish", "delete", "sector"])
def test_the_cache_never_serves_an_answer_that_predates_a_change(app, client, two, change):
    _get(client)
    assert _get(client)[0] == "hit"
    with app.app_context():
        first, second = db.session.get(Company, two[0]), db.session.get(Company, two[1])
        if change == "publish":
            second.status = CompanyStatus.PUBLISHED
        elif change == "edit":
            first.name = "Umbenannter Betrieb"
        elif change == "unpublish":
            first.status = CompanyStatus.PENDING
        elif change == "delete":
            db.session.delete(first)
        else:
            first.sectors = []
        db.session.commit()
    state, data = _get(client)
    assert state == "miss"
    expected = {
        "publish": ["Erster Betrieb", "Zweiter Betrieb"],
        "edit": ["Umbenannter Betrieb"],
        "unpublish": [],
        "delete": [],
        "sector": ["Erster Betrieb"],
    }[change]
    assert _names(data) == expected
    if change == "sector":
        assert data["features"][0]["properties"]["sectors"] == []


def test_an_answer_computed_before_a_commit_is_not_served_after_it(app, two):
    """The race: an answer computed from data older than a publish (stored after the
    publish committed) is stored under the older generation and never served."""
    from app.features import map_cache

    with app.test_request_context():
        before = map_cache.generation()
        company = db.session.get(Company, two[1])
        company.status = CompanyStatus.PUBLISHED
        db.session.commit()
        assert map_cache.generation() == before + 1
        map_cache.put("race", before, b"stale")
        assert map_cache.get("race") is None
        map_cache.put("race", before + 1, b"fresh")
        assert map_cache.get("race") == b"fresh"


def test_one_transaction_raises_the_generation_once(app, two):
    with app.app_context():
        before = db.session.scalar(text("SELECT generation FROM map_generation"))
        for company in db.session.query(Company):
            company.description = "Neu beschrieben"
        db.session.commit()
        after = db.session.scalar(text("SELECT generation FROM map_generation"))
    assert after == before + 1


def test_the_cache_can_be_switched_off(app, client, two):
    app.config["MAP_CACHE"] = False
    assert _get(client)[0] == "off"
