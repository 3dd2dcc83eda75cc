"""GET /api/employers and /api/employers/list: every filter alone and combined, on a known set."""

import pytest
from pyproj import Geod

from tests.fixtures import EMPLOYERS, RE


@pytest.fixture
def known(make_company):
    """Create the fixture employers; return {letter: id}."""
    return {letter: make_company(**fields) for letter, fields in EMPLOYERS.items()}


def letters(client, known, query):
    response = client.get(f"/api/employers?{query}")
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    by_id = {v: k for k, v in known.items()}
    found = {by_id[f["id"]] for f in data["features"]}
    assert data["total"] == len(found), "total must count exactly the features"
    return "".join(sorted(found))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "ABCDEFH"),
        ("sector=C", "AF"),
        ("sector=F", "BC"),
        ("sector=43", "C"),
        ("sector=c", "AF"),
        ("sector=C,43", "ACF"),
        ("sector=C&sector=43", "ACF"),
        ("occupation=2", "AC"),
        ("occupation=8", "D"),
        ("occupation=26", "C"),
        ("occupation=83,43", "DE"),
        ("municipality=05562024", "BF"),
        ("municipality=05562024,05513000", "BDF"),
        ("size=micro", "AEH"),
        ("size=medium,large", "BDF"),
        ("family=part_time", "ABC"),
        ("family=part_time,flexible_hours", "AC"),
        ("family=part_time&family=flexible_hours&family=home_office", "C"),
        ("offers=apprenticeship", "AD"),
        ("offers=jobs", "BD"),
        ("offers=internship,jobs", "BCD"),
        ("language=pl", "DE"),
        ("language=en,tr", "ACE"),
        ("near=Marl&radius_km=3", "BF"),
        ("near=marl&radius_km=3", "BF"),
        ("near=45768&radius_km=3", "BF"),
        ("near=Gelsenkirchen&radius_km=2", "D"),
        (f"near={RE[1]},{RE[0]}&radius_km=1", "AH"),
        ("bbox=7.15,51.60,7.25,51.64", "ACH"),
        ("sector=F&size=small", "C"),
        ("sector=F&family=part_time&municipality=05562024", "B"),
        ("size=micro&language=pl&family=home_office", "E"),
        ("offers=apprenticeship&near=Recklinghausen&radius_km=5", "A"),
        ("q=Müller&sector=F", ""),
    ],
)
def test_each_filter_alone_and_combined(client, known, query, expected):
    assert letters(client, known, query) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bäckerei", "A"),  # finds "Bäckereien", never the pending "Bäckerei Versteckt"
        ("Bäckereien", "A"),
        ("backerei", "A"),
        ("BÄCKEREI", "A"),
        ("Straße", "BH"),  # "Straßenbau" and "an der Straße"
        ("Strasse", "BH"),
        ("Größenwahn", "H"),
        ("groessenwahn", "H"),  # ae/oe/ue spellings fold like the umlauts
        ("Baeckerei", "A"),
        ("Brötchen", "A"),
        ("Kuchen Kaffee", "H"),
        ("Kuchen Brötchen", ""),
        ("Elek", "C"),
        ("'; DROP TABLE companies; --", ""),
        ("&|!():*", "ABCDEFH"),
    ],
)
def test_german_text_search(client, known, text, expected):
    assert letters(client, known, f"q={text}") == expected


def test_radius_boundary_is_exact_on_the_ellipsoid(client, known):
    a, c = EMPLOYERS["A"], EMPLOYERS["C"]
    _, _, metres = Geod(ellps="WGS84").inv(a["lon"], a["lat"], c["lon"], c["lat"])
    near = f"near={a['lat']},{a['lon']}"
    assert "C" not in letters(client, known, f"{near}&radius_km={(metres - 5) / 1000:.4f}")
    assert "C" in letters(client, known, f"{near}&radius_km={(metres + 5) / 1000:.4f}")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("sector=Z", "sector"),
        ("sector=04", "sector"),
        ("occupation=99", "occupation"),
        ("occupation=X", "occupation"),
        ("municipality=12345678", "municipality"),
        ("near=Atlantis", "near"),
        ("near=10115", "near"),
        ("near=95,7", "near"),
        ("near=Marl&radius_km=-1", "radius_km"),
        ("near=Marl&radius_km=0", "radius_km"),
        ("near=Marl&radius_km=500", "radius_km"),
        ("near=Marl&radius_km=zehn", "radius_km"),
        ("near=Marl&radius_km=nan", "radius_km"),
        ("size=huge", "size"),
        ("family=pool", "family"),
        ("offers=free", "offers"),
        ("language=xx", "language"),
        ("language=deu", "language"),
        ("q=" + "x" * 201, "q"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=8,51,7,52", "bbox"),
        ("bbox=7,51,8,95", "bbox"),
        ("zoom=99", "zoom"),
        ("zoom=-1", "zoom"),
        ("zoom=ten", "zoom"),
    ],
)
def test_bad_parameters_give_400_naming_the_parameter(client, known, query, parameter):
    response = client.get(f"/api/employers?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter
    assert body["message"]


def test_error_messages_speak_english_on_request(client):
    german = client.get("/api/employers?sector=Z").get_json()["message"]
    english = client.get("/api/employers?sector=Z&lang=en").get_json()["message"]
    assert german.startswith("Unbekannter Wirtschaftszweig „Z“")
    assert english.startswith("Unknown sector “Z”")


def test_distance_is_given_when_a_place_is(client, known):
    data = client.get(f"/api/employers?near={RE[1]},{RE[0]}&radius_km=3").get_json()
    distances = {f["properties"]["name"]: f["properties"]["distance_km"] for f in data["features"]}
    assert distances["Bäckereien Müller"] == 0
    assert 1.9 < distances["Elektro Kaya"] < 2.1


def test_clusters_add_up_to_the_filtered_total(app, known):
    app.config["CLUSTER_THRESHOLD"] = 3
    client = app.test_client()
    for query in ("zoom=8", "zoom=10", "zoom=12", "zoom=9&sector=C,F,Q"):
        data = client.get(f"/api/employers?{query}").get_json()
        assert data["clustered"] is True, query
        clusters = [f for f in data["features"] if f["properties"].get("cluster")]
        points = [f for f in data["features"] if not f["properties"].get("cluster")]
        assert sum(f["properties"]["count"] for f in clusters) + len(points) == data["total"]
        for cluster in clusters:
            assert cluster["properties"]["count"] >= 2
            west, south, east, north = cluster["properties"]["bbox"]
            lon, lat = cluster["geometry"]["coordinates"]
            assert west <= lon <= east and south <= lat <= north
    assert client.get("/api/employers?zoom=8").get_json()["features"][0]["properties"]["cluster"]


def test_no_clusters_when_zoomed_in_or_sparse(app, known):
    app.config["CLUSTER_THRESHOLD"] = 3
    client = app.test_client()
    zoomed = client.get("/api/employers?zoom=16").get_json()
    assert zoomed["clustered"] is False
    assert len(zoomed["features"]) == zoomed["total"] == 7
    app.config["CLUSTER_THRESHOLD"] = 100
    sparse = client.get("/api/employers?zoom=8").get_json()
    assert sparse["clustered"] is False


def test_bbox_narrows_features_but_matched_counts_the_whole_filter(client, known):
    data = client.get("/api/employers?bbox=7.15,51.60,7.25,51.64&zoom=13").get_json()
    assert data["total"] == 3
    assert data["matched"] == 7


def test_list_sorts_by_name_with_german_collation(client, known):
    data = client.get("/api/employers/list").get_json()
    assert [i["name"] for i in data["items"]] == [
        "Bäckereien Müller",
        "Café Größenwahn",
        "Chemiepark Service",
        "Elektro Kaya",
        "IT-Service Nowak",
        "Pflegedienst Sonnenschein",
        "Straßenbau Schulte",
    ]
    assert data["total"] == 7
    assert data["items"][0]["url"] == "/arbeitgeber/test-1"
    assert "contact_name" not in data["items"][0]


def test_list_sorts_by_distance_when_a_place_is_given(client, known):
    data = client.get(f"/api/employers/list?near={RE[1]},{RE[0]}&radius_km=50").get_json()
    assert data["sort"] == "distance"
    distances = [i["distance_km"] for i in data["items"]]
    assert distances == sorted(distances)
    assert data["items"][0]["name"] == "Bäckereien Müller"
    by_name = client.get(
        f"/api/employers/list?near={RE[1]},{RE[0]}&radius_km=50&sort=name"
    ).get_json()
    assert by_name["items"][0]["name"] == "Bäckereien Müller"
    assert by_name["items"][1]["name"] == "Café Größenwahn"


def test_list_pages(client, make_company):
    for number in range(45):
        make_company(f"Betrieb {number:02d}")
    first = client.get("/api/employers/list").get_json()
    third = client.get("/api/employers/list?page=3").get_json()
    assert (first["total"], first["pages"], len(first["items"])) == (45, 3, 20)
    assert [i["name"] for i in third["items"]] == [f"Betrieb {n}" for n in range(40, 45)]
    assert client.get("/api/employers/list?page=0").status_code == 400
    assert client.get("/api/employers/list?page=x").get_json()["parameter"] == "page"


def test_sort_by_distance_needs_a_place(client):
    response = client.get("/api/employers/list?sort=distance")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "sort"


def test_taxonomies_list_the_accepted_codes_in_both_languages(client):
    german = client.get("/api/taxonomies").get_json()
    english = client.get("/api/taxonomies?lang=en").get_json()
    assert len(german["sectors"]) == 21
    assert sum(len(s["divisions"]) for s in german["sectors"]) == 88
    assert len(german["occupations"]) == 10
    assert sum(len(a["groups"]) for a in german["occupations"]) == 37
    assert [s["code"] for s in german["sizes"]] == ["micro", "small", "medium", "large"]
    assert [o["code"] for o in german["offers"]] == ["apprenticeship", "internship", "jobs"]
    assert len(german["municipalities"]) == 12
    assert {"code": "tr", "label": "Türkisch"} in german["languages"]
    construction = next(s for s in english["sectors"] if s["code"] == "F")
    assert construction["label"] == "Construction"
    assert {"code": "tr", "label": "Turkish"} in english["languages"]
    assert client.get("/api/taxonomies?lang=fr").status_code == 400
