"""What leaves the server publicly: only published employers, only public fields."""

import pytest

from app.models import CompanyStatus

HIDDEN = [s for s in CompanyStatus if s is not CompanyStatus.PUBLISHED]


@pytest.fixture
def one_of_each_status(make_company):
    return {
        status: make_company(
            f"Betrieb {status.value}",
            status=status,
            contact_name="Erika Privat",
            contact_email="erika.privat@example.org",
        )
        for status in CompanyStatus
    }


def test_api_returns_a_feature_collection_of_published_employers_only(client, one_of_each_status):
    response = client.get("/api/employers")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    data = response.get_json()
    assert data["type"] == "FeatureCollection"
    assert data["total"] == 1
    [feature] = data["features"]
    assert feature["id"] == one_of_each_status[CompanyStatus.PUBLISHED]
    assert feature["properties"]["name"] == "Betrieb published"


def test_geometry_is_longitude_then_latitude(client, make_company):
    make_company(lon=7.1975, lat=51.6146)
    feature = client.get("/api/employers").get_json()["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [7.1975, 51.6146]}


def test_private_contact_person_never_leaves_the_server(client, one_of_each_status):
    body = client.get("/api/employers").get_data(as_text=True)
    assert "Erika Privat" not in body
    assert "erika.privat@example.org" not in body
    properties = client.get("/api/employers").get_json()["features"][0]["properties"]
    assert not {"contact_name", "contact_email", "status", "source", "version"} & set(properties)


def test_public_properties_carry_the_classifications(client, make_company):
    make_company(
        "Familienfreundlich",
        sectors=("43", "41"),
        occupations=("26", "32"),
        family=("part_time", "home_office"),
        employees=12,
        languages=["de", "tr"],
        offers_apprenticeships=True,
        open_positions=2,
    )
    properties = client.get("/api/employers").get_json()["features"][0]["properties"]
    assert properties["sectors"] == ["41", "43"]
    assert properties["occupations"] == ["26", "32"]
    assert properties["family"] == ["part_time", "home_office"]
    assert properties["size_class"] == "small"
    assert properties["languages"] == ["de", "tr"]
    assert properties["offers_apprenticeships"] is True
    assert properties["open_positions"] == 2


@pytest.mark.parametrize("status", HIDDEN, ids=lambda s: s.value)
def test_unpublished_names_appear_on_no_public_page(client, make_company, status):
    make_company(f"Geheimer Betrieb {status.value}", status=status)
    for path in ("/", "/api/employers", "/healthz"):
        assert f"Geheimer Betrieb {status.value}" not in client.get(path).get_data(as_text=True)


def test_unknown_api_path_answers_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not Found"


def test_unknown_page_answers_a_german_404_page(client):
    response = client.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.get_data(as_text=True)
