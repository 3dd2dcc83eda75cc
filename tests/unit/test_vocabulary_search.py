"""The vocabulary search: everyday words find the codes the filters use (issue 11)."""

import pytest

from app.services.vocabulary_search import build_index, fold, query_words, search, stem

# (everyday word, list, expected filter code among the first three results). Trades, care,
# office, logistics, IT and hospitality, as people type them.
EVERYDAY = [
    ("Bäcker", "sectors", "10"),
    ("Bäcker", "occupations", "29"),
    ("Bäckerei", "sectors", "10"),
    ("Backwaren", "sectors", "10"),
    ("Konditorei", "occupations", "29"),
    ("Fleischer", "occupations", "29"),
    ("Metzger", "sectors", "10"),
    ("Friseur", "sectors", "96"),
    ("Friseur", "occupations", "82"),
    ("Kosmetik", "occupations", "82"),
    ("Kfz-Werkstatt", "sectors", "45"),
    ("Kfz-Mechatroniker", "occupations", "25"),
    ("Autowerkstatt", "sectors", "45"),
    ("Elektriker", "sectors", "43"),
    ("Elektriker", "occupations", "26"),
    ("Klempner", "occupations", "34"),
    ("Sanitär", "sectors", "43"),
    ("Heizung", "occupations", "34"),
    ("Dachdecker", "occupations", "32"),
    ("Maler", "occupations", "33"),
    ("Tischler", "occupations", "22"),
    ("Schreiner", "occupations", "22"),
    ("Maurer", "occupations", "32"),
    ("Metallbau", "occupations", "24"),
    ("Schweißer", "occupations", "24"),
    ("Zerspanung", "occupations", "24"),
    ("Gartenbau", "occupations", "12"),
    ("Landschaftsbau", "sectors", "81"),
    ("Pflegedienst", "sectors", "88"),
    ("Pflegedienst", "occupations", "82"),
    ("Altenpflege", "occupations", "82"),
    ("Krankenhaus", "sectors", "86"),
    ("Arztpraxis", "sectors", "86"),
    ("MFA", "occupations", "81"),
    ("Zahnarzt", "occupations", "81"),
    ("Apotheke", "sectors", "47"),
    ("Physiotherapie", "occupations", "81"),
    ("Optiker", "occupations", "82"),
    ("Hörakustik", "occupations", "82"),
    ("Kita", "occupations", "83"),
    ("Erzieher", "occupations", "83"),
    ("Büro", "occupations", "71"),
    ("Buchhaltung", "occupations", "72"),
    ("Steuerberater", "sectors", "69"),
    ("Bank", "sectors", "64"),
    ("Versicherung", "sectors", "65"),
    ("Immobilien", "sectors", "68"),
    ("Lager", "occupations", "51"),
    ("Lager", "sectors", "52"),
    ("Spedition", "occupations", "51"),
    ("Berufskraftfahrer", "occupations", "52"),
    ("Berufskraftfahrer", "sectors", "49"),
    ("IT", "sectors", "62"),
    ("IT", "occupations", "43"),
    ("Programmierer", "occupations", "43"),
    ("Fachinformatiker", "sectors", "62"),
    ("Koch", "occupations", "29"),
    ("Koch", "sectors", "56"),
    ("Kellner", "occupations", "63"),
    ("Gastronomie", "sectors", "56"),
    ("Hotel", "sectors", "55"),
    ("Einzelhandel", "sectors", "47"),
    ("Verkäufer", "occupations", "62"),
    ("Supermarkt", "sectors", "47"),
    ("Reinigung", "occupations", "54"),
    ("Gebäudereinigung", "sectors", "81"),
    ("Fitness", "sectors", "93"),
    ("Handwerk", "sectors", "43"),
]


def top(kind: str, query: str, n: int = 3, lang: str = "de") -> list[str]:
    return [hit.filter_code for hit in search(query, lang)[kind][:n]]


@pytest.mark.parametrize(("word", "kind", "code"), EVERYDAY)
def test_everyday_words_find_the_filter_code_in_the_first_three(word, kind, code):
    assert code in top(kind, word)


def test_the_table_covers_at_least_forty_words():
    assert len({word for word, _, _ in EVERYDAY}) >= 40


@pytest.mark.parametrize("spelling", ["Bäcker", "Baecker", "BÄCKER", "baecker", "  bäcker "])
def test_umlauts_ae_spellings_and_case_are_folded(spelling):
    assert search(spelling) == search("Bäcker")
    assert top("sectors", spelling, 1) == ["10"]


def test_sharp_s_and_ss_are_the_same():
    assert fold("Schweißer") == fold("Schweisser") == "schweisser"
    assert top("occupations", "Schweisser") == top("occupations", "Schweißer")


def test_a_stem_finds_the_beginning_of_a_compound():
    # "Bäcker" finds "Herstellung von Backwaren (ohne Dauerbackwaren)" (WZ class 10.71).
    codes = [hit.code for hit in search("Bäcker", "de")["sectors"]]
    assert "10.7" in codes or "10.71" in codes
    assert stem("backer") == "back"


def test_a_word_beginning_finds_a_compound():
    codes = [hit.code for hit in search("Elektro")["sectors"]]
    assert "43.21" in codes  # Elektroinstallation


def test_a_part_inside_a_compound_is_found():
    codes = [hit.code for hit in search("installation")["sectors"]]
    assert "43.21" in codes  # Elektroinstallation


@pytest.mark.parametrize(
    ("typo", "kind", "code"),
    [
        ("Elektirker", "occupations", "26"),
        ("Elektriekr", "sectors", "43"),
        ("Fiseur", "occupations", "82"),
        ("Programierer", "occupations", "43"),
    ],
)
def test_one_typo_is_tolerated(typo, kind, code):
    assert code in top(kind, typo)


def test_two_typos_are_not_tolerated():
    assert "26" not in top("occupations", "Elkektirker")


def test_apprenticeships_are_found_by_their_name_and_by_everyday_words():
    assert search("Elektroniker Energie")["apprenticeships"][0].code == (
        "elektroniker-energie-gebaeudetechnik"
    )
    assert search("Bäcker")["apprenticeships"][0].code == "baecker"
    assert search("Kfz-Mechatroniker")["apprenticeships"][0].code == "kraftfahrzeugmechatroniker"
    assert search("Büromanagement")["apprenticeships"][0].code == "kaufmann-bueromanagement"


def test_an_everyday_word_names_itself_in_the_hit():
    hit = search("Bäckerei")["sectors"][0]
    assert (hit.filter_code, hit.level, hit.term) == ("10", "division", "Bäckerei")


def test_english_labels_and_english_words():
    hit = search("baker", "en")["sectors"][0]
    assert hit.filter_code == "10"
    assert hit.label == "Manufacture of food products"
    assert search("Bäcker", "en")["apprenticeships"][0].label == "Baker"


def test_all_words_of_a_query_must_match():
    hits = search("Elektroniker Betriebstechnik")["apprenticeships"]
    assert [h.code for h in hits] == ["elektroniker-betriebstechnik"]


def test_empty_stop_word_and_nonsense_queries_find_nothing():
    empty = {"sectors": [], "occupations": [], "apprenticeships": []}
    assert search("") == empty
    assert search("x") == empty
    assert search("qqqqqqqq") == empty
    assert query_words("Herstellung von Backwaren") == ["herstellung", "backwaren"]


def test_at_most_ten_results_and_no_code_twice():
    for kind, hits in search("Herstellung").items():
        assert len(hits) <= 10
        assert len({h.code for h in hits}) == len(hits), kind


# A small index built from fixtures: the ranking rules, independent of the shipped data.
WZ = {
    "items": [
        {
            "code": "C",
            "level": 1,
            "parent": None,
            "title_de": "Verarbeitendes Gewerbe",
            "title_en": "Manufacturing",
        },
        {
            "code": "10",
            "level": 2,
            "parent": "C",
            "title_de": "Herstellung von Nahrungsmitteln",
            "title_en": "Food",
        },
        {
            "code": "10.7",
            "level": 3,
            "parent": "10",
            "title_de": "Herstellung von Backwaren",
            "title_en": "Bakery",
        },
        {
            "code": "10.71",
            "level": 4,
            "parent": "10.7",
            "title_de": "Herstellung von Backwaren",
            "title_en": "Bakery",
        },
        {
            "code": "F",
            "level": 1,
            "parent": None,
            "title_de": "Baugewerbe",
            "title_en": "Construction",
        },
        {
            "code": "43",
            "level": 2,
            "parent": "F",
            "title_de": "Ausbaugewerbe",
            "title_en": "Specialised construction",
        },
        {
            "code": "43.21",
            "level": 3,
            "parent": "43",
            "title_de": "Elektroinstallation",
            "title_en": "Electrical installation",
        },
    ]
}
KLDB = {
    "items": [
        {"code": "2", "level": 1, "parent": None, "title_de": "Rohstoffgewinnung, Produktion"},
        {"code": "29", "level": 2, "parent": "2", "title_de": "Lebensmittelberufe"},
        {"code": "292", "level": 3, "parent": "29", "title_de": "Lebensmittelherstellung"},
        {
            "code": "2922",
            "level": 4,
            "parent": "292",
            "title_de": "Berufe in der Backwarenherstellung",
        },
        {
            "code": "29222",
            "level": 5,
            "parent": "2922",
            "title_de": "Berufe in der Backwarenherstellung – fachlich ausgerichtete Tätigkeiten",
        },
    ]
}
KLDB_MAIN = {
    "areas": [
        {
            "code": "2",
            "title_en": "Production",
            "groups": [{"code": "29", "title_en": "Food occupations"}],
        }
    ]
}
APPRENTICESHIPS = [{"code": "baecker", "kldb": "29222", "de": "Bäcker/in", "en": "Baker"}]
TERMS = {
    "terms": [
        {
            "de": "Brötchen",
            "en": "bread rolls",
            "wz": ["10"],
            "kldb": ["29"],
            "apprenticeships": ["baecker"],
        }
    ]
}


@pytest.fixture(scope="module")
def small():
    return build_index(WZ, KLDB, KLDB_MAIN, APPRENTICESHIPS, TERMS)


def test_fixture_index_maps_deep_levels_to_the_filter_codes(small):
    hits = search("Backwaren", index=small)
    assert {h.filter_code for h in hits["sectors"]} == {"10"}
    assert [h.filter_code for h in hits["occupations"]] == ["29"]
    assert hits["occupations"][0].code == "2922"  # the 5-digit level repeats it: left out


def test_fixture_index_everyday_word_before_official_labels(small):
    hits = search("Broetchen", index=small)
    assert [h.code for h in hits["sectors"]] == ["10"]
    assert hits["sectors"][0].term == "Brötchen"
    assert [h.code for h in hits["apprenticeships"]] == ["baecker"]
    assert search("Elektro", index=small)["sectors"][0].code == "43.21"


def test_fixture_index_exact_before_prefix_before_typo(small):
    assert search("Baugewerbe", index=small)["sectors"][0].code == "F"
    assert search("Baugewerb", index=small)["sectors"][0].code == "F"
    assert search("Bauegwerbe", index=small)["sectors"][0].code == "F"
