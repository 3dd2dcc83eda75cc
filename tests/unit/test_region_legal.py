"""The legal pages' details in a region file (theme.imprint, theme.accessibility): unknown keys
and wrong types are refused with an error naming the file and the key."""

import json
from datetime import date

import pytest

from geodata.regions import NOT_APPLICABLE, RegionError, load_region
from tests.unit.test_region_create import minimal_region


def load(tmp_path, **theme):
    folder = tmp_path / "testland"
    folder.mkdir()
    (folder / "region.json").write_text(json.dumps(minimal_region(**theme)))
    return load_region(str(folder))


@pytest.mark.parametrize(
    ("theme", "message"),
    [
        ({"imprint": {"registry": "HRB 1"}}, r"theme\.imprint has unknown field\(s\): registry"),
        ({"imprint": []}, r"theme\.imprint must be an object"),
        ({"imprint": {"register": 42}}, r"theme\.imprint\.register must be a text, or false"),
        ({"imprint": {"vat_id": "123"}}, r"theme\.imprint\.vat_id '123' is not a VAT"),
        (
            {"imprint": {"content_responsible": {"fax": "1"}}},
            r"theme\.imprint\.content_responsible has unknown field\(s\): fax",
        ),
        (
            {"accessibility": {"conformity": "mostly"}},
            r"theme\.accessibility\.conformity 'mostly' must be one of full, partial, none",
        ),
        (
            {"accessibility": {"statement_date": "30.11.2026"}},
            r"theme\.accessibility\.statement_date '30\.11\.2026' must be a date written",
        ),
        (
            {"accessibility": {"statement_date": "2026-02-30"}},
            r"statement_date '2026-02-30' must be a date",
        ),
        (
            {"accessibility": {"enforcement_checked": "yes"}},
            r"theme\.accessibility\.enforcement_checked must be true or false",
        ),
        ({"accessibility": {"method": ["a"]}}, r"theme\.accessibility\.method must be a text"),
        (
            {"accessibility": {"feedback": {"email": "nobody"}}},
            r"theme\.accessibility\.feedback e-mail 'nobody' is not an address",
        ),
        ({"accessibility": {"enforcment": {}}}, r"theme\.accessibility has unknown field"),
        ({"operator": {"name": ["A", "B"]}}, r"theme\.operator\.name must be a text"),
        ({"agency": {"phone": 2361123}}, r"theme\.agency\.phone must be a text"),
    ],
)
def test_bad_legal_details_are_a_clear_region_error(tmp_path, theme, message):
    with pytest.raises(RegionError, match=message) as error:
        load(tmp_path, **theme)
    assert str(tmp_path / "testland" / "region.json") in str(error.value)  # names the file


def test_legal_details_load_with_their_types(tmp_path):
    region = load(
        tmp_path,
        imprint={"register": " HRB 1 ", "vat_id": "de 123456789", "supervisory_authority": False},
        accessibility={
            "conformity": "full",
            "statement_date": "2026-11-30",
            "feedback": {"email": "a@example.org"},
            "enforcement_checked": True,
        },
    )
    imprint, statement = region.theme.imprint, region.theme.accessibility
    assert (imprint.register, imprint.vat_id) == ("HRB 1", "DE123456789")
    assert imprint.supervisory_authority == NOT_APPLICABLE  # false: does not apply
    assert imprint.content_responsible is None and imprint.content_responsible_applies
    assert statement.conformity == "full"
    assert statement.statement_date == date(2026, 11, 30)
    assert statement.feedback.email == "a@example.org"
    assert statement.enforcement is None and statement.enforcement_checked


def test_a_region_without_legal_details_gets_placeholders_only(tmp_path):
    region = load(tmp_path)
    assert region.theme.imprint.register is None and region.theme.imprint.vat_id is None
    assert region.theme.accessibility.conformity is None
    assert region.theme.accessibility.statement_date is None


@pytest.mark.parametrize("key", ["emscher-lippe", "soest"])
def test_the_bundled_regions_carry_the_legal_sections(key):
    statement = load_region(key).theme.accessibility
    assert statement.conformity == "partial"
    assert statement.enforcement.address == ("Fürstenwall 25", "40219 Düsseldorf")
    assert not statement.enforcement_checked  # the operator verifies it
