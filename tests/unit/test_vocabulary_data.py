"""The shipped vocabulary files: full classifications, apprenticeships, everyday words."""

import re

from app.services.reference_data import read_data_file


def _items(name):
    return read_data_file(name)["items"]


def test_wz2008_full_has_five_levels_in_two_languages_and_agrees_with_wz2008():
    items = _items("wz2008_full.json")
    levels = {level: [i for i in items if i["level"] == level] for level in range(1, 6)}
    assert [len(levels[n]) for n in (1, 2)] == [21, 88]
    assert len(levels[5]) > 800
    codes = {i["code"] for i in items}
    for item in items:
        assert item["title_de"].strip() and item["title_en"].strip()
        assert item["level"] == 1 or item["parent"] in codes
    divisions = {
        d["code"] for s in read_data_file("wz2008.json")["sections"] for d in s["divisions"]
    }
    assert {i["code"] for i in levels[2]} == divisions
    assert any(i["code"] == "10.71.0" and "Backwaren" in i["title_de"] for i in levels[5])


def test_kldb2010_full_reaches_the_berufsgattungen_and_agrees_with_kldb2010():
    items = _items("kldb2010_full.json")
    gattungen = [i for i in items if i["level"] == 5]
    assert len(gattungen) > 1200
    assert all(re.fullmatch(r"\d{5}", i["code"]) for i in gattungen)
    groups = {g["code"] for a in read_data_file("kldb2010.json")["areas"] for g in a["groups"]}
    assert {i["code"] for i in items if i["level"] == 2} == groups


def test_apprenticeships_name_existing_berufsgattungen_with_stable_slugs():
    apprenticeships = read_data_file("apprenticeships.json")
    gattungen = {i["code"] for i in _items("kldb2010_full.json") if i["level"] == 5}
    assert len(apprenticeships) >= 300
    assert len({a["code"] for a in apprenticeships}) == len(apprenticeships)
    for item in apprenticeships:
        assert set(item) == {"code", "kldb", "de", "en"}
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", item["code"])
        assert item["kldb"] in gattungen, item
    by_code = {a["code"]: a for a in apprenticeships}
    assert by_code["elektroniker-energie-gebaeudetechnik"]["kldb"][:2] == "26"
    assert by_code["baecker"]["kldb"][:2] == "29"


def test_everyday_terms_map_to_existing_divisions_groups_and_apprenticeships():
    terms = read_data_file("everyday_terms.json")["terms"]
    divisions = {i["code"] for i in _items("wz2008_full.json") if i["level"] == 2}
    groups = {i["code"] for i in _items("kldb2010_full.json") if i["level"] == 2}
    apprenticeships = {a["code"] for a in read_data_file("apprenticeships.json")}
    assert len(terms) >= 150
    for term in terms:
        assert term["de"] and term["en"]
        assert term["wz"] or term["kldb"], term
        assert set(term["wz"]) <= divisions, term
        assert set(term["kldb"]) <= groups, term
        assert set(term.get("apprenticeships", [])) <= apprenticeships, term
