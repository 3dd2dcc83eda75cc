"""`flask region create`: a region file from municipality polygons in EPSG:25832, checked against
known centroids, postal codes assigned by polygon, clear errors; and the theme's checks."""

import json

import geopandas as gpd
import pytest
from click.testing import CliRunner
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box, shape

from app.cli_region import create_command
from geodata.region_builder import RegionBuildError, build_region, map_view
from geodata.regions import RegionError, load_region, parse_region, parse_theme

TO_WGS84 = Transformer.from_crs(25832, 4326, always_xy=True)
#: Square municipalities (UTM zone 32N, metres): AGS -> (west, south, side).
SQUARES = {
    "05974004": (430_000, 5_710_000, 6_000),
    "05974008": (436_000, 5_710_000, 4_000),
    "05513000": (420_000, 5_710_000, 5_000),  # another district: must be left out
}
#: A U-shaped municipality: its area centroid lies in the gap, outside the polygon.
U_SHAPE = Polygon(
    [
        (440_000, 5_710_000),
        (446_000, 5_710_000),
        (446_000, 5_716_000),
        (445_000, 5_716_000),
        (445_000, 5_711_000),
        (441_000, 5_711_000),
        (441_000, 5_716_000),
        (440_000, 5_716_000),
    ]
)


def known_centre(ags: str) -> tuple[float, float]:
    west, south, side = SQUARES[ags]
    return TO_WGS84.transform(west + side / 2, south + side / 2)


def metres_apart(a: tuple[float, float], b: tuple[float, float]) -> float:
    geod = Transformer.from_crs(4326, 25832, always_xy=True)
    (ax, ay), (bx, by) = geod.transform(*a), geod.transform(*b)
    return ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5


@pytest.fixture
def boundaries(tmp_path):
    """A GeoJSON file in EPSG:25832 with three squares and a U, names in a GEN column."""
    rows = [
        {"AGS": ags, "GEN": name, "geometry": box(w, s, w + side, s + side)}
        for (ags, (w, s, side)), name in zip(
            SQUARES.items(), ("Anröchte", "Bad Sassendorf", "Gelsenkirchen"), strict=True
        )
    ]
    rows.append({"AGS": "05974012", "GEN": "Ense", "geometry": U_SHAPE})
    path = tmp_path / "gemeinden.geojson"
    gpd.GeoDataFrame(rows, crs=25832).to_file(path, driver="GeoJSON")
    return path


@pytest.fixture
def postal_codes(tmp_path):
    """Postal-code points in EPSG:25832: two in the first square, one in the second, one in
    the other district, one a few metres outside the region's edge."""
    rows = [
        ("59609", 432_000, 5_712_000),
        ("59610", 434_500, 5_714_500),
        ("59505", 438_000, 5_712_000),
        ("45879", 422_000, 5_712_000),
        ("59469", 443_000, 5_709_990),
    ]
    path = tmp_path / "plz.csv"
    path.write_text("plz;x;y\n" + "".join(f"{c};{x};{y}\n" for c, x, y in rows))
    return path


def test_region_from_polygons_in_utm(boundaries, postal_codes, tmp_path):
    output = tmp_path / "soest" / "region.json"
    result = CliRunner().invoke(
        create_command,
        [
            "--boundaries",
            str(boundaries),
            "--ags-prefix",
            "05974",
            "--name",
            "Kreis Test",
            "--key",
            "test-kreis",
            "--name-en",
            "Test District",
            "--postal-codes",
            str(postal_codes),
            "--postal-codes-crs",
            "EPSG:25832",
            "--output",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "45879" in result.output  # reported as outside the region

    region = load_region(str(output))
    assert (region.key, region.name, region.name_en) == (
        "test-kreis",
        "Kreis Test",
        "Test District",
    )
    assert {m.ags: m.name for m in region.municipalities} == {
        "05974004": "Anröchte",
        "05974008": "Bad Sassendorf",
        "05974012": "Ense",
    }
    for ags in ("05974004", "05974008"):
        municipality = region.municipality(ags)
        assert metres_apart((municipality.lon, municipality.lat), known_centre(ags)) < 5
    ense = region.municipality("05974012")
    assert shape_of(U_SHAPE).contains(Point(ense.lon, ense.lat))  # not the centroid in the gap

    codes = {m.ags: sorted(p.code for p in m.postal_codes) for m in region.municipalities}
    assert codes == {
        "05974004": ["59609", "59610"],
        "05974008": ["59505"],
        "05974012": ["59469"],  # 10 m outside: moved into the nearest municipality
    }
    assert region.postal_code("45879") is None
    ense_code = region.postal_code("59469")[1]
    assert shape_of(U_SHAPE).contains(Point(ense_code.lon, ense_code.lat))

    outline = shape(region.outline)
    west, south, east, north = shape_of(box(430_000, 5_710_000, 446_000, 5_716_000)).bounds
    assert outline.contains(Point(*known_centre("05974004")))
    assert not outline.contains(Point(*known_centre("05513000")))
    for got, expected in zip(outline.bounds, (west, south, east, north), strict=True):
        assert abs(got - expected) < 0.0005
    (view_west, view_south), (view_east, view_north) = region.bounds
    assert view_west < west and view_east > east and view_south < south and view_north > north
    assert view_west < region.center[0] < view_east and view_south < region.center[1] < view_north
    assert 10 <= region.zoom <= 13
    assert region.contains(*known_centre("05974008"))
    assert not region.contains(*known_centre("05513000"))


def shape_of(utm_polygon: Polygon) -> Polygon:
    return Polygon([TO_WGS84.transform(x, y) for x, y in utm_polygon.exterior.coords])


def test_no_matching_ags_is_a_clear_error(boundaries, tmp_path):
    output = tmp_path / "region.json"
    result = CliRunner().invoke(
        create_command,
        [
            *("--boundaries", str(boundaries), "--ags-prefix", "09162"),
            *("--name", "München", "--output", str(output)),
        ],
    )
    assert result.exit_code == 1
    assert "No municipality in the file has an AGS starting with 09162" in result.output
    assert "No region file was written" in result.output
    assert not output.exists()


def test_other_errors_are_clear(boundaries, tmp_path):
    with pytest.raises(RegionBuildError, match="no column 'ags_key'"):
        build_region(boundaries, ags_prefix="05974", name="X", ags_column="ags_key")
    with pytest.raises(RegionBuildError, match="must be 1 to 8 digits"):
        build_region(boundaries, ags_prefix="05a", name="X")
    points = tmp_path / "points.csv"
    points.write_text("code;lon;lat\n59609;8.0;51.5\n")
    with pytest.raises(RegionBuildError, match="Postal codes: no column 'plz'"):
        build_region(boundaries, ags_prefix="05974", name="X", postal_codes=points)
    without_crs = tmp_path / "no_crs.geojson"
    raw = json.loads(boundaries.read_text())
    raw.pop("crs", None)
    without_crs.write_text(json.dumps(raw))
    # GeoJSON without "crs" means WGS 84: UTM metres are then no longitude/latitude.
    with pytest.raises(RegionBuildError, match=r"no longitude/latitude.*--crs"):
        build_region(without_crs, ags_prefix="05974", name="X")
    assert build_region(without_crs, ags_prefix="05974", name="X", crs="EPSG:25832").region


def test_an_existing_file_is_kept_without_force(boundaries, tmp_path):
    output = tmp_path / "region.json"
    output.write_text("{}")
    args = ["--boundaries", str(boundaries), "--ags-prefix", "05974", "--name", "Kreis Test"]
    result = CliRunner().invoke(create_command, [*args, "--output", str(output)])
    assert result.exit_code == 1 and "exists already" in result.output
    assert output.read_text() == "{}"
    result = CliRunner().invoke(create_command, [*args, "--output", str(output), "--force"])
    assert result.exit_code == 0, result.output
    assert load_region(str(output)).key == "kreis-test"


def test_map_view_fits_the_bounds():
    view = map_view((6.75, 51.43, 7.55, 51.82))  # Emscher-Lippe's extent
    assert view["zoom"] == 10
    assert view["center"] == [7.15, 51.625]


def minimal_region(**theme):
    return {
        "key": "testland",
        "name": "Testland",
        "map": {"center": [7.0, 51.0], "zoom": 10, "bounds": [[6.9, 50.9], [7.1, 51.1]]},
        "municipalities": [{"ags": "01001000", "name": "Teststadt", "centroid": [7.0, 51.0]}],
        "theme": theme,
    }


def test_a_region_without_theme_gets_the_default_look():
    region = parse_region({k: v for k, v in minimal_region().items() if k != "theme"})
    assert (region.theme.primary, region.theme.accent, region.theme.logo) == (
        "#0b3d6b",
        "#f0a500",
        None,
    )
    assert region.theme.agency.empty
    assert "--brand: #0b3d6b;" in region.theme.css()


LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    '<rect width="10" height="10"/></svg>'
)


@pytest.mark.parametrize(
    ("theme", "message"),
    [
        ({"primary": "red"}, "primary colour 'red' must be written #rrggbb"),
        ({"accent": "#fff"}, "accent colour '#fff' must be written #rrggbb"),
        ({"primary": "#0b3d6b;}body{"}, "must be written #rrggbb"),
        ({"primary": "#ffee00"}, "too light for the white header text"),
        ({"logo": "missing.svg"}, "logo file 'missing.svg' not found"),
        ({"logo": "logo.png"}, "must name an SVG file"),
        ({"logo": "../outside.svg"}, "must lie in the region's folder"),
        ({"logo": "script.svg"}, "must not contain scripts"),
        ({"agency": {"email": "not an address"}}, "agency e-mail 'not an address'"),
        ({"operator": {"fax": "1"}}, "operator has unknown field"),
        ({"colour": "#000000"}, "theme has unknown field"),
    ],
)
def test_a_bad_theme_is_a_clear_region_error(tmp_path, theme, message):
    folder = tmp_path / "testland"
    folder.mkdir()
    (tmp_path / "outside.svg").write_text(LOGO)
    (folder / "script.svg").write_text(LOGO.replace("<rect", "<script>alert(1)</script><rect"))
    (folder / "region.json").write_text(json.dumps(minimal_region(**theme)))
    with pytest.raises(RegionError, match=message):
        load_region(str(folder))


def test_a_good_theme_loads_from_the_region_folder(tmp_path):
    folder = tmp_path / "testland"
    folder.mkdir()
    (folder / "logo.svg").write_text(LOGO)
    theme = {
        "primary": "#8C1D18",
        "accent": "#e8b130",
        "logo": "logo.svg",
        "agency": {"name": "Agentur", "email": "a@example.org", "address": ["Weg 1", "1 Ort"]},
    }
    (folder / "region.json").write_text(json.dumps(minimal_region(**theme)))
    region = load_region(str(folder))
    assert region.theme.primary == "#8c1d18"
    assert region.theme.logo == (folder / "logo.svg").resolve()
    assert region.theme.agency.address == ("Weg 1", "1 Ort")
    assert ":root" in region.theme.css() and "#8c1d18" in region.theme.css()
    with pytest.raises(RegionError, match="needs the region's folder"):
        parse_theme({"logo": "logo.svg"})


def test_the_bundled_regions_load_with_their_themes():
    soest = load_region("soest")
    emscher_lippe = load_region("emscher-lippe")
    assert soest.theme.primary != emscher_lippe.theme.primary
    assert soest.theme.logo.read_bytes() != emscher_lippe.theme.logo.read_bytes()
    assert len(soest.municipalities) == 14
    assert all(m.ags.startswith("05974") and m.postal_codes for m in soest.municipalities)
    assert soest.postal_code("59494")[0].name == "Soest"
    assert soest.outline is not None and emscher_lippe.outline is None
    # a path to the region's JSON file works as well as its key
    assert load_region(str(soest_path())).key == "soest"


def soest_path():
    from geodata.regions import REGIONS_DIR

    return REGIONS_DIR / "soest" / "region.json"


def test_another_region_gets_its_own_local_database(tmp_path):
    from app.config import load_settings, local_database_name

    assert local_database_name("emscher-lippe") == "kmu_atlas"
    assert local_database_name("soest") == "kmu_atlas_soest"
    assert local_database_name("märkischer-kreis") == "kmu_atlas_m_rkischer_kreis"
    base = {"APP_ENV": "testing", "INSTANCE_PATH": str(tmp_path)}
    default = load_settings(base, environ={})["SQLALCHEMY_DATABASE_URI"]
    soest = load_settings({**base, "REGION": "soest"}, environ={})
    assert "/kmu_atlas?" in default
    assert "/kmu_atlas_soest?" in soest["SQLALCHEMY_DATABASE_URI"]
    assert soest["REGION"].name == "Kreis Soest"
