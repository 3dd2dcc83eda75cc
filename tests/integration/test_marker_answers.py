"""The map's own light answers (issue 16): with ``properties=marker`` the map data carry only
what a marker needs, and one employer's properties come from ``/api/employers/<id>`` when its
popup opens. Same features, same counts, the same properties in the end."""

import pytest

from app.extensions import db
from app.models import Company, CompanyStatus, LayerFeature
from tests.fixtures import RE

STREET = f"/api/employers?zoom=16&bbox={RE[0] - 0.02},{RE[1] - 0.01},{RE[0] + 0.02},{RE[1] + 0.01}"
REGION = "/api/employers?zoom=9&bbox=6.9,51.4,7.6,51.8"


@pytest.fixture
def employers(make_company):
    """Three published employers close together in Recklinghausen (one with every kind of
    property), one far away, and a draft."""
    return {
        "full": make_company(
            "Bäckerei Sonne",
            lon=RE[0],
            lat=RE[1],
            phone="02361 12345",
            email="info@sonne.example",
            family=("part_time",),
            apprenticeships=[{"code": "baecker", "places": 2}],
            offers_apprenticeships=True,
            open_positions=3,
        ),
        "second": make_company("Tischlerei Holz", lon=RE[0] + 0.004, lat=RE[1]),
        "third": make_company("Praxis Grün", lon=RE[0] - 0.004, lat=RE[1] + 0.002),
        "far": make_company("Werkstatt Fern", lon=RE[0] + 0.2, lat=RE[1] + 0.1),
        "draft": make_company(
            "Entwurf GmbH", lon=RE[0] + 0.001, lat=RE[1], status=CompanyStatus.DRAFT
        ),
    }


def _points(data):
    return {f["id"]: f for f in data["features"] if not f["properties"].get("cluster")}


@pytest.mark.parametrize("view", [STREET, REGION, STREET + "&sector=F", REGION + "&q=Sonne"])
def test_marker_answers_have_the_same_features_and_counts_with_only_the_markers_fields(
    client, employers, view
):
    full = client.get(view).get_json()
    marker = client.get(view + "&properties=marker").get_json()
    for field in ("total", "matched", "clustered", "limited", "limit"):
        assert marker[field] == full[field], field
    assert [f["geometry"] for f in marker["features"]] == [f["geometry"] for f in full["features"]]
    points = _points(marker)
    assert points, view
    for feature_id, feature in points.items():
        assert feature["properties"] == {
            "id": feature_id,
            "slug": _points(full)[feature_id]["properties"]["slug"],
            "name": _points(full)[feature_id]["properties"]["name"],
        }
    # Clusters are the same in both.
    clusters = [f for f in marker["features"] if f["properties"].get("cluster")]
    assert clusters == [f for f in full["features"] if f["properties"].get("cluster")]


def test_a_marker_answer_keeps_the_distance_from_the_place(client, employers):
    near = f"&near={RE[1]},{RE[0]}&radius_km=5"
    marker = client.get(STREET + near + "&properties=marker").get_json()
    full = client.get(STREET + near).get_json()
    for feature_id, feature in _points(marker).items():
        distance = _points(full)[feature_id]["properties"]["distance_km"]
        assert feature["properties"]["distance_km"] == distance
    assert _points(marker)[employers["full"]]["properties"]["distance_km"] == 0


def test_one_employer_has_every_property_the_full_map_answer_has(client, employers):
    full = _points(client.get(STREET).get_json())[employers["full"]]
    for path in (
        f"/api/employers/{employers['full']}",
        f"/api/features/employers/{employers['full']}",
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert response.mimetype == "application/geo+json"
        assert response.get_json() == full
    properties = full["properties"]
    assert properties["phone"] == "02361 12345"
    assert properties["family"] == ["part_time"]
    assert [a["code"] for a in properties["apprenticeships"]] == ["baecker"]


def test_one_employer_follows_the_interface_language(client, employers):
    german = client.get(f"/api/employers/{employers['full']}").get_json()
    english = client.get(f"/api/employers/{employers['full']}?lang=en").get_json()
    label = german["properties"]["apprenticeships"][0]["label"]
    assert "Plätze" in label
    assert "places" in english["properties"]["apprenticeships"][0]["label"]


@pytest.mark.parametrize("which", ["draft", "unknown", "unpublished", "deleted"])
def test_an_employer_that_is_not_published_is_not_found(app, client, employers, which):
    feature_id = employers.get(which, 987654)
    if which in ("unpublished", "deleted"):
        feature_id = employers["second"]
        with app.app_context():
            company = db.session.get(Company, feature_id)
            if which == "unpublished":
                company.status = CompanyStatus.PENDING
            else:
                db.session.delete(company)
            db.session.commit()
    response = client.get(f"/api/employers/{feature_id}")
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] == "Not Found"
    assert body["message"] == "Unter dieser Nummer ist kein veröffentlichter Eintrag."
    assert "Entwurf" not in response.get_data(as_text=True)


def test_sources_without_single_features_answer_404(client, employers):
    assert client.get("/api/features/events/1").status_code == 404
    assert client.get("/api/features/transit/1").status_code == 404
    assert client.get("/api/features/nosuchsource/1").status_code == 404


def test_an_unknown_properties_value_is_refused_with_a_message(client, employers):
    response = client.get(STREET + "&properties=everything")
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == "properties"
    assert "marker" in body["message"]
    english = client.get(STREET + "&properties=everything&lang=en").get_json()
    assert "marker" in english["message"] and english["message"] != body["message"]


def test_the_cache_keeps_marker_and_full_answers_apart(client, employers):
    first = client.get(STREET)
    assert first.headers["X-Map-Cache"] == "miss"
    marker = client.get(STREET + "&properties=marker")
    assert marker.headers["X-Map-Cache"] == "miss"
    assert "phone" not in marker.get_data(as_text=True)
    again = client.get(STREET + "&properties=marker")
    assert again.headers["X-Map-Cache"] == "hit"
    assert again.get_data() == marker.get_data()
    assert client.get(STREET).get_data() == first.get_data()


def test_a_layer_answers_with_markers_too(app, client):
    with app.app_context():
        db.session.add(
            LayerFeature(
                kind="transit",
                name="Recklinghausen Hbf",
                location=f"SRID=4326;POINT({RE[0]} {RE[1]})",
                properties={"operator": "Vestische"},
            )
        )
        db.session.commit()
    full = client.get("/api/layers/transit?zoom=16").get_json()["features"][0]["properties"]
    marker = client.get("/api/layers/transit?zoom=16&properties=marker").get_json()
    assert len(full) > 2
    assert marker["features"][0]["properties"] == {"id": full["id"], "name": "Recklinghausen Hbf"}
