"""The languages of the region (issue 15): which pages speak which languages, the text
direction, the language switch, the shipped taxonomy translations, and the catalogues of the
jobseeker side (no untranslated or fuzzy entry; machine translations marked for review)."""

import fnmatch
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app import create_app, i18n, taxonomy_translations
from app.config import PROJECT_ROOT
from app.layers import OTHER_LANGUAGES, load_layer_kinds

GOOD = {"APP_ENV": "testing", "DATABASE_URL": "postgresql://atlas:secret@db.internal:5432/atlas"}
TRANSLATIONS = PROJECT_ROOT / "app" / "translations"
DATA = PROJECT_ROOT / "app" / "data"
PYBABEL = Path(sys.executable).parent / "pybabel"
#: The translator comment every machine-made entry carries until a native speaker reviewed it.
REVIEW_NOTE = "machine translation, not yet reviewed by a native speaker"


@pytest.fixture(scope="module")
def app():
    return create_app(GOOD)


# --- languages, direction, which pages speak which ---------------------------------------------


def test_every_language_has_a_direction_a_name_and_arabic_is_right_to_left():
    assert i18n.LANGUAGES == ("de", "en", "tr", "ar", "uk")
    for code in i18n.LANGUAGES:
        assert i18n.text_direction(code) == ("rtl" if code == "ar" else "ltr"), code
        assert i18n.LANGUAGE_NAMES[code]
    assert set(i18n.GERMAN_AND_ENGLISH) <= set(i18n.LANGUAGES)


def test_every_blueprint_is_either_for_jobseekers_or_german_and_english(app):
    both = i18n.JOBSEEKER_BLUEPRINTS & i18n.GERMAN_ENGLISH_BLUEPRINTS
    assert both == set()
    unclassified = set(app.blueprints) - i18n.JOBSEEKER_BLUEPRINTS - i18n.GERMAN_ENGLISH_BLUEPRINTS
    assert unclassified == set(), "add each new blueprint to one of the sets in app/i18n.py"
    assert set(app.view_functions) >= i18n.GERMAN_ENGLISH_ENDPOINTS


@pytest.mark.parametrize(
    ("path", "cookie", "expected"),
    [
        ("/?lang=tr", None, "tr"),
        ("/arbeitgeber/x?lang=ar", None, "ar"),
        ("/veranstaltungen", "uk", "uk"),
        ("/api/employers/list?lang=uk", None, "uk"),
        ("/einbetten/karte?lang=ar", None, "ar"),
        ("/gibt-es-nicht?lang=tr", None, "tr"),  # a 404 page is a jobseeker's page
        ("/?lang=xx", "ar", "ar"),  # an unknown language in the link: the cookie's
        ("/", None, "de"),
        # pages for businesses and staff: English instead of Turkish, Arabic or Ukrainian
        ("/agentur/anmelden?lang=tr", None, "en"),
        ("/agentur/veranstaltungen/", "ar", "en"),
        ("/mitmachen/", "uk", "en"),
        ("/ogc?lang=tr", None, "en"),
        ("/api/docs?lang=ar", None, "en"),
        ("/api/openapi.json", "tr", "en"),
        ("/einbetten?lang=uk", None, "en"),
        ("/agentur/anmelden?lang=de", "tr", "de"),
    ],
)
def test_the_page_decides_which_languages_it_speaks(app, path, cookie, expected):
    headers = {"Cookie": f"lang={cookie}"} if cookie else {}
    with app.test_request_context(path, headers=headers):
        assert i18n.select_locale() == expected


def test_the_switch_keeps_the_query_and_offers_the_page_languages(app):
    with app.test_request_context("/?sector=F&family=part_time&family=home_office&lang=tr"):
        switch = i18n.language_switch()
        assert switch["action"] == "/"
        assert switch["keep"] == [
            ("sector", "F"),
            ("family", "part_time"),
            ("family", "home_office"),
        ]
        assert [code for code, _name in switch["languages"]] == list(i18n.LANGUAGES)
        assert dict(switch["languages"])["ar"] == "العربية"
        assert i18n.language_switch_url("uk") == (
            "/?sector=F&family=part_time&family=home_office&lang=uk"
        )
    with app.test_request_context("/agentur/anmelden?next=%2Fagentur%2F&lang=tr"):
        switch = i18n.language_switch()
        assert switch["keep"] == [("next", "/agentur/")]
        assert [code for code, _name in switch["languages"]] == ["de", "en"]
    # a query named like url_for's own arguments is kept as data
    with app.test_request_context("/?endpoint=x&_external=1&lang=de"):
        assert i18n.language_switch()["keep"] == [("endpoint", "x"), ("_external", "1")]


# --- the taxonomy translations the project ships -----------------------------------------------


def _codes() -> set[str]:
    wz = json.loads((DATA / "wz2008.json").read_text(encoding="utf-8"))
    kldb = json.loads((DATA / "kldb2010.json").read_text(encoding="utf-8"))
    family = json.loads((DATA / "family_criteria.json").read_text(encoding="utf-8"))
    codes = {f"wz:{s['code']}" for s in wz["sections"]}
    codes |= {f"wz:{d['code']}" for s in wz["sections"] for d in s["divisions"]}
    codes |= {f"kldb:{a['code']}" for a in kldb["areas"]}
    codes |= {f"kldb:{g['code']}" for a in kldb["areas"] for g in a["groups"]}
    codes |= {f"family:{c['key']}" for c in family["criteria"]}
    return codes


def test_every_taxonomy_code_has_a_label_in_every_language():
    codes = _codes()
    assert len(codes) == 21 + 88 + 10 + 37 + 7
    assert set(taxonomy_translations.languages()) == set(OTHER_LANGUAGES)
    for language in OTHER_LANGUAGES:
        data = json.loads(taxonomy_translations.DATA_FILE.read_text(encoding="utf-8"))
        labels = data["languages"][language]
        assert set(labels) == codes, language  # nothing missing, nothing left over
        for key in codes:
            label = taxonomy_translations.label(key, language)
            assert label and label == label.strip() and "\n" not in label, (language, key)
    assert "not yet reviewed by a native speaker" in taxonomy_translations.source()


def test_arabic_labels_are_arabic_and_ukrainian_labels_cyrillic():
    for key in _codes():
        assert any("\u0600" <= c <= "\u06ff" for c in taxonomy_translations.label(key, "ar")), key
        assert any("\u0400" <= c <= "\u04ff" for c in taxonomy_translations.label(key, "uk")), key


def test_titles_fall_back_to_english_for_a_missing_translation():
    from app.models import FamilyCriterion, WzDivision

    division = WzDivision(code="10", title_de="Nahrungsmittel", title_en="Food products")
    assert division.title("de") == "Nahrungsmittel"
    assert division.title("en") == "Food products"
    assert division.title("tr") == "Gıda ürünlerinin imalatı"
    assert division.title("uk") == "Виробництво харчових продуктів"
    unknown = FamilyCriterion(key="new_one", title_de="Neu", title_en="New")
    assert unknown.title("ar") == "New"


def test_the_shipped_layer_kinds_are_named_in_every_language():
    for kind in load_layer_kinds().values():
        for language in OTHER_LANGUAGES:
            assert kind.name(language) != kind.name_en, (kind.key, language)
            if kind.proximity:
                assert kind.proximity_label(language) != kind.proximity_label("en")
            for field in kind.fields:
                assert field.label(language) != field.label_en or field.label_en == "Website"
                assert field.label(language), (kind.key, field.key, language)
    shipped = json.loads((DATA / "layer_kinds.json").read_text(encoding="utf-8"))
    assert "not yet reviewed by a native speaker" in shipped["translations"]


def test_a_layer_kind_without_translations_falls_back_to_english(tmp_path):
    path = tmp_path / "kinds.json"
    path.write_text(
        json.dumps(
            {
                "kinds": [
                    {
                        "key": "doctors",
                        "name_de": "Arztpraxen",
                        "name_en": "Doctors",
                        "name_tr": "Doktorlar",
                        "colour": "#123456",
                        "symbol": "A",
                        "proximity": True,
                        "fields": [{"key": "hours", "label_de": "Zeiten", "label_en": "Hours"}],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    kind = load_layer_kinds(path)["doctors"]
    assert (kind.name("de"), kind.name("tr"), kind.name("ar")) == (
        "Arztpraxen",
        "Doktorlar",
        "Doctors",
    )
    assert kind.proximity_label("ar") == "Doctors nearby"
    assert kind.fields[0].label("uk") == "Hours"
    assert kind.declaration("tr")["name"] == "Doktorlar"


# --- the catalogues of the jobseeker side ------------------------------------------------------


def _load(path: Path):
    with open(path, "rb") as file:
        return read_po(file)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """Every message of the code and templates with the files it is used in."""
    template = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(  # noqa: S603  (our own pybabel, fixed arguments)
        [
            PYBABEL,
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-o",
            template,
            "--add-location=file",
            "--omit-header",
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    return _load(template)


def is_jobseeker_source(filename: str) -> bool:
    return any(fnmatch.fnmatch(filename, pattern) for pattern in i18n.JOBSEEKER_SOURCES)


def jobseeker_ids(extracted) -> set:
    return {
        message.id
        for message in extracted
        if message.id and any(is_jobseeker_source(name) for name, _line in message.locations)
    }


def test_the_jobseeker_sources_exist():
    for pattern in i18n.JOBSEEKER_SOURCES:
        assert list(PROJECT_ROOT.glob(pattern)), pattern


def translated(message) -> bool:
    """Whether an entry has a translation (a plural one: in any form)."""
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return any(strings)


def problems(catalogue, wanted: set) -> list[str]:
    """The wanted messages that are missing, empty (or an empty plural form) or fuzzy."""
    found = []
    for message_id in sorted(wanted, key=str):
        message = catalogue.get(message_id)
        strings = message.string if message is not None else ""
        strings = strings if isinstance(strings, tuple) else (strings,)
        if message is None or not all(strings) or message.fuzzy:
            found.append(message_id if isinstance(message_id, str) else message_id[0])
    return found


@pytest.mark.parametrize("language", ["en", *OTHER_LANGUAGES])
def test_every_jobseeker_text_is_translated_and_not_fuzzy(extracted, language):
    catalogue = _load(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    assert not catalogue.fuzzy, "a fuzzy catalogue is skipped by pybabel compile"
    wanted = jobseeker_ids(extracted)
    assert len(wanted) > 300
    missing = problems(catalogue, wanted)
    assert missing == [], f"{len(missing)} jobseeker texts untranslated or fuzzy in {language}"


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_machine_translations_are_marked_for_review(language):
    if language in i18n.REVIEWED_LANGUAGES:
        pytest.skip(f"{language} was reviewed by a native speaker")
    catalogue = _load(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    unmarked = [
        message.id
        for message in catalogue
        if message.id and translated(message) and REVIEW_NOTE not in message.user_comments
    ]
    assert unmarked == []


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_translations_keep_every_placeholder(language):
    placeholder = re.compile(r"%\([a-z_]+\)[sd]|%%")
    catalogue = _load(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    wrong = []
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(set(placeholder.findall(ids[-1])) | set(placeholder.findall(ids[0])))
        for string in strings:
            found = sorted(set(placeholder.findall(string)))
            # a plural form may leave out the number (Arabic "zero", "one" and "two")
            plural_without_number = len(ids) > 1 and set(found) < set(expected)
            if string and found != expected and not plural_without_number:
                wrong.append((ids[0], string))
    assert wrong == []
