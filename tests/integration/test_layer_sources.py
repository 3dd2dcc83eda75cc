"""Layer kinds as feature sources: the API, map data, the ``within`` proximity filter, expiry,
and the nearest features on an employer's page. Fixtures are made here; a kind that exists
only in this file ("arztpraxen") gets all of it without code changes."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from pyproj import Geod
from sqlalchemy import event, text

from app.config import ConfigError
from app.extensions import db
from app.features import pipeline
from app.models import LayerFeature
from tests.conftest import temporary_app

GEOD = Geod(ellps="WGS84")
CENTRE = (7.1975, 51.6146)


def offset(metres: float, azimuth: float = 90.0, start=CENTRE) -> tuple[float, float]:
    """The point ``metres`` away from ``start`` on the WGS 84 ellipsoid."""
    lon, lat, _ = GEOD.fwd(start[0], start[1], azimuth, metres)
    return lon, lat


def add_feature(kind, name, lon, lat, expires_on=None, **properties) -> int:
    feature = LayerFeature(
        kind=kind,
        name=name,
        properties=properties,
        location=f"SRID=4326;POINT({lon} {lat})",
        source="test",
        expires_on=expires_on,
    )
    db.session.add(feature)
    db.session.commit()
    return feature.id


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return sorted(f["properties"]["name"] for f in response.get_json()["features"])


def test_api_lists_the_kinds_with_labels_symbols_and_fields(client):
    kinds = client.get("/api/layers").get_json()["kinds"]
    assert [k["key"] for k in kinds] == ["childcare", "housing", "transit", "training"]
    childcare = kinds[0]
    assert childcare["name"] == "Kinderbetreuung" and childcare["proximity"] is True
    assert [f["key"] for f in childcare["fields"]] == ["operator", "opening_hours", "age_range"]
    assert childcare["symbol"] and re.fullmatch(r"#[0-9a-f]{6}", childcare["colour"])
    english = client.get("/api/layers?lang=en", headers={"Accept-Language": "en"}).get_json()
    assert english["kinds"][2]["name"] == "Transit stops"
    assert client.get("/api/layers/unknown").status_code == 404
    assert client.get("/api/layers/employers").status_code == 404


def test_a_kind_from_configuration_only_gets_api_map_data_and_proximity(
    database_url, app, make_company, tmp_path
):
    path = tmp_path / "kinds.json"
    path.write_text(
        json.dumps(
            {
                "kinds": [
                    {
                        "key": "arztpraxen",
                        "name_de": "Arztpraxen",
                        "name_en": "Doctors",
                        "colour": "#aa2200",
                        "symbol": "A",
                        "proximity": True,
                        "fields": [
                            {"key": "fach", "label_de": "Fachrichtung", "label_en": "Field"},
                            {"key": "telefon", "label_de": "Telefon", "label_en": "Phone"},
                        ],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    near = make_company("Nah", lon=offset(400)[0], lat=offset(400)[1])
    far = make_company("Fern", lon=offset(1500)[0], lat=offset(1500)[1])
    with temporary_app(database_url, LAYER_KINDS=str(path)) as custom:
        with custom.app_context():
            add_feature("arztpraxen", "Praxis Dr. Test", *CENTRE, fach="Kinderheilkunde")
            add_feature("transit", "Nicht konfiguriert", *CENTRE)
        client = custom.test_client()
        kinds = client.get("/api/layers").get_json()["kinds"]
        assert [k["key"] for k in kinds] == ["arztpraxen"]
        data = client.get("/api/layers/arztpraxen?bbox=7,51.5,7.4,51.7&zoom=12").get_json()
        assert data["total"] == 1
        properties = data["features"][0]["properties"]
        assert list(properties) == ["id", "name", "fach", "telefon"]
        assert properties["fach"] == "Kinderheilkunde" and properties["telefon"] is None
        assert client.get("/api/layers/transit").status_code == 404
        found = client.get("/api/employers?within=arztpraxen:500").get_json()
        assert [f["id"] for f in found["features"]] == [near]
        assert client.get("/api/employers?within=arztpraxen:2000").get_json()["total"] == 2
        assert client.get("/api/employers?within=transit:500").status_code == 400
        listed = client.get("/api/employers/list?within=arztpraxen:500").get_json()
        assert listed["total"] == 1
        page = client.get("/?within=arztpraxen:500").get_data(as_text=True)
        assert 'id="f-within-arztpraxen"' in page
        assert re.search(r'value="arztpraxen:500"\s+selected', page)
        with custom.test_request_context():
            sources = pipeline.browser_declarations(lambda s: {})
        layer = next(s for s in sources if s["key"] == "arztpraxen")
        assert layer["layer"]["symbol"] == "A" and layer["initiallyShown"] is False
    # The default app knows no such kind.
    assert far
    with app.test_client() as default:
        assert default.get("/api/layers/arztpraxen").status_code == 404
        response = default.get("/api/employers?within=arztpraxen:500")
        assert response.status_code == 400 and response.get_json()["parameter"] == "within"


def test_a_malformed_kinds_file_stops_the_start(database_url, tmp_path):
    path = tmp_path / "kinds.json"
    path.write_text('{"kinds": [{"key": "Bad Key"}]}', encoding="utf-8")
    with (
        pytest.raises(ConfigError, match="LAYER_KINDS"),
        temporary_app(database_url, LAYER_KINDS=str(path)),
    ):
        pass


@pytest.fixture
def ring(app, make_company):
    """A transit stop and a Kita at the centre; employers east at 295/305, 495/505, 995/1005
    metres (by the ellipsoid), one of them in another sector."""
    ids = {}
    for metres in (295, 305, 495, 505, 995, 1005):
        lon, lat = offset(metres)
        ids[metres] = make_company(f"Betrieb {metres}", lon=lon, lat=lat, sectors=("43",))
    lon, lat = offset(495, azimuth=0)
    ids["north"] = make_company("Betrieb Nord 495", lon=lon, lat=lat, sectors=("10",))
    with app.app_context():
        add_feature("transit", "Haltestelle Mitte", *CENTRE, lines="SB 20")
        add_feature("childcare", "Kita Mitte", *offset(700, azimuth=270))
    return ids


def ids_of(client, query):
    response = client.get(f"/api/employers?{query}")
    assert response.status_code == 200, response.get_json()
    return sorted(f["id"] for f in response.get_json()["features"])


def test_proximity_boundaries_exact_to_five_metres(client, ring):
    assert ids_of(client, "within=transit:300") == [ring[295]]
    assert ids_of(client, "within=transit:500") == sorted(
        [ring[295], ring[305], ring[495], ring["north"]]
    )
    assert ids_of(client, "within=transit:1000") == sorted(
        [ring[m] for m in (295, 305, 495, 505, 995)] + [ring["north"]]
    )
    # The Kita is 700 m west of the centre: 995 m from the 295 m employer, 1005 from the 305
    # one (and 857 m from the northern one).
    assert ids_of(client, "within=childcare:1000") == sorted([ring[295], ring["north"]])
    assert ids_of(client, "within=transit:300,childcare:1000") == [ring[295]]
    assert ids_of(client, "within=transit:500,childcare:2000") == sorted(
        [ring[295], ring[305], ring[495], ring["north"]]
    )
    # Combined with another filter (sector) and as repeated parameters.
    assert ids_of(client, "within=transit:500&sector=10") == [ring["north"]]
    assert ids_of(client, "within=transit:500&within=childcare:1000&sector=43") == [ring[295]]
    listed = client.get("/api/employers/list?within=transit:500&sector=43").get_json()
    assert listed["total"] == 3


def test_within_in_permalink_count_and_export(app, ring):
    from app.blueprints.filtering import request_filter

    with app.test_request_context("/?within=childcare:1000,+transit:500"):
        f = request_filter()
        assert f.proximity == (("childcare", 1000), ("transit", 500))
        assert f.query_args() == {"within": "childcare:1000,transit:500"}
        assert f.active_count == 1
        from app.features.employers import EMPLOYERS

        assert pipeline.count(EMPLOYERS, f) == 2  # the 295 m and the northern one
        _names, rows = EMPLOYERS.export_rows(f)
        assert len(db.session.execute(rows).all()) == 2


@pytest.mark.parametrize(
    "value",
    [
        "bus:500",
        "transit",
        "transit:",
        "transit:abc",
        "transit:750",
        "housing:500",
        "training:500",
        "transit:500,transit:300",
        ":500",
        "transit:500:1",
    ],
)
def test_bad_within_values_give_400_naming_the_parameter(client, value):
    response = client.get("/api/employers", query_string={"within": value})
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == "within"
    assert body["message"] and "<" not in body["message"]
    page = client.get("/", query_string={"within": value})
    assert page.status_code == 400


def test_layer_cluster_counts_add_up(database_url, app):
    with temporary_app(database_url, CLUSTER_THRESHOLD=5) as small:
        with small.app_context():
            for i in range(40):
                add_feature("transit", f"Halt {i}", *offset(40 * i, azimuth=(i * 37) % 360))
        client = small.test_client()
        data = client.get("/api/layers/transit?bbox=7.1,51.55,7.3,51.7&zoom=11").get_json()
        assert data["total"] == 40 and data["clustered"]
        assert sum(f["properties"].get("count", 1) for f in data["features"]) == 40
        assert any(f["properties"].get("cluster") for f in data["features"])


def test_expired_housing_is_hidden(client, app, make_company):
    today = date.today()
    company = make_company("Mitte", lon=CENTRE[0], lat=CENTRE[1], slug="mitte")
    with app.app_context():
        add_feature("housing", "Ohne Ablauf", *offset(100), rooms=2)
        add_feature("housing", "Bis heute", *offset(200), expires_on=today, rooms=3)
        add_feature("housing", "Abgelaufen", *offset(300), expires_on=today - timedelta(days=1))
        add_feature("housing", "Zu weit", *offset(2100))
    assert company
    data = client.get("/api/layers/housing").get_json()
    assert names(client.get("/api/layers/housing")) == ["Bis heute", "Ohne Ablauf", "Zu weit"]
    assert data["total"] == 3
    page = client.get("/arbeitgeber/mitte").get_data(as_text=True)
    assert 'id="housing-nearby" data-count="2"' in page


def test_detail_page_lists_the_nearest_sorted(client, app, make_company):
    make_company("Mitte", lon=CENTRE[0], lat=CENTRE[1], slug="mitte")
    with app.app_context():
        for metres, name in ((900, "Kita D"), (120, "Kita A"), (480, "Kita C"), (310, "Kita B")):
            add_feature("childcare", name, *offset(metres, azimuth=metres % 360))
        add_feature("childcare", "Kita alt", *offset(50), expires_on=date.today() - timedelta(1))
        add_feature("transit", "Bahnhof", *offset(1500))
        add_feature("training", "Berufskolleg", *offset(2500, azimuth=10))
    html = client.get("/arbeitgeber/mitte").get_data(as_text=True)
    kitas = re.search(r'<ol class="nearby" data-kind="childcare">(.*?)</ol>', html, re.S).group(1)
    found = re.findall(
        r'nearby-name"[^>]*>([^<]+)</span> – <span class="nearby-distance">([^<]+)<', kitas
    )
    assert found == [
        ("Kita A", "120 m Luftlinie"),
        ("Kita B", "310 m Luftlinie"),
        ("Kita C", "480 m Luftlinie"),
    ]
    assert "1,5 km Luftlinie" in html and "2,5 km Luftlinie" in html
    assert "Luftlinie" in html and "Wohnen in der Nähe" in html


def test_surroundings_service_distances(app, make_company):
    from app.services.employers import surroundings

    company_id = make_company("Mitte", lon=CENTRE[0], lat=CENTRE[1])
    with app.app_context():
        add_feature("transit", "Weit", *offset(800))
        add_feature("transit", "Nah", *offset(200, azimuth=180))
        from app.models import Company

        around = surroundings(db.session.get(Company, company_id))
    by_kind = {kind.key: nearby for kind, nearby in around.nearest}
    assert [f.name for f in by_kind["transit"]] == ["Nah", "Weit"]
    assert by_kind["transit"][0].distance_m == pytest.approx(200, abs=0.01)
    assert by_kind["childcare"] == [] and around.housing_count == 0


def _nearest_names(company_id: int, kind: str) -> tuple[list[str], int]:
    """The names ``surroundings`` lists for ``kind``, and how many statements it ran."""
    from app.models import Company
    from app.services.employers import surroundings

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        around = surroundings(db.session.get(Company, company_id))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    listed = {k.key: nearby for k, nearby in around.nearest}[kind]
    return [f.name for f in listed], sum("layer_features" in s for s in statements)


def _exact_nearest(company_id: int, kind: str) -> list[str]:
    """The three nearest features by distance on the ellipsoid, ties by name (every feature
    measured)."""
    return list(
        db.session.scalars(
            text(
                "SELECT f.name FROM layer_features f, companies c WHERE c.id = :id"
                " AND f.kind = :kind ORDER BY ST_Distance(geography(f.location),"
                " geography(c.location)), f.name, f.id LIMIT 3"
            ),
            {"id": company_id, "kind": kind},
        )
    )


def test_the_nearest_features_come_from_the_spatial_index_and_are_exact(app, make_company):
    """Scattered stops: the index's nearest candidates decide, one statement per kind."""
    import random

    company_id = make_company("Mitte", lon=CENTRE[0], lat=CENTRE[1])
    rng = random.Random(7)  # noqa: S311 - test data
    with app.app_context():
        for number in range(40):
            add_feature(
                "transit", f"Halt {number:02d}", *offset(rng.uniform(50, 3000), rng.uniform(0, 360))
            )
        listed, statements = _nearest_names(company_id, "transit")
        assert listed == _exact_nearest(company_id, "transit")
    assert statements == 4  # childcare, transit, training, housing: one statement each


def test_the_nearest_features_are_exact_when_many_are_about_as_near(app, make_company):
    """A ring of stops at nearly the same distance (their order could differ on a sphere):
    every stop of the kind is measured."""
    company_id = make_company("Mitte", lon=CENTRE[0], lat=CENTRE[1])
    with app.app_context():
        for number in range(14):  # 500.0, 500.5, … m; names against the distance order
            add_feature("transit", f"Ring {20 - number}", *offset(500 + number / 2, number * 25))
        listed, statements = _nearest_names(company_id, "transit")
        assert listed == _exact_nearest(company_id, "transit") == ["Ring 20", "Ring 19", "Ring 18"]
    assert statements == 5  # the transit candidates were too close together: measured all
