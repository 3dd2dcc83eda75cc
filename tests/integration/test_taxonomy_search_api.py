"""GET /api/taxonomies/search: everyday words to filter codes, and its errors."""

import pytest


def test_search_answers_three_lists_of_code_label_filter_code_and_level(client):
    response = client.get("/api/taxonomies/search?q=B%C3%A4cker&lang=de")
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) >= {"sectors", "occupations", "apprenticeships"}
    for kind in ("sectors", "occupations", "apprenticeships"):
        assert 1 <= len(data[kind]) <= 10
        for item in data[kind]:
            assert set(item) >= {"code", "label", "filter_code", "level"}
    assert data["sectors"][0]["filter_code"] == "10"
    assert data["occupations"][0]["filter_code"] == "29"
    assert data["apprenticeships"][0] == {
        "code": "baecker",
        "label": "Bäcker/in",
        "filter_code": "baecker",
        "level": "apprenticeship",
        "term": "Bäcker",
    }


def test_search_in_english(client):
    data = client.get("/api/taxonomies/search?q=Baecker&lang=en").get_json()
    assert data["language"] == "en"
    assert data["sectors"][0]["label"] == "Manufacture of food products"
    assert data["apprenticeships"][0]["label"] == "Baker"


def test_an_empty_query_answers_empty_lists(client):
    data = client.get("/api/taxonomies/search?q=").get_json()
    assert (data["sectors"], data["occupations"], data["apprenticeships"]) == ([], [], [])


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("q=B%C3%A4cker&lang=fr", "lang"), ("q=" + "x" * 101, "q"), ("q=B%00cker", "q")],
)
def test_bad_parameters_answer_400_naming_the_parameter(client, query, parameter):
    response = client.get(f"/api/taxonomies/search?{query}")
    assert response.status_code == 400
    data = response.get_json()
    assert data["parameter"] == parameter
    assert isinstance(data["message"], str) and data["message"]
