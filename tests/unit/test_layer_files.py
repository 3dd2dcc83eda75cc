"""Reading layer files without a database: formats by content, invalid geometries, CRS."""

from __future__ import annotations

import json

import pytest
from pyproj import Transformer

from geodata.layer_files import LayerFileError, detect_format, read_layer_file


def collection(*geometries) -> bytes:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"name": f"F{n}"}, "geometry": geometry}
                for n, geometry in enumerate(geometries, 1)
            ],
        }
    ).encode()


def test_invalid_and_missing_geometries_are_row_problems():
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[7, 51], [7.1, 51.1], [7.1, 51], [7, 51.1], [7, 51]]],
    }
    layer = read_layer_file(
        collection(
            {"type": "Point", "coordinates": [7.2, 51.6]},
            None,
            bowtie,
            {"type": "Point", "coordinates": [700, 91]},
        )
    )
    assert [(row.name, row.problem, row.repaired) for row in layer.rows] == [
        ("F1", None, False),
        ("F2", "no_coordinates", False),
        ("F3", None, True),
        ("F4", "geometry", False),
    ]


def test_format_is_told_by_content_not_name():
    assert detect_format(collection({"type": "Point", "coordinates": [7, 51]})) == "geojson"
    assert detect_format(b"name,lon,lat\nA,7,51\n") == "csv"
    with pytest.raises(LayerFileError) as error:
        detect_format(b"\x89PNG\r\n\x1a\n....")
    assert error.value.code == "binary"


def test_csv_coordinates_in_another_crs_with_decimal_commas():
    x, y = Transformer.from_crs(4326, 31466, always_xy=True).transform(7.2, 51.6)
    content = f"Bezeichnung;Rechtswert;Hochwert\nA;{x:.3f};{y:.3f}\n".replace(".", ",")
    layer = read_layer_file(content.encode(), "EPSG:31466")
    (lon, lat) = layer.rows[0].point
    assert abs(lon - 7.2) < 1e-5 and abs(lat - 51.6) < 1e-5 and layer.rows[0].name == "A"
