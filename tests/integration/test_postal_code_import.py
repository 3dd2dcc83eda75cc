"""flask import-postal-codes: the operator's full postal-code file, in any CRS."""

import json

import pytest
from pyproj import Transformer
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import PostalCode
from app.services.reference_data import sync_region


@pytest.fixture(autouse=True)
def restore_postal_codes(app):
    yield
    with app.app_context():
        region = app.config["REGION"]
        shipped = [p.code for m in region.municipalities for p in m.postal_codes]
        db.session.execute(delete(PostalCode).where(PostalCode.code.not_in(shipped)))
        db.session.commit()
        sync_region(region)


def point_of(app, code):
    with app.app_context():
        row = db.session.execute(
            select(
                PostalCode.municipality_ags,
                func.ST_X(PostalCode.point),
                func.ST_Y(PostalCode.point),
            ).where(PostalCode.code == code)
        ).first()
        return row


def test_csv_import_adds_and_updates_codes_in_the_region(app, runner, tmp_path):
    path = tmp_path / "plz.csv"
    path.write_text(
        "plz;ort;lon;lat\n45999;Marl-Test;7,1050;51,6600\n45768;Marl;7.0950;51.6550\n"
        "10115;Berlin;13.3850;52.5320\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import-postal-codes", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 postal codes; 1 lie outside the region" in result.output
    ags, lon, lat = point_of(app, "45999")
    assert ags == "05562024"
    assert (lon, lat) == pytest.approx((7.105, 51.66))
    assert point_of(app, "45768")[1:] == pytest.approx((7.095, 51.655))
    assert point_of(app, "10115") is None


def test_geojson_in_utm_is_reprojected(app, runner, tmp_path):
    to_utm = Transformer.from_crs(4326, 25832, always_xy=True)
    x, y = to_utm.transform(7.1975, 51.6146)
    collection = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"PLZ": "45998"},
                "geometry": {"type": "Point", "coordinates": [x, y]},
            }
        ],
    }
    path = tmp_path / "plz.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    result = runner.invoke(args=["import-postal-codes", str(path), "--code-column", "PLZ"])
    assert result.exit_code == 0, result.output
    ags, lon, lat = point_of(app, "45998")
    assert ags == "05562032"
    assert (lon, lat) == pytest.approx((7.1975, 51.6146), abs=1e-6)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "bad.csv",
            "plz,lon,lat\nABCDE,7.1,51.6\n45999,7.1,51.6\n",
            "1 record(s) are not usable; nothing was imported",
        ),
        ("nocoords.csv", "plz,ort\n45999,Marl\n", "no coordinate columns"),
        ("nocode.csv", "zip,lon,lat\n45999,7.1,51.6\n", "no column 'plz'"),
        ("plz.txt", "whatever", "unknown file type '.txt'"),
        ("broken.geojson", "{not json", "cannot be read"),
    ],
)
def test_bad_files_are_refused_with_a_reason_and_nothing_changes(
    app, runner, tmp_path, name, content, message
):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(args=["import-postal-codes", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert point_of(app, "45999") is None


def test_missing_file(runner, tmp_path):
    result = runner.invoke(args=["import-postal-codes", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert "no such file" in result.output
