"""The questionnaire engine on a small definition: forms, checks, messages, mapping."""

import textwrap

import pytest
from werkzeug.datastructures import MultiDict

from questionnaire import (
    Context,
    DefinitionError,
    build_form,
    clean_answers,
    load_definition,
    mapped_values,
)
from questionnaire.definition import parse_definition
from questionnaire.engine import form_data

SMALL = """
version = 3

[[steps]]
key = "firm"
title = { de = "Betrieb", en = "Business" }

  [[steps.questions]]
  key = "name"
  type = "text"
  required = true
  max_length = 10
  maps_to = "name"
  label = { de = "Name", en = "Name" }
  help = { de = "Wie heißt er?", en = "What is it called?" }

  [[steps.questions]]
  key = "employees"
  type = "integer"
  required = true
  min = 1
  maps_to = "employees"
  label = { de = "Beschäftigte", en = "Employees" }

  [[steps.questions]]
  key = "hiring"
  type = "boolean"
  label = { de = "Wir stellen ein", en = "We are hiring" }

  [[steps.questions]]
  key = "positions"
  type = "integer"
  min = 1
  required_if = { question = "hiring", equals = true }
  maps_to = "open_positions"
  label = { de = "Wie viele?", en = "How many?" }

  [[steps.questions]]
  key = "sectors"
  type = "multi_choice"
  options = "wz_divisions"
  max_choices = 2
  maps_to = "sectors"
  label = { de = "Branchen", en = "Sectors" }

  [[steps.questions]]
  key = "size_feel"
  type = "choice"
  options = [{ value = "cosy", de = "gemütlich", en = "cosy" }, { value = "big", de = "groß" }]
  label = { de = "Gefühl", en = "Feel" }

[[steps]]
key = "contact"
title = { de = "Kontakt" }

  [[steps.questions]]
  key = "email"
  type = "email"
  maps_to = "email"
  label = { de = "E-Mail" }

  [[steps.questions]]
  key = "website"
  type = "url"
  maps_to = "website"
  label = { de = "Website" }

  [[steps.questions]]
  key = "postal_code"
  type = "postal_code"
  required = true
  maps_to = "postal_code"
  label = { de = "PLZ" }

  [[steps.questions]]
  key = "where"
  type = "point"
  maps_to = "location"
  label = { de = "Lage" }

  [[steps.questions]]
  key = "until"
  type = "date"
  label = { de = "Bis" }

[consent]
version = "v1"
de = "Ich willige ein."
"""
CONTEXT = Context(
    choices={"wz_divisions": [("10", "Lebensmittel"), ("43", "Bau"), ("62", "IT")]},
    postal_codes=frozenset({"45657", "45768"}),
    in_region=lambda lon, lat: 6.7 < lon < 7.6 and 51.4 < lat < 51.9,
)


@pytest.fixture
def definition(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    return load_definition(path)


def submit(definition, step_key, data, language="de"):
    step = definition.step(step_key)
    form_class = build_form(step, language=language, context=CONTEXT)
    form = form_class(formdata=MultiDict(data))
    valid = form.validate()
    return valid, form, step


def test_steps_and_questions_come_from_the_definition(definition):
    assert definition.version == 3
    assert definition.keys == ("firm", "contact")
    assert [q.key for q in definition.step("firm").questions][:2] == ["name", "employees"]
    assert definition.step("contact").text("title", "en") == "Kontakt"  # German fallback


def test_form_has_labels_and_help_in_the_chosen_language(definition):
    _, form, _ = submit(definition, "firm", {}, language="en")
    assert form.name.label.text == "Name"
    assert form.name.description == "What is it called?"
    assert form.hiring.label.text == "We are hiring"
    assert [choice.label for choice in form.size_feel.choices] == ["–", "cosy", "groß"]


def test_valid_answers_become_clean_values(definition):
    valid, form, step = submit(
        definition,
        "firm",
        [
            ("name", " Bäckerei "),
            ("employees", "12"),
            ("sectors", "10"),
            ("sectors", "43"),
            ("size_feel", "cosy"),
        ],
    )
    assert valid, form.errors
    assert clean_answers(step, form) == {
        "name": "Bäckerei",
        "employees": 12,
        "hiring": False,
        "positions": None,
        "sectors": ["10", "43"],
        "size_feel": "cosy",
    }


@pytest.mark.parametrize(
    ("data", "field", "german"),
    [
        ({"employees": "3"}, "name", "Bitte füllen Sie dieses Feld aus."),
        (
            {"name": "Viel zu langer Name", "employees": "3"},
            "name",
            "Bitte höchstens 10 Zeichen (jetzt 19).",
        ),
        ({"name": "A", "employees": "0"}, "employees", "Bitte geben Sie eine ganze Zahl ab 1 ein."),
        (
            {"name": "A", "employees": "2,5"},
            "employees",
            "Bitte geben Sie eine ganze Zahl ab 1 ein.",
        ),
        (
            {"name": "A", "employees": "zwölf"},
            "employees",
            "Bitte geben Sie eine ganze Zahl ab 1 ein.",
        ),
        (
            {"name": "A", "employees": "3", "sectors": ["10", "43", "62"]},
            "sectors",
            "Bitte wählen Sie höchstens 2.",
        ),
        (
            {"name": "A", "employees": "3", "sectors": ["99"]},
            "sectors",
            "Diese Auswahl gibt es nicht.",
        ),
        (
            {"name": "A", "employees": "3", "size_feel": "huge"},
            "size_feel",
            "Diese Auswahl gibt es nicht.",
        ),
    ],
)
def test_errors_sit_next_to_their_field_and_keep_the_other_input(definition, data, field, german):
    formdata = [
        (k, v)
        for k, values in data.items()
        for v in ([values] if isinstance(values, str) else values)
    ]
    valid, form, _ = submit(definition, "firm", formdata)
    assert not valid
    assert form[field].errors == [german]
    assert set(form.errors) == {field}
    for key, value in data.items():
        assert form[key].data == value or form[key].data == [value] or key == field


def test_branching_required_field(definition):
    valid, form, _ = submit(definition, "firm", {"name": "A", "employees": "3", "hiring": "y"})
    assert not valid
    assert form.positions.errors == ["Bitte füllen Sie dieses Feld aus."]
    valid, _, _ = submit(
        definition, "firm", {"name": "A", "employees": "3", "hiring": "y", "positions": "2"}
    )
    assert valid
    valid, _, _ = submit(definition, "firm", {"name": "A", "employees": "3"})
    assert valid


@pytest.mark.parametrize(
    ("data", "field", "english"),
    [
        ({"postal_code": "4565"}, "postal_code", "A postal code has five digits."),
        ({"postal_code": "10115"}, "postal_code", "The postal code 10115 is not in our region."),
        (
            {"postal_code": "45657", "email": "info@firma"},
            "email",
            "This is not a valid e-mail address (example: name@company.com).",
        ),
        (
            {"postal_code": "45657", "website": "www.firma.de"},
            "website",
            "The website must start with https:// or http:// (example: https://www.company.com).",
        ),
        (
            {"postal_code": "45657", "website": "javascript:alert(1)"},
            "website",
            "The website must start with https:// or http:// (example: https://www.company.com).",
        ),
        (
            {"postal_code": "45657", "where": "52.52,13.40"},
            "where",
            "The point is outside the region. Please drag the marker onto your business.",
        ),
        ({"postal_code": "45657", "where": "lat,lon"}, "where", "This point is not valid."),
        (
            {"postal_code": "45657", "until": "31.02.2027"},
            "until",
            "Please enter a date such as 2027-12-31.",
        ),
    ],
)
def test_contact_checks_in_english(definition, data, field, english):
    valid, form, _ = submit(definition, "contact", data, language="en")
    assert not valid
    assert form[field].errors == [english]


def test_contact_values_are_cleaned(definition):
    valid, form, step = submit(
        definition,
        "contact",
        {
            "postal_code": "45657",
            "email": "info@firma.de",
            "website": "https://firma.de",
            "where": "51.6146,7.1975",
            "until": "31.12.2027",
        },
    )
    assert valid, form.errors
    answers = clean_answers(step, form)
    assert answers["where"] == [7.1975, 51.6146]
    assert answers["until"] == "2027-12-31"
    assert form_data(step, answers)["where"] == "51.614600,7.197500"


def test_answers_map_to_model_fields(definition):
    answers = {
        "name": "A",
        "employees": 3,
        "hiring": False,
        "positions": 4,  # stale: the business no longer says it is hiring
        "sectors": ["10"],
        "size_feel": "cosy",
        "email": "info@firma.de",
        "website": None,
        "postal_code": "45657",
        "where": [7.19, 51.61],
        "until": None,
    }
    assert mapped_values(definition, answers) == {
        "name": "A",
        "employees": 3,
        "open_positions": None,
        "sectors": ["10"],
        "email": "info@firma.de",
        "website": None,
        "postal_code": "45657",
        "location": [7.19, 51.61],
    }
    assert mapped_values(definition, {**answers, "hiring": True})["open_positions"] == 4


def test_a_reworded_or_added_question_needs_no_code(tmp_path):
    changed = SMALL.replace(
        'label = { de = "Name", en = "Name" }', 'label = { de = "Firmenname", en = "Company name" }'
    )
    changed = changed.replace("[consent]", "[placeholder]")
    changed += textwrap.dedent(
        """
          [[steps.questions]]
          key = "founded"
          type = "integer"
          min = 1800
          required = true
          label = { de = "Gründungsjahr", en = "Year founded" }

        [consent]
        version = "v1"
        de = "Ich willige ein."
        """
    )
    path = tmp_path / "changed.toml"
    path.write_text(changed, encoding="utf-8")
    definition = load_definition(path)
    _, form, _ = submit(definition, "contact", {"postal_code": "45657", "founded": "1700"})
    assert form.founded.errors == ["Bitte geben Sie eine ganze Zahl ab 1800 ein."]
    _, form, _ = submit(definition, "firm", {}, language="en")
    assert form.name.label.text == "Company name"


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (SMALL.replace('type = "email"', 'type = "mail"'), "type 'mail' is not one of"),
        (SMALL.replace('options = "wz_divisions"', 'options = "colours"'), "options 'colours'"),
        (SMALL.replace('key = "email"', 'key = "name"'), "question key 'name' is used twice"),
        (
            SMALL.replace('question = "hiring"', 'question = "email"'),
            "not a question of the same step",
        ),
        (
            SMALL.replace('label = { de = "PLZ" }', 'label = { en = "PLZ" }'),
            "needs at least a German",
        ),
        ("version = 1", "has no steps"),
        (SMALL.replace('version = "v1"', ""), r"\[consent\] needs a version"),
        ("[[steps]\nkey=", "not valid TOML"),
    ],
)
def test_malformed_definitions_are_refused_with_the_place_named(tmp_path, broken, message):
    path = tmp_path / "broken.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(DefinitionError, match=message):
        load_definition(path)


def test_the_bundled_definition_has_the_steps_the_issue_asks_for():
    definition = load_definition()
    assert definition.keys == (
        "business",
        "location",
        "classification",
        "size",
        "offers",
        "family",
        "contact",
        "summary",
    )
    for question in definition.questions():
        assert question.text("label", "de") and question.label.get("en"), question.key
    assert definition.consent.version
    assert definition.consent.text_in("en").startswith("I consent")
    minimal = {
        "steps": [{"key": "a", "title": {"de": "A"}}],
        "consent": {"version": "1", "de": "Ja"},
    }
    assert parse_definition(minimal).keys == ("a",)
