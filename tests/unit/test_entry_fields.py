"""The questionnaire's ``maps_to`` names are checked against the entry's writable fields."""

import textwrap

import pytest

from app.config import ConfigError, load_settings
from app.services import entries
from questionnaire import DefinitionError, answers_from, load_definition, mapped_values

GOOD = {
    "APP_ENV": "testing",
    "DATABASE_URL": "postgresql://atlas:secret@db.internal:5432/atlas",
}

TYPO = """
version = 1

[[steps]]
key = "business"
title = { de = "Betrieb" }

  [[steps.questions]]
  key = "name"
  type = "text"
  maps_to = "nmae"
  label = { de = "Name" }

[consent]
version = "1"
de = "Einverstanden."
"""


def write(tmp_path, text: str):
    path = tmp_path / "definition.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_maps_to_typo_fails_at_load_naming_the_question_and_the_target(tmp_path):
    path = write(tmp_path, TYPO)
    with pytest.raises(DefinitionError, match=r"question name: maps_to 'nmae' is not a field"):
        load_definition(path, targets=entries.FIELD_NAMES)


def test_a_maps_to_typo_stops_the_app_with_one_sentence(tmp_path):
    path = write(tmp_path, TYPO)
    with pytest.raises(ConfigError) as raised:
        load_settings({**GOOD, "QUESTIONNAIRE_DEFINITION": str(path)}, environ={})
    message = str(raised.value)
    assert message.startswith("QUESTIONNAIRE_DEFINITION: ")
    assert "question name" in message and "'nmae'" in message
    assert "\n" not in message


def test_without_targets_the_questionnaire_package_checks_no_names(tmp_path):
    assert load_definition(write(tmp_path, TYPO)).questions()[0].maps_to == "nmae"


def test_two_questions_may_not_fill_the_same_field(tmp_path):
    twice = TYPO.replace('maps_to = "nmae"', 'maps_to = "name"')
    twice = twice.replace(
        "[consent]",
        '  [[steps.questions]]\n  key = "firm"\n  type = "text"\n  maps_to = "name"\n'
        '  label = { de = "Firma" }\n\n[consent]',
    )
    with pytest.raises(DefinitionError, match="question firm: maps_to 'name' is already filled"):
        load_definition(write(tmp_path, twice), targets=entries.FIELD_NAMES)


def test_the_bundled_definition_maps_only_to_entry_fields():
    questionnaire = load_definition(targets=entries.FIELD_NAMES)
    mapped = {q.maps_to for q in questionnaire.questions() if q.maps_to}
    assert mapped <= entries.FIELD_NAMES
    assert {"name", "location", "sectors", "family_criteria", "certificate_name"} <= mapped


def test_answers_from_values_is_mapped_values_the_other_way_round():
    questionnaire = load_definition(targets=entries.FIELD_NAMES)
    values = {
        "name": "Elektro Kaya",
        "open_positions": 3,
        "family_criteria": ["certificate"],
        "certificate_name": "audit berufundfamilie",
        "certificate_valid_until": "2027-12-31",
    }
    answers = answers_from(questionnaire, values)
    assert answers["name"] == "Elektro Kaya" and answers["family"] == ["certificate"]
    assert answers["has_open_positions"] is True  # the gate of open_positions
    assert answers["consent"] is None  # not an entry field
    again = mapped_values(questionnaire, answers)
    assert {key: again[key] for key in values} == values
    assert answers_from(questionnaire, {"open_positions": 0})["has_open_positions"] is False


def test_unknown_entry_fields_are_refused_before_anything_is_set():
    with pytest.raises(entries.UnknownEntryField, match="'nmae' is not a writable field"):
        entries.build({"nmae": "Tippfehler"})
    with pytest.raises(entries.UnknownEntryField, match="'colour'"):
        entries.build({"name": "Betrieb"}, colour="blue")
