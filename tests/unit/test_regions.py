import json

import pytest

from geodata.regions import RegionError, load_region, parse_region

EMSCHER_LIPPE_AGS = {
    "05512000": "Bottrop",
    "05513000": "Gelsenkirchen",
    "05562004": "Castrop-Rauxel",
    "05562008": "Datteln",
    "05562012": "Dorsten",
    "05562014": "Gladbeck",
    "05562016": "Haltern am See",
    "05562020": "Herten",
    "05562024": "Marl",
    "05562028": "Oer-Erkenschwick",
    "05562032": "Recklinghausen",
    "05562036": "Waltrop",
}


def test_emscher_lippe_has_its_twelve_municipalities():
    region = load_region("emscher-lippe")
    assert {m.ags: m.name for m in region.municipalities} == EMSCHER_LIPPE_AGS
    (west, south), (east, north) = region.bounds
    for municipality in region.municipalities:
        assert west < municipality.lon < east
        assert south < municipality.lat < north
        assert municipality.postal_codes, municipality.name


def test_postal_code_lookup():
    region = load_region("emscher-lippe")
    municipality, postal_code = region.postal_code("45768")
    assert municipality.name == "Marl"
    assert abs(postal_code.lat - 51.65) < 0.05
    assert region.postal_code("10115") is None


def minimal_region(**changes):
    raw = {
        "key": "testland",
        "name": "Testland",
        "map": {"center": [7.0, 51.0], "zoom": 10, "bounds": [[6.9, 50.9], [7.1, 51.1]]},
        "municipalities": [
            {
                "ags": "01001000",
                "name": "Teststadt",
                "centroid": [7.0, 51.0],
                "postal_codes": [{"code": "12345", "point": [7.0, 51.0]}],
            }
        ],
    }
    raw.update(changes)
    return raw


def test_another_region_loads_from_its_own_file(tmp_path):
    path = tmp_path / "testland.json"
    path.write_text(json.dumps(minimal_region()), encoding="utf-8")
    region = load_region(str(path))
    assert region.name == "Testland"
    assert region.municipality("01001000").name == "Teststadt"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"municipalities": []}, "at least one municipality"),
        (
            {"municipalities": [{"ags": "123", "name": "X", "centroid": [7, 51]}]},
            "not an eight-digit AGS",
        ),
        (
            {"municipalities": [{"ags": "01001000", "name": "X", "centroid": [700, 51]}]},
            "not a \\[longitude, latitude\\] pair",
        ),
        ({"map": {"zoom": 3}}, "missing or malformed field"),
    ],
)
def test_malformed_region_is_refused(change, message):
    with pytest.raises(RegionError, match=message):
        parse_region(minimal_region(**change))


def test_duplicate_postal_codes_are_refused():
    raw = minimal_region()
    twin = dict(raw["municipalities"][0], ags="01002000")
    raw["municipalities"].append(twin)
    with pytest.raises(RegionError, match="postal code appears in two municipalities"):
        parse_region(raw)


def test_unknown_region_names_the_bundled_ones():
    with pytest.raises(RegionError, match="emscher-lippe"):
        load_region("nowhere")
