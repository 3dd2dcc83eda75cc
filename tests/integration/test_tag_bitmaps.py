"""The map's tag bitmaps (issue 16, :mod:`app.features.tag_bitmaps`): a filter of tags
answered from the process's bitmaps gives the same answer as the database, and a
snapshot is never used once a change has committed after it was loaded. No timings here."""

import copy
import dataclasses

import pytest
from sqlalchemy import select

from app.extensions import db
from app.features import map_index, pipeline, tag_bitmaps
from app.features.employers import EMPLOYERS
from app.models import Company, CompanyStatus
from tests.integration import test_map_index
from tests.integration.test_map_index import BBOXES, FILTERS, ZOOMS, _filter

#: The map index tests' 60 employers (a fixture).
employers = test_map_index.employers

SETTINGS = pipeline.MapSettings(threshold=5, max_zoom=15, default_zoom=10, latitude=51.6)
#: Filters that are not tags only: always answered by the database.
NOT_TAGS = ("q=Betrieb", f"near={test_map_index.RE[1]},{test_map_index.RE[0]}&radius_km=5")
#: Filters of several tags: answered by the bitmaps in any view.
SEVERAL_TAGS = (
    "sector=F,47",
    "family=part_time,home_office",
    "sector=F&size=micro&family=home_office&offers=jobs",
    "sector=43&size=small,micro",
    "within=transit:2000&sector=F",
    "occupation=2&language=tr",
)


@pytest.fixture
def bitmaps(app):
    """The app with its tag bitmaps switched on (loaded by the test)."""
    app.extensions["tag_bitmaps"] = loaded = tag_bitmaps.Bitmaps(app)
    yield loaded
    loaded.wait()


def _rounded(answer: dict) -> dict:
    """The answer with its coordinates to 5 decimals (the sums of a cluster's coordinates are
    added in another order by the database than by the bitmaps' arrays)."""
    for feature in answer["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        feature["geometry"]["coordinates"] = [round(lon, 5), round(lat, 5)]
        if "bbox" in feature:
            feature["bbox"] = [round(value, 5) for value in feature["bbox"]]
    return answer


def _answers(query, bbox, zoom):
    f = _filter(query, bbox, zoom)
    return _rounded(map_index.map_data(f, SETTINGS))


def _assert_same(found: dict, expected: dict, where) -> None:
    """``found`` (from the bitmaps) is ``expected`` (from the database), but that a cluster's
    extent may be narrower: the bitmaps give the extent of its points, the stored cells (one
    tag) the cell's bounds."""
    found, expected = copy.deepcopy(found), copy.deepcopy(expected)
    assert len(found["features"]) == len(expected["features"]), where
    for mine, theirs in zip(found["features"], expected["features"], strict=True):
        if mine["properties"].get("cluster") and theirs["properties"].get("cluster"):
            west, south, east, north = mine["properties"].pop("bbox")
            outer = theirs["properties"].pop("bbox")
            assert outer[0] <= west <= east <= outer[2], where
            assert outer[1] <= south <= north <= outer[3], where
    assert found == expected, where


def test_the_bitmaps_answer_as_the_database_does(app, employers, bitmaps, monkeypatch):
    with app.test_request_context():
        expected = {
            (query, bbox, zoom): _answers(query, bbox, zoom)
            for query in FILTERS
            for bbox in BBOXES
            for zoom in (*ZOOMS, 15, 17)
        }
        bitmaps.reload(wait=True)
        database = map_index._from_database
        asked = []

        def only_for_others(f, zoom, settings):
            asked.append(f)
            return database(f, zoom, settings)

        monkeypatch.setattr(map_index, "_from_database", only_for_others)
        for (query, bbox, zoom), answer in expected.items():
            found = _answers(query, bbox, zoom)
            if query in SEVERAL_TAGS:  # counted live by the database: the same extents
                assert found == answer, (query, bbox, zoom)
            _assert_same(found, answer, (query, bbox, zoom))
        # The filters of tags were all answered from the bitmaps (a view of 60 employers).
        for query in FILTERS:
            for bbox in BBOXES:
                asked.clear()
                f = _filter(query, bbox, 9)
                data = map_index.map_data(f, SETTINGS)
                assert bool(asked) == (query in NOT_TAGS), query
                assert data["total"] == pipeline.count_rows(EMPLOYERS, f), (query, bbox)
                assert data["matched"] == pipeline.count_rows(EMPLOYERS, f, use_view=False)


def test_one_tag_in_a_view_of_many_comes_from_the_stored_cells(
    app, employers, bitmaps, monkeypatch
):
    """Above ``STORED_CELLS_FROM`` employers in the view, one tag (or none) is clustered from
    the stored cells inside the view and the bitmaps on its edge (without a view: from the
    database), several tags still from the bitmaps alone; the answers stay the same."""
    with app.test_request_context():
        bitmaps.reload(wait=True)
        answers = {
            (query, bbox, zoom): _answers(query, bbox, zoom)
            for query in FILTERS
            for bbox in BBOXES
            for zoom in (6, 9, 11, 12, 13, 14, 17)
        }
        monkeypatch.setattr(map_index, "STORED_CELLS_FROM", 3)
        asked, stored_cells = [], []

        def recorded(function, calls):
            def wrapper(*args, **kwargs):
                calls.append(args)
                return function(*args, **kwargs)

            return wrapper

        monkeypatch.setattr(map_index, "_from_database", recorded(map_index._from_database, asked))
        monkeypatch.setattr(
            map_index, "_stored_cells", recorded(map_index._stored_cells, stored_cells)
        )
        for (query, bbox, zoom), answer in answers.items():
            asked.clear()
            stored_cells.clear()
            found = _answers(query, bbox, zoom)
            stored = (
                query not in NOT_TAGS
                and map_index.single_tag(_filter(query, bbox, zoom)) is not None
                and zoom <= max(map_index.BANDS)
                and answer["total"] > 3
            )
            interior = bbox is not None and map_index.View(zoom, bbox).interior() is not None
            if stored:  # the stored cells: a cluster's extent is its cell's
                _assert_same(answer, found, (query, bbox, zoom))
                assert stored_cells or not interior, (query, bbox, zoom)
            else:
                assert found == answer, (query, bbox, zoom)
                assert not stored_cells, (query, bbox, zoom)
            database = query in NOT_TAGS or (stored and not interior)
            assert bool(asked) == database, (query, bbox, zoom)


def test_markers_from_the_bitmaps_show_what_the_database_holds(app, employers, bitmaps):
    """Single employers' markers (``properties=marker``: a street view, and the single
    employers between a town view's clusters) come from the snapshot with their slugs and
    names, also names that are not ASCII, and a rename is shown at once (the snapshot
    predates it) and by the next snapshot."""
    markers = dataclasses.replace(SETTINGS, properties="marker", limit=7)
    with app.test_request_context():
        renamed = db.session.scalars(
            select(Company).where(Company.status == CompanyStatus.PUBLISHED).order_by(Company.id)
        ).first()
        renamed.name = "Çiçek Bäckerei ✓"
        db.session.commit()

        def answers():
            return {
                (query, bbox, zoom): _rounded(
                    map_index.map_data(_filter(query, bbox, zoom), markers)
                )
                for query in FILTERS
                for bbox in BBOXES
                for zoom in (12, 17)
            }

        expected = answers()
        bitmaps.reload(wait=True)
        found = answers()
        for key, answer in found.items():
            _assert_same(answer, expected[key], key)
        singles = [
            (zoom, feature["properties"])
            for (_, _, zoom), answer in found.items()
            for feature in answer["features"]
            if not feature["properties"].get("cluster")
        ]
        assert {zoom for zoom, _ in singles} == {12, 17}
        assert "Çiçek Bäckerei ✓" in {properties["name"] for _, properties in singles}
        assert any(answer["limited"] for answer in found.values())

        renamed = db.session.get(Company, renamed.id)
        renamed.name = "Blumen Yılmaz"
        db.session.commit()
        for snapshot_loaded in (False, True):
            if snapshot_loaded:
                bitmaps.reload(wait=True)
            assert (tag_bitmaps.current() is not None) == snapshot_loaded
            answer = map_index.map_data(_filter("", None, 17), markers)
            first = answer["features"][0]["properties"]
            assert (first["id"], first["name"]) == (renamed.id, "Blumen Yılmaz")
            assert first["slug"] == renamed.slug


def test_a_snapshot_is_not_used_after_a_change_until_it_is_loaded_again(
    app, employers, bitmaps, monkeypatch
):
    query, bbox = "sector=F,47,10,43,56,62,86&size=micro,small,medium,large", BBOXES[0]
    with app.test_request_context():
        bitmaps.reload(wait=True)
        f = _filter(query, bbox, 9)
        before = map_index.map_data(f, SETTINGS)
        loaded = bitmaps.snapshot
        assert tag_bitmaps.current() is loaded

        draft = db.session.get(Company, employers[0])
        assert draft.status is CompanyStatus.DRAFT
        draft.status = CompanyStatus.PUBLISHED
        db.session.commit()

        # The snapshot predates the publish: the answer comes from the database (and counts
        # the new employer), while a new snapshot is loaded.
        monkeypatch.setattr(bitmaps, "reload", lambda wait: None)
        assert tag_bitmaps.current() is None
        after = map_index.map_data(f, SETTINGS)
        assert after["total"] == before["total"] + 1
        assert after["matched"] == before["matched"] + 1
        monkeypatch.undo()

        bitmaps.reload(wait=True)
        assert bitmaps.snapshot is not loaded
        assert tag_bitmaps.current() is bitmaps.snapshot
        assert map_index.map_data(f, SETTINGS)["total"] == after["total"]


def test_a_stale_snapshot_starts_one_load_in_the_background(app, employers, bitmaps):
    with app.test_request_context():
        assert tag_bitmaps.current() is None  # nothing loaded yet: a load begins
        bitmaps.wait()
        assert tag_bitmaps.current() is bitmaps.snapshot is not None


def test_a_load_that_fails_leaves_the_database_to_answer(app, employers, bitmaps, monkeypatch):
    def broken(engine):
        raise RuntimeError("database away")

    monkeypatch.setattr(tag_bitmaps, "load", broken)
    with app.test_request_context():
        bitmaps.reload(wait=True)
        assert bitmaps.snapshot is None
        f = _filter("sector=F&size=micro", BBOXES[1], 9)
        assert map_index.map_data(f, SETTINGS)["total"] == pipeline.count_rows(EMPLOYERS, f)


def test_the_switch_turns_the_bitmaps_off(app):
    assert "tag_bitmaps" not in app.extensions  # the test suite's default
    with app.app_context():
        assert tag_bitmaps.current() is None


def test_the_health_check_says_whether_the_bitmaps_are_loaded(app, client, employers):
    assert client.get("/healthz").get_json()["map_bitmaps"] == "off"
    loaded = tag_bitmaps.Bitmaps(app)
    app.extensions["tag_bitmaps"] = loaded
    assert client.get("/healthz").get_json()["map_bitmaps"] == "loading"
    loaded.reload(wait=True)
    body = client.get("/healthz").get_json()
    assert body["map_bitmaps"] == "loaded"
    assert body["status"] == "ok"


def test_positions_in_an_unexpected_format_are_refused():
    with pytest.raises(ValueError, match="unexpected COPY data"):
        tag_bitmaps._rows(b"not the binary COPY format")
