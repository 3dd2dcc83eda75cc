"""The map index (issue 16): the tables the database keeps for the map (migration 0012) agree
with the employer query at every zoom and for every filter, and stay right through inserts,
updates, deletes, publishes, merges, layer changes and boundary changes. No timings here: the
figures come from ``make bench``."""

import random
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.features import map_index, pipeline
from app.features.employers import EMPLOYERS
from app.features.filters import PROXIMITY_OPTIONS
from app.models import Company, CompanyStatus, LayerFeature, Municipality
from app.services import duplicates
from tests.fixtures import RE

SECTORS = ("10", "43", "47", "56", "62", "86")
OCCUPATIONS = ("26", "29", "52", "63", "81")
FAMILY = ("part_time", "home_office", "flexible_hours")
SIZES_EMPLOYEES = (3, 20, 120, 400)
LANGUAGES = (["de"], ["de", "tr"], ["de", "en"], ["de", "ar", "en"])
#: Filters the comparison runs: none, one tag, several tags, the name, a place, proximity.
FILTERS = (
    "",
    "sector=C",
    "sector=43",
    "sector=F,47",
    "occupation=2",
    "size=small",
    "family=part_time",
    "family=part_time,home_office",
    "offers=jobs",
    "language=tr",
    "municipality=05562032",
    "sector=F&size=micro&family=home_office&offers=jobs",
    "q=Betrieb",
    f"near={RE[1]},{RE[0]}&radius_km=5",
    "within=transit:500",
    "within=transit:2000&sector=F",
)
#: Views: the whole region, a part that cuts through cells, a small town view.
BBOXES = (
    None,
    (7.05, 51.55, 7.35, 51.70),
    (7.17, 51.60, 7.23, 51.63),
)
ZOOMS = (3, 6, 8, 9, 11, 12, 14)


@pytest.fixture
def employers(app, make_company):
    """60 employers with a seeded mix of facets around Recklinghausen, 10 of them drafts, and
    a few transit stops (one expired)."""
    rng = random.Random(16)  # noqa: S311 - test data, not secrets
    ids = []
    for number in range(60):
        ids.append(
            make_company(
                f"Betrieb {number}",
                lon=RE[0] + rng.uniform(-0.15, 0.15),
                lat=RE[1] + rng.uniform(-0.08, 0.08),
                status=CompanyStatus.PUBLISHED if number % 6 else CompanyStatus.DRAFT,
                sectors=tuple(rng.sample(SECTORS, rng.choice((1, 2)))),
                occupations=tuple(rng.sample(OCCUPATIONS, rng.choice((1, 2)))),
                family=tuple(rng.sample(FAMILY, rng.choice((0, 1, 2)))),
                employees=rng.choice(SIZES_EMPLOYEES),
                open_positions=rng.choice((0, 0, 3)),
                offers_internships=rng.random() < 0.3,
                languages=rng.choice(LANGUAGES),
            )
        )
    with app.app_context():
        for index in range(6):
            db.session.add(
                LayerFeature(
                    kind="transit",
                    name=f"Halt {index}",
                    location=f"SRID=4326;POINT({RE[0] + index * 0.03 - 0.08} {RE[1]})",
                    expires_on=date.today() - timedelta(days=1) if index == 2 else None,
                )
            )
        db.session.commit()
    return ids


def _filter(query: str, bbox=None, zoom=None):
    args = MultiDict([pair.split("=", 1) for pair in query.split("&") if pair])
    if bbox:
        args["bbox"] = ",".join(str(v) for v in bbox)
    if zoom is not None:
        args["zoom"] = str(zoom)
    return pipeline.parse_filter(EMPLOYERS, args, lambda name: None)


def _cell_sums(cells):
    return sorted((cell.n, round(cell.sx, 6), round(cell.sy, 6)) for cell in cells)


def assert_index_agrees():
    """Every filter, view and zoom: the index's counts equal the employer query's, the cells
    add up to the count in the view, and stored cells equal cells counted live."""
    for query in FILTERS:
        for bbox in BBOXES:
            f = _filter(query, bbox)
            expected = pipeline.count_rows(EMPLOYERS, f)
            assert map_index.count(f) == expected, (query, bbox)
            matched = pipeline.count_rows(EMPLOYERS, f, use_view=False)
            assert map_index.count(f, use_view=False) == matched, query
            for zoom in ZOOMS:
                cells = map_index.view_cells(f, zoom)
                assert sum(cell.n for cell in cells) == expected, (query, bbox, zoom)
                view = map_index.View(zoom, bbox)
                live = map_index._live_cells(f, view).values()
                assert _cell_sums(cells) == _cell_sums(live), (query, bbox, zoom)


def assert_cells_match_a_rebuild():
    """The cells and proximity rows the triggers kept equal those built anew."""
    kept = _snapshot()
    db.session.execute(text("SELECT atlas_map_rebuild()"))
    assert _snapshot() == kept
    db.session.rollback()


def _snapshot():
    cells = db.session.execute(
        text(
            "SELECT band, tag, cx, cy, n, round(sx::numeric, 6), sid FROM map_cells"
            " ORDER BY 1, 2, 3, 4"
        )
    ).all()
    nearby = db.session.execute(
        text("SELECT kind, metres, company_id, until::text FROM map_nearby ORDER BY 1, 2, 3")
    ).all()
    points = db.session.execute(text("SELECT company_id, tags FROM map_points ORDER BY 1")).all()
    return cells, nearby, points


def test_the_database_and_python_agree_on_bands_and_radii(app):
    with app.app_context():
        bands = db.session.scalar(text("SELECT atlas_map_bands()"))
        metres = db.session.scalar(text("SELECT atlas_proximity_metres()"))
    assert tuple(bands) == map_index.BANDS
    assert tuple(str(m) for m in metres) == PROXIMITY_OPTIONS


def test_mercator_matches_the_database(app):
    with app.app_context():
        for lon, lat in ((7.1975, 51.6146), (-70.5, -33.4), (179.9, 85.0)):
            mx, my = db.session.execute(
                text("SELECT atlas_mx(:lon), atlas_my(:lat)"), {"lon": lon, "lat": lat}
            ).one()
            assert mx == pytest.approx(map_index.mercator_x(lon), abs=1e-15)
            assert my == pytest.approx(map_index.mercator_y(lat), abs=1e-15)
            assert map_index.latitude(map_index.mercator_y(lat)) == pytest.approx(lat)


@pytest.mark.parametrize("per_row_limit", [map_index.PER_ROW_LIMIT, -1])
def test_index_agrees_with_the_employer_query(app, employers, monkeypatch, per_row_limit):
    # Views with few employers test the tags per point; -1: through the tags' index always.
    monkeypatch.setattr(map_index, "PER_ROW_LIMIT", per_row_limit)
    with app.test_request_context():
        assert_index_agrees()
        assert_cells_match_a_rebuild()


def test_a_view_counts_employers_on_its_edge_and_none_a_hair_outside(app, make_company):
    """The spatial index compares float4-rounded boxes: an employer on the view's edge counts
    (as ``ST_Intersects`` decides it), one 10-20 centimetres outside does not, at every zoom
    (the edge strips, the stored cells and the points)."""
    west, south, east, north = (7.17, 51.60, 7.23, 51.63)
    inside = [(west, 51.61), (east, 51.62), (7.2, south), (7.21, north), (east, north)]
    outside = [(east + 1e-6, 51.615), (7.2, south - 2e-6), (west - 1e-6, north + 2e-6)]
    for number, (lon, lat) in enumerate(inside + outside):
        make_company(f"Kante {number}", lon=lon, lat=lat, status=CompanyStatus.PUBLISHED)
    with app.test_request_context():
        for query, found in (("", len(inside)), ("sector=F", len(inside)), ("sector=C", 0)):
            f = _filter(query, (west, south, east, north))
            expected = pipeline.count_rows(EMPLOYERS, f)
            assert expected == found, query
            assert map_index.count(f) == expected
            for zoom in (*ZOOMS, 16):
                cells = map_index.view_cells(f, zoom)
                assert sum(cell.n for cell in cells) == expected, (query, zoom)
            assert len(map_index.point_ids(f, 100)) == expected


@pytest.mark.parametrize("per_row_limit", [map_index.PER_ROW_LIMIT, -1])
def test_map_answers_count_exactly_on_every_path(app, employers, monkeypatch, per_row_limit):
    """The whole answer (cells or points, total, matched) for every filter, view and zoom: the
    stored cells, the live ones, and one pass for cells and matched together (-1: a filter of
    several tags through the tags' index always)."""
    monkeypatch.setattr(map_index, "PER_ROW_LIMIT", per_row_limit)
    settings = pipeline.MapSettings(threshold=5, max_zoom=15, default_zoom=10, latitude=RE[1])
    with app.test_request_context():
        for query in FILTERS:
            for bbox in BBOXES:
                for zoom in (*ZOOMS, 15, 17):
                    f = _filter(query, bbox, zoom)
                    data = map_index.map_data(f, settings)
                    assert data["total"] == pipeline.count_rows(EMPLOYERS, f), (query, bbox, zoom)
                    matched = pipeline.count_rows(EMPLOYERS, f, use_view=False)
                    assert data["matched"] == matched, (query, bbox, zoom)
                    shown = sum(x["properties"].get("count", 1) for x in data["features"])
                    assert shown == data["total"], (query, bbox, zoom)


def test_few_in_view_bounds_the_view_from_above_by_the_stored_cells(app, employers, monkeypatch):
    with app.test_request_context():
        everyone = pipeline.count_rows(EMPLOYERS, _filter(""))
        for bbox, zoom in ((BBOXES[1], 6), (BBOXES[1], 9), (BBOXES[1], 12), (BBOXES[1], 16)):
            f = _filter("sector=F&size=micro", bbox, zoom)
            in_view = pipeline.count_rows(EMPLOYERS, _filter("", bbox))
            assert in_view > 0
            monkeypatch.setattr(map_index, "PER_ROW_LIMIT", everyone)
            assert map_index.few_in_view(f), (bbox, zoom)
            monkeypatch.setattr(map_index, "PER_ROW_LIMIT", in_view - 1)
            assert not map_index.few_in_view(f), (bbox, zoom)
        monkeypatch.setattr(map_index, "PER_ROW_LIMIT", everyone)
        assert not map_index.few_in_view(_filter("sector=F&size=micro"))  # no view


def test_index_follows_every_kind_of_change(app, employers, make_company):
    with app.test_request_context():
        # An insert, a publish, an unpublish, a move and a change of classification.
        make_company("Neu am Markt", lon=RE[0] + 0.01, lat=RE[1], sectors=("47",))
        draft = db.session.get(Company, employers[0])
        draft.status = CompanyStatus.PUBLISHED
        published = db.session.get(Company, employers[1])
        published.status = CompanyStatus.PENDING
        moved = db.session.get(Company, employers[2])
        moved.location = f"SRID=4326;POINT({RE[0] - 0.12} {RE[1] + 0.07})"
        changed = db.session.get(Company, employers[3])
        changed.employees = 900
        changed.family_criteria = []
        changed.languages = ["de", "uk"]
        db.session.commit()
        assert_index_agrees()
        assert_cells_match_a_rebuild()
        # A delete and a merge.
        db.session.delete(db.session.get(Company, employers[4]))
        db.session.commit()
        keep, drop = db.session.get(Company, employers[5]), db.session.get(Company, employers[7])
        duplicates.merge(keep, drop, None, keep_version=keep.version, drop_version=drop.version)
        db.session.commit()
        assert db.session.get(Company, employers[7]).status == CompanyStatus.ARCHIVED
        assert_index_agrees()
        assert_cells_match_a_rebuild()


def test_proximity_follows_the_layer_and_the_calendar(app, employers):
    with app.test_request_context():
        f = _filter("within=transit:300")
        before = map_index.count(f)
        assert before == pipeline.count_rows(EMPLOYERS, f)
        # A stop next to an employer that had none within 300 m.
        company_id = db.session.scalars(
            select(Company.id)
            .where(Company.status == CompanyStatus.PUBLISHED)
            .order_by(Company.id.desc())
        ).first()
        lon, lat = db.session.execute(
            text("SELECT ST_X(location), ST_Y(location) FROM companies WHERE id = :id"),
            {"id": company_id},
        ).one()
        stop = LayerFeature(
            kind="transit",
            name="Neuer Halt",
            location=f"SRID=4326;POINT({lon + 0.0005} {lat})",
            expires_on=date.today(),
        )
        db.session.add(stop)
        db.session.commit()
        assert_index_agrees()
        # The index keeps the last public day of the features near each employer, so the
        # filter follows the calendar without a rebuild: here the stop's last day has passed.
        stop.expires_on = date.today() - timedelta(days=1)
        db.session.commit()
        assert map_index.count(f) == pipeline.count_rows(EMPLOYERS, f)
        db.session.delete(stop)
        db.session.commit()
        assert map_index.count(f) == before
        assert_cells_match_a_rebuild()


def test_a_boundary_import_moves_employers_between_municipalities(app, employers):
    with app.test_request_context():
        f = _filter("municipality=05562032")
        before = map_index.count(f)
        municipality = db.session.get(Municipality, "05562032")
        stored = municipality.boundary
        # A boundary around only the western half of the employers.
        municipality.boundary = (
            f"SRID=4326;MULTIPOLYGON((({RE[0] - 0.2} {RE[1] - 0.1},{RE[0]} {RE[1] - 0.1},"
            f"{RE[0]} {RE[1] + 0.1},{RE[0] - 0.2} {RE[1] + 0.1},{RE[0] - 0.2} {RE[1] - 0.1})))"
        )
        db.session.commit()
        try:
            after = map_index.count(f)
            assert after == pipeline.count_rows(EMPLOYERS, f)
            assert 0 < after < before
            assert_index_agrees()
            assert_cells_match_a_rebuild()
        finally:  # the municipalities are shared by the tests that follow
            municipality = db.session.get(Municipality, "05562032")
            municipality.boundary = stored
            db.session.commit()
        assert map_index.count(f) == before


def test_map_answers_follow_a_publish_at_once(app, client, employers):
    settings = "zoom=9&bbox=6.9,51.4,7.5,51.8"
    before = client.get(f"/api/employers?{settings}").get_json()
    with app.app_context():
        draft = db.session.get(Company, employers[0])
        draft.status = CompanyStatus.PUBLISHED
        db.session.commit()
    after = client.get(f"/api/employers?{settings}").get_json()
    assert after["total"] == before["total"] + 1
    assert after["matched"] == before["matched"] + 1
    counts = sum(f["properties"].get("count", 1) for f in after["features"])
    assert counts == after["total"]


def _language_options(client) -> list[str]:
    page = client.get("/").get_data(as_text=True)
    select_box = page[page.index('id="f-language"') :]
    select_box = select_box[: select_box.index("</select>")]
    return re.findall(r'<option value="([a-z]*)"', select_box)


def test_the_language_filter_offers_the_languages_of_published_employers(app, client, make_company):
    make_company("Çay Evi", languages=["de", "tr"])
    draft = make_company("Кав'ярня", languages=["de", "uk"], status=CompanyStatus.PENDING)
    assert _language_options(client) == ["", "de", "tr"]
    with app.app_context():
        db.session.get(Company, draft).status = CompanyStatus.PUBLISHED
        db.session.commit()
    assert _language_options(client) == ["", "de", "tr", "uk"]
    with app.app_context():
        db.session.delete(db.session.get(Company, draft))
        db.session.commit()
    assert _language_options(client) == ["", "de", "tr"]
