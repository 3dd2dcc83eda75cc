"""OGC API – Features under /ogc: the request sequence QGIS makes (landing page, conformance,
collections, a collection, items with bbox/limit/offset and paging by the next link, a single
item, queryables), f=json/f=html and the Accept header, public fields and published entries
only, and the OGC exception document for bad parameters."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.extensions import db
from app.features.employers import CODE_FIELDS, PRIVATE_FIELDS, PUBLIC_FIELDS
from app.models import CompanyStatus, LayerFeature

GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
QGIS_ACCEPT = "application/geo+json, application/json"
PRIVATE_NAME = "Paula Privat"
PRIVATE_EMAIL = "paula.privat@example.org"
#: Dorsten, west of the other employers (Recklinghausen).
DORSTEN = (6.9650, 51.6600)
DORSTEN_BBOX = "6.9,51.62,7.0,51.7"


@pytest.fixture
def data(app, make_company, make_event):
    """Published employers (12 in Recklinghausen with a contact person, 1 in Dorsten), one
    unpublished employer in each other status, published, pending and rejected events, a
    childcare feature and an expired housing offer."""
    published = [
        make_company(
            f"Betrieb {n:02d}",
            lon=7.19 + n * 0.001,
            lat=51.61 + n * 0.0005,
            contact_name=PRIVATE_NAME,
            contact_email=PRIVATE_EMAIL,
            sectors=("10",) if n % 2 else ("43",),
        )
        for n in range(12)
    ]
    dorsten = make_company("Dorstener Werkstatt", lon=DORSTEN[0], lat=DORSTEN[1])
    hidden = {
        status: make_company(f"Versteckt {status.value}", status=status)
        for status in CompanyStatus
        if status is not CompanyStatus.PUBLISHED
    }
    events = {
        "published": make_event("Offener Abend"),
        "pending": make_event("Wartender Abend", status="pending"),
        "rejected": make_event("Abgelehnter Abend", status="rejected"),
    }
    with app.app_context():
        layer = {}
        for key, kind, name, expires in (
            ("childcare", "childcare", "Kita Sonnenschein", None),
            ("expired", "housing", "Abgelaufene Wohnung", date.today() - timedelta(days=1)),
        ):
            feature = LayerFeature(
                kind=kind,
                name=name,
                properties={},
                location="SRID=4326;POINT(7.2 51.61)",
                source="test",
                expires_on=expires,
            )
            db.session.add(feature)
            db.session.commit()
            layer[key] = feature.id
    return {
        "published": [*published, dorsten],
        "dorsten": dorsten,
        "hidden": hidden,
        "events": events,
        "layer": layer,
    }


def get_json(client, url, media_type="application/json", **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:500])
    assert response.mimetype == media_type, (url, response.mimetype)
    return response.get_json()


def link(document: dict, rel: str, media_type: str | None = None) -> str:
    """The href of the document's link ``rel`` (of ``media_type``, if given)."""
    for candidate in document["links"]:
        if candidate["rel"] == rel and media_type in (None, candidate["type"]):
            return candidate["href"]
    raise AssertionError(f"no link {rel} {media_type} in {document['links']}")


def has_link(document: dict, rel: str) -> bool:
    return any(candidate["rel"] == rel for candidate in document["links"])


def all_items(client, url: str) -> tuple[list[dict], list[dict]]:
    """Every feature, following the next links from ``url``; also every page."""
    features, pages = [], []
    while url:
        page = get_json(client, url, GEOJSON, Accept=QGIS_ACCEPT)
        assert page["type"] == "FeatureCollection"
        assert page["numberReturned"] == len(page["features"])
        pages.append(page)
        features.extend(page["features"])
        url = link(page, "next") if has_link(page, "next") else None
        assert len(pages) < 50, "the next links never end"
    return features, pages


def assert_feature_shape(feature: dict) -> None:
    assert feature["type"] == "Feature"
    assert isinstance(feature["id"], int)
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    # lon/lat order (CRS84), within the region
    assert 6.4 < lon < 7.8 and 51.2 < lat < 52.0, (lon, lat)
    assert isinstance(feature["properties"], dict)


def test_qgis_request_sequence(app, client, data):
    landing = get_json(client, "/ogc/", Accept="application/json")
    assert landing["title"] and landing["description"]
    for rel in ("self", "alternate", "service-desc", "conformance", "data"):
        assert has_link(landing, rel), rel
    assert link(landing, "service-desc").endswith("/api/openapi.json")
    assert get_json(client, "/ogc", Accept="application/json") == landing  # no redirect

    conformance = get_json(client, link(landing, "conformance"))
    classes = conformance["conformsTo"]
    for suffix in ("core", "geojson", "html"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{suffix}" in classes

    collections = get_json(client, link(landing, "data"))
    ids = [c["id"] for c in collections["collections"]]
    assert {"employers", "events"} <= set(ids)
    assert set(app.config["LAYER_KINDS"]) <= set(ids)

    described = next(c for c in collections["collections"] if c["id"] == "employers")
    collection = get_json(client, link(described, "self"))
    assert collection["id"] == "employers" and collection["title"]
    (west, south), (east, north) = app.config["REGION"].bounds
    assert collection["extent"]["spatial"] == {"bbox": [[west, south, east, north]], "crs": CRS84}
    assert CRS84 in collection["crs"]

    items_url = link(collection, "items", GEOJSON)
    first = get_json(client, items_url, GEOJSON, Accept=QGIS_ACCEPT)
    assert first["numberMatched"] == len(data["published"])
    assert first["numberReturned"] == 10  # the default limit
    assert first["timeStamp"].endswith("Z")
    assert has_link(first, "self") and has_link(first, "alternate") and has_link(first, "next")
    assert not has_link(first, "prev")

    features, pages = all_items(client, f"{items_url}&limit=5")
    assert [len(page["features"]) for page in pages] == [5, 5, 3]
    assert all(page["numberMatched"] == len(data["published"]) for page in pages)
    assert has_link(pages[1], "prev") and not has_link(pages[-1], "next")
    found = [feature["id"] for feature in features]
    assert sorted(found) == sorted(data["published"])  # each once, nothing else
    for feature in features:
        assert_feature_shape(feature)

    html = client.get("/ogc/collections/employers/items?limit=5&offset=5&f=html")
    assert html.mimetype == "text/html"
    text = html.get_data(as_text=True)
    assert 'offset=10&amp;f=html" rel="next"' in text and 'limit=5&amp;f=html" rel="prev"' in text

    # offset directly, as a client without next links would page
    third = get_json(client, "/ogc/collections/employers/items?limit=5&offset=10", GEOJSON)
    assert [f["id"] for f in third["features"]] == found[10:]

    single = get_json(client, f"/ogc/collections/employers/items/{data['dorsten']}", GEOJSON)
    assert_feature_shape(single)
    assert single["id"] == data["dorsten"]
    assert single["properties"]["name"] == "Dorstener Werkstatt"
    assert single["geometry"]["coordinates"] == pytest.approx(list(DORSTEN))
    assert has_link(single, "collection")

    queryables = get_json(
        client,
        link(collection, "http://www.opengis.net/def/rel/ogc/1.0/queryables"),
        "application/schema+json",
    )
    assert queryables["type"] == "object"
    assert {"sector", "municipality", "q", "near"} <= set(queryables["properties"])
    assert "C" in queryables["properties"]["sector"]["enum"]


def test_bbox_selects_the_features_inside(client, data):
    page = get_json(client, f"/ogc/collections/employers/items?bbox={DORSTEN_BBOX}", GEOJSON)
    assert [f["id"] for f in page["features"]] == [data["dorsten"]]
    assert page["numberMatched"] == 1
    assert f"bbox={DORSTEN_BBOX}&" in link(page, "self")
    crs = f"&bbox-crs={CRS84}"
    same = get_json(client, f"/ogc/collections/employers/items?bbox={DORSTEN_BBOX}{crs}", GEOJSON)
    assert [f["id"] for f in same["features"]] == [data["dorsten"]]


def test_items_are_the_public_apis_features(client, data):
    """Items are built by the same functions as /api/features/<key>: the same properties."""
    api = client.get("/api/employers?zoom=18&bbox=6.5,51.3,7.6,51.9").get_json()
    by_id = {feature["id"]: feature["properties"] for feature in api["features"]}
    items = get_json(client, "/ogc/collections/employers/items?limit=100", GEOJSON)
    assert len(items["features"]) == len(data["published"])
    for feature in items["features"]:
        assert feature["properties"] == by_id[feature["id"]]
    layer = get_json(client, "/ogc/collections/childcare/items", GEOJSON)
    api_layer = client.get("/api/layers/childcare?zoom=18").get_json()
    assert [f["properties"] for f in layer["features"]] == [
        f["properties"] for f in api_layer["features"]
    ]


def test_items_carry_public_fields_only(client, data):
    allowed = {"id", *PUBLIC_FIELDS, *CODE_FIELDS}
    features, _pages = all_items(client, "/ogc/collections/employers/items?limit=1000")
    assert features
    for feature in features:
        assert set(feature["properties"]) <= allowed, set(feature["properties"]) - allowed
        assert not set(feature["properties"]) & set(PRIVATE_FIELDS)
    pages = [
        "/ogc/collections/employers/items?limit=1000",
        "/ogc/collections/employers/items?limit=1000&f=html",
        f"/ogc/collections/employers/items/{data['published'][0]}",
        f"/ogc/collections/employers/items/{data['published'][0]}?f=html",
    ]
    for url in pages:
        text = client.get(url).get_data(as_text=True)
        assert "Betrieb" in text
        assert PRIVATE_NAME not in text and PRIVATE_EMAIL not in text, url


def test_unpublished_employers_are_never_items(client, data):
    features, _pages = all_items(client, "/ogc/collections/employers/items?limit=2")
    ids = {feature["id"] for feature in features}
    html = client.get("/ogc/collections/employers/items?limit=1000&f=html").get_data(as_text=True)
    for status, company_id in data["hidden"].items():
        assert company_id not in ids, status
        assert f"Versteckt {status.value}" not in html
        for suffix in ("", "?f=html", "?f=json"):
            response = client.get(f"/ogc/collections/employers/items/{company_id}{suffix}")
            assert response.status_code == 404, (status, suffix)
            assert "Versteckt" not in response.get_data(as_text=True)
    missing = client.get("/ogc/collections/employers/items/999999", headers={"Accept": GEOJSON})
    assert missing.status_code == 404
    assert set(missing.get_json()) == {"code", "description"}
    assert client.get("/ogc/collections/employers/items/abc").status_code == 404
    # an id of another collection is not an item of this one
    childcare = data["layer"]["childcare"]
    assert client.get(f"/ogc/collections/childcare/items/{childcare}").status_code == 200
    assert client.get(f"/ogc/collections/transit/items/{childcare}").status_code == 404


def test_only_published_upcoming_events_and_current_layer_features(client, data):
    features, _pages = all_items(client, "/ogc/collections/events/items")
    assert [f["properties"]["title"] for f in features] == ["Offener Abend"]
    assert_feature_shape(features[0])
    for key in ("pending", "rejected"):
        url = f"/ogc/collections/events/items/{data['events'][key]}"
        assert client.get(url).status_code == 404, key
    assert client.get(f"/ogc/collections/events/items/{data['events']['published']}").status_code
    housing = get_json(client, "/ogc/collections/housing/items", GEOJSON)
    assert housing["numberMatched"] == 0
    expired = data["layer"]["expired"]
    assert client.get(f"/ogc/collections/housing/items/{expired}").status_code == 404


def test_filters_are_the_maps_parameters(client, data):
    page = get_json(client, "/ogc/collections/employers/items?sector=C&limit=100", GEOJSON)
    assert page["numberMatched"] == 6  # the odd ones have division 10 (section C)
    assert "sector=C" in link(page, "self")
    refused = client.get("/ogc/collections/employers/items?sector=ZZ")
    assert refused.status_code == 400
    assert refused.mimetype == "application/json"
    body = refused.get_json()
    assert body["code"] == "InvalidParameterValue"
    api = client.get("/api/employers?sector=ZZ").get_json()
    assert api["message"] in body["description"]  # the same check, the same message


@pytest.mark.parametrize(
    ("path", "json_type"),
    [
        ("/ogc/", "application/json"),
        ("/ogc/conformance", "application/json"),
        ("/ogc/collections", "application/json"),
        ("/ogc/collections/employers", "application/json"),
        ("/ogc/collections/employers/items", GEOJSON),
        ("/ogc/collections/events/items", GEOJSON),
        ("/ogc/collections/childcare/items", GEOJSON),
        ("/ogc/collections/employers/items/{id}", GEOJSON),
        ("/ogc/collections/employers/queryables", "application/schema+json"),
    ],
)
def test_formats_by_f_and_accept(client, data, path, json_type):
    url = path.format(id=data["published"][0])
    joiner = "&" if "?" in url else "?"
    as_json = client.get(f"{url}{joiner}f=json", headers={"Accept": "text/html"})
    assert as_json.status_code == 200 and as_json.mimetype == json_type
    assert isinstance(as_json.get_json(), dict)
    as_html = client.get(f"{url}{joiner}f=html", headers={"Accept": GEOJSON})
    assert as_html.status_code == 200 and as_html.mimetype == "text/html"
    assert "<html" in as_html.get_data(as_text=True)
    for accept, expected in (
        (BROWSER_ACCEPT, "text/html"),
        ("text/html", "text/html"),
        (QGIS_ACCEPT, json_type),
        ("application/json", json_type),
        (GEOJSON, json_type),
        ("*/*", json_type),
        (None, json_type),
    ):
        headers = {"Accept": accept} if accept else {}
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (accept, response.get_data(as_text=True)[:300])
        assert response.mimetype == expected, (accept, response.mimetype)


def test_html_pages_link_and_escape(client, make_company):
    company_id = make_company("<b>Fett</b> & Co")
    page = client.get("/ogc/collections/employers/items?f=html").get_data(as_text=True)
    assert "&lt;b&gt;Fett&lt;/b&gt; &amp; Co" in page and "<b>Fett" not in page
    assert f"/ogc/collections/employers/items/{company_id}?f=html" in page
    detail = client.get(f"/ogc/collections/employers/items/{company_id}?f=html")
    assert "&lt;b&gt;Fett" in detail.get_data(as_text=True)
    landing = client.get("/ogc/?f=html").get_data(as_text=True)
    assert "/ogc/collections?f=html" in landing


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=7,51,6,52", "bbox"),
        ("bbox=7,51,8,52,0,10", "bbox"),
        ("bbox-crs=EPSG:25832&bbox=1,2,3,4", "bbox-crs"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("offset=-5", "offset"),
        ("offset=x", "offset"),
        ("f=xml", "f"),
        ("sector=ZZ", "sector"),
        ("radius_km=500&near=45657", "radius_km"),
        ("colour=red", "colour"),
        ("zoom=5", "zoom"),
    ],
)
def test_bad_parameters_give_an_ogc_exception(client, data, query, parameter):
    response = client.get(f"/ogc/collections/employers/items?{query}")
    assert response.status_code == 400, query
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"code", "description"}
    assert body["code"] == "InvalidParameterValue"
    assert body["description"].startswith(f"{parameter}:"), body


def test_limit_above_the_maximum_is_the_maximum(client, data):
    page = get_json(client, "/ogc/collections/employers/items?limit=50000", GEOJSON)
    assert page["numberReturned"] == len(data["published"])
    assert "limit=1000" in link(page, "self")


def test_unknown_collections_and_parameters_elsewhere(client):
    response = client.get("/ogc/collections/nothing", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["code"] == "NotFound"
    assert client.get("/ogc/collections/nothing/items").status_code == 404
    html = client.get("/ogc/collections/nothing?f=html")
    assert html.status_code == 404 and html.mimetype == "text/html"
    assert client.get("/ogc/collections?bbox=1,2,3,4").status_code == 400
