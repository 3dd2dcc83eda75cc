"""A second feature source, made by this test alone, gets everything through the shared
pipeline: map data with clusters, a list, counts, CSV and GeoJSON exports, permalinks, a
proximity filter, errors and the browser's declarations. No code outside this file and the
source definition below is needed for it (issue 10)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from flask_babel import gettext as _
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, select, text
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.features import pipeline, register, unregister
from app.features.filters import (
    FeatureFilter,
    Parameter,
    place_parameters,
    proximity_parameter,
    shown,
    text_parameter,
)
from app.services import exports
from tests.conftest import temporary_app

KINDS = ("bench", "fountain")
metadata = MetaData()
points = Table(
    "test_demo_points",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String),
    Column("kind", String),
    Column("public", Boolean),
)  # and a PostGIS point column "geom", made by the fixture's DDL


class DemoPoints:
    """Benches and fountains: public rows only, filtered by kind, text, place and nearness to
    an employer."""

    key = "demo"
    parameters = (
        text_parameter("q"),
        Parameter(
            "kind",
            "choice",
            multiple=True,
            options=KINDS,
            allowed=lambda vocabulary: KINDS,
            message=lambda value, vocabulary: _("„%(value)s“ ist keine Art.", value=shown(value)),
        ),
        *place_parameters(),
        proximity_parameter("near_employer_m", "employers"),
    )
    marker = {"className": "demo-marker", "clusterClassName": "demo-cluster"}

    def __init__(self):
        from geoalchemy2 import Geometry
        from sqlalchemy import literal_column

        self.geometry = literal_column("test_demo_points.geom", Geometry("POINT", 4326))
        self.id_column = points.c.id
        self.name_order = (points.c.name,)

    def label(self):
        return "Demo"

    def empty_filter(self):
        return FeatureFilter()

    make_filter = FeatureFilter

    def vocabulary(self):
        return None

    def query(self, f):
        query = select(points).where(points.c.public.is_(True))
        if f.values.get("kind"):
            query = query.where(points.c.kind.in_(f.values["kind"]))
        if f.values.get("q"):
            query = query.where(points.c.name.ilike(f"%{f.values['q']}%"))
        return query

    def with_details(self, query):
        return query

    def properties(self, row):
        return {"id": row.id, "name": row.name, "kind": row.kind}

    def feature_id(self, row):
        return row.id

    def export_rows(self, f):
        from sqlalchemy import func

        query = pipeline.matching(self, f, use_view=False).with_only_columns(
            points.c.name, points.c.kind, func.ST_X(self.geometry), func.ST_Y(self.geometry)
        )
        return ["name", "kind"], query.order_by(points.c.id)


#: Recklinghausen's centre, and a row of points going east, about 1.4 km apart.
LON, LAT = 7.1975, 51.6146


@pytest.fixture
def demo(app):
    """The demo source, registered, with a table of 12 public points and one hidden one."""
    with app.app_context():
        db.session.execute(text("DROP TABLE IF EXISTS test_demo_points"))
        db.session.execute(
            text(
                "CREATE TABLE test_demo_points (id serial PRIMARY KEY, name text, kind text, "
                "public boolean, geom geometry(Point, 4326))"
            )
        )
        for number in range(12):
            db.session.execute(
                text(
                    "INSERT INTO test_demo_points (name, kind, public, geom) VALUES "
                    "(:name, :kind, true, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
                ),
                {
                    "name": f"Punkt {number:02d}",
                    "kind": KINDS[number % 2],
                    "lon": LON + number * 0.02,
                    "lat": LAT,
                },
            )
        db.session.execute(
            text(
                "INSERT INTO test_demo_points (name, kind, public, geom) VALUES "
                "('Verborgen', 'bench', false, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
            ),
            {"lon": LON, "lat": LAT},
        )
        db.session.commit()
    source = register(DemoPoints())
    yield source
    unregister("demo")
    with app.app_context():
        db.session.execute(text("DROP TABLE IF EXISTS test_demo_points"))
        db.session.commit()


def test_map_data_with_clusters_and_exact_counts(database_url, demo):
    with temporary_app(database_url, CLUSTER_THRESHOLD=3) as app:
        client = app.test_client()
        region = client.get("/api/features/demo?zoom=9").get_json()
        street = client.get("/api/features/demo?zoom=16").get_json()
        view = client.get("/api/features/demo?zoom=16&bbox=7.18,51.6,7.25,51.63").get_json()
    assert region["clustered"] is True and region["total"] == 12
    assert sum(f["properties"].get("count", 1) for f in region["features"]) == 12
    assert street["clustered"] is False and len(street["features"]) == 12
    assert {f["properties"]["kind"] for f in street["features"]} == set(KINDS)
    assert "Verborgen" not in json.dumps(street)
    assert view["total"] == 3 and view["matched"] == 12


def test_list_with_paging_sorting_and_distance(client, demo):
    first = client.get("/api/features/demo/list?kind=bench").get_json()
    assert first["total"] == 6 and first["pages"] == 1
    assert [item["name"] for item in first["items"]] == [
        f"Punkt {n:02d}" for n in (0, 2, 4, 6, 8, 10)
    ]
    near = client.get(f"/api/features/demo/list?near={LAT},{LON + 0.22}&radius_km=5").get_json()
    assert near["sort"] == "distance"
    assert [item["name"] for item in near["items"]][:2] == ["Punkt 11", "Punkt 10"]
    assert near["items"][0]["distance_km"] < near["items"][1]["distance_km"]


def test_count_export_and_permalink_through_the_pipeline(app, demo):
    args = MultiDict([("kind", "fountain"), ("q", "Punkt"), ("zoom", "12")])
    with app.test_request_context():
        f = pipeline.parse_filter(demo, args, lambda name: None)
        assert pipeline.count(demo, f) == 6
        assert f.query_args() == {"q": "Punkt", "kind": "fountain"}
        again = pipeline.parse_filter(demo, MultiDict(f.query_args()), lambda name: None)
        assert again.query_args() == f.query_args() and again.active_count == 2
        rows = list(
            csv.DictReader(io.StringIO(exports.export_file(demo, f, "csv").decode("utf-8-sig")))
        )
        geojson = json.loads(exports.export_file(demo, f, "geojson"))
    assert [row["kind"] for row in rows] == ["fountain"] * 6
    assert {"name", "kind", "lon", "lat"} <= set(rows[0])
    assert len(geojson["features"]) == 6
    assert geojson["features"][0]["geometry"]["type"] == "Point"


def test_proximity_to_another_source(client, demo, make_company):
    make_company("Nebenan", lon=LON + 0.0205, lat=LAT)  # about 50 m from Punkt 01
    data = client.get("/api/features/demo?zoom=16&near_employer_m=300").get_json()
    assert [f["properties"]["name"] for f in data["features"]] == ["Punkt 01"]
    bad = client.get("/api/features/demo?near_employer_m=250")
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "near_employer_m"


def test_bad_values_and_unknown_sources(client, demo):
    bad = client.get("/api/features/demo?kind=<b>swing</b>")
    assert bad.status_code == 400
    assert bad.get_json() == {
        "error": "Bad Request",
        "parameter": "kind",
        "message": "„<b>swing</b>“ ist keine Art.",
    }
    assert client.get("/api/features/nothing").status_code == 404


def test_the_browser_gets_the_declarations_of_every_source(app, demo):
    with app.test_request_context():
        declarations = pipeline.browser_declarations(lambda source: {"mapUrl": source.key})
    by_key = {d["key"]: d for d in declarations}
    assert by_key["demo"]["label"] == "Demo"
    parameters = {p["name"]: p for p in by_key["demo"]["parameters"]}
    assert parameters["kind"]["options"] == list(KINDS)
    assert parameters["radius_km"]["requires"] == "near"
    assert parameters["radius_km"]["countsAsFilter"] is False
    assert parameters["near_employer_m"]["source"] == "employers"
    assert by_key["employers"]["parameters"][0]["name"] == "q"


def test_a_source_key_is_registered_once(demo):
    with pytest.raises(ValueError, match="registered already"):
        register(DemoPoints())
