from app.services.reference_data import read_data_file


def test_wz2008_has_21_sections_and_88_divisions_in_two_languages():
    sections = read_data_file("wz2008.json")["sections"]
    divisions = [d for s in sections for d in s["divisions"]]
    assert [s["code"] for s in sections] == [chr(c) for c in range(ord("A"), ord("U") + 1)]
    assert len(divisions) == 88
    assert len({d["code"] for d in divisions}) == 88
    for item in [*sections, *divisions]:
        assert item["title_de"].strip()
        assert item["title_en"].strip()
    construction = next(s for s in sections if s["code"] == "F")
    assert [d["code"] for d in construction["divisions"]] == ["41", "42", "43"]


def test_kldb2010_has_10_areas_and_37_main_groups_in_two_languages():
    areas = read_data_file("kldb2010.json")["areas"]
    groups = [(a["code"], g) for a in areas for g in a["groups"]]
    assert sorted(a["code"] for a in areas) == [str(n) for n in range(10)]
    assert len(groups) == 37
    for area_code, group in groups:
        assert group["code"].startswith(area_code)
        assert group["title_de"].strip()
        assert group["title_en"].strip()


def test_family_criteria_cover_the_defined_list():
    keys = [c["key"] for c in read_data_file("family_criteria.json")["criteria"]]
    assert keys == [
        "flexible_hours",
        "part_time",
        "home_office",
        "childcare_support",
        "return_to_work",
        "carer_leave",
        "certificate",
    ]
