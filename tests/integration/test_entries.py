"""The write model of an entry (app/services/entries.py) on PostGIS."""

import pytest
from geoalchemy2.shape import to_shape

from app.extensions import db
from app.models import Company, CompanyStatus
from app.services import audit, entries
from app.services import questionnaire as questionnaire_service

#: Validated questionnaire answers (what the forms give), by question key.
ANSWERS = {
    "name": "Tischlerei Holzwurm",
    "description": "Möbel nach Maß aus Marl.",
    "street": "Hauptstraße",
    "house_number": "5a",
    "postal_code": "45768",
    "town": "Marl",
    "location": [7.0903, 51.6561],
    "sectors": ["31", "16"],
    "occupations": ["22", "93"],
    "employees": 12,
    "offers_apprenticeships": True,
    "offers_internships": False,
    "has_open_positions": True,
    "open_positions": 2,
    "languages": ["de", "tr"],
    "family": ["part_time", "certificate"],
    "certificate_name": "audit berufundfamilie",
    "certificate_valid_until": "2027-12-31",
    "phone": "02365 12345",
    "email": "info@holzwurm.example",
    "website": "https://holzwurm.example",
    "contact_name": "Erika Muster",
    "contact_email": "erika@holzwurm.example",
}


def fields_of(company: Company) -> dict:
    """What an entry holds, as the audit log sees it (without its status)."""
    return {key: value for key, value in audit.snapshot(company).items() if key != "status"}


def test_build_links_classifications_sets_the_location_and_the_certificate(app):
    with app.app_context():
        values = questionnaire_service.entry_values(ANSWERS)
        company = entries.build(values, status=CompanyStatus.PENDING, source="staff")
        db.session.add(company)
        db.session.commit()
        assert company.slug == "tischlerei-holzwurm-marl"
        assert [d.code for d in company.sectors] == ["16", "31"]
        assert [g.code for g in company.occupations] == ["22", "93"]
        assert {c.key for c in company.family_criteria} == {"part_time", "certificate"}
        assert [(c.name, c.valid_until.isoformat()) for c in company.certificates] == [
            ("audit berufundfamilie", "2027-12-31")
        ]
        point = to_shape(company.location)
        assert (round(point.x, 4), round(point.y, 4)) == (7.0903, 51.6561)
        assert company.municipality_ags == "05562024"  # Marl, from the postal code
        assert company.languages == ["de", "tr"] and company.open_positions == 2
        assert entries.current_values(company) == {
            **values,
            "sectors": ["16", "31"],
            "municipality_ags": "05562024",
            "apprenticeships": [],  # not answered: none named
        }


def test_without_a_pin_the_postal_codes_point_is_used(app):
    with app.app_context():
        company = entries.build({"name": "Ohne Pin", "postal_code": "45768", "location": None})
        assert company.location is not None
        assert tuple(entries.current_values(company)["location"]) == entries.postal_code_point(
            "45768"
        )


def test_a_certificate_needs_the_certificate_criterion(app):
    with app.app_context():
        company = entries.build(
            {
                "name": "Ohne Merkmal",
                "family_criteria": ["part_time"],
                "certificate_name": "audit berufundfamilie",
                "certificate_valid_until": None,
            }
        )
        assert company.certificates == []


def test_apply_sets_only_the_fields_named_and_refuses_unknown_ones(app, make_company):
    company_id = make_company("Elektro Funke", phone="02361 1", family=("part_time",))
    with app.app_context():
        company = db.session.get(Company, company_id)
        with pytest.raises(entries.UnknownEntryField, match="'phnoe'"):
            entries.apply(company, {"phone": "02361 2", "phnoe": "02361 2"})
        assert company.phone == "02361 1"  # nothing was set
        entries.apply(company, {"phone": None, "sectors": ["62", "43"], "languages": []})
        db.session.commit()
        assert company.phone == "" and company.name == "Elektro Funke"
        assert [d.code for d in company.sectors] == ["43", "62"]
        assert [c.key for c in company.family_criteria] == ["part_time"]
        assert company.languages == ["de"]


def test_the_same_answers_give_the_same_entry_whichever_writer_makes_it(app, make_company):
    with app.test_request_context():
        # The questionnaire: a new business's submission.
        draft = questionnaire_service.start_draft("de")
        draft.answers = dict(ANSWERS)
        submitted = questionnaire_service.submit(draft, "summary", {"consent": True}).result
        # Direct: the write model with the answers' entry values.
        built = entries.build(questionnaire_service.entry_values(ANSWERS), slug="direkt")
        db.session.add(built)
        db.session.commit()
        expected = fields_of(submitted)
        assert fields_of(built) == expected
    # A staff edit of another entry, and an approved change request of a third one.
    edited_id = make_company("Alter Name", family=("home_office",))
    changed_id = make_company("Noch ein Name", languages=["pl"])
    with app.test_request_context():
        edited = db.session.get(Company, edited_id)
        questionnaire_service.apply_answers(edited, ANSWERS)
        changed = db.session.get(Company, changed_id)
        change_values = questionnaire_service.entry_values(ANSWERS)
        proposed = questionnaire_service.change_answers(_Change(change_values))
        questionnaire_service.apply_answers(changed, proposed)
        db.session.commit()
        assert fields_of(edited) == expected
        assert fields_of(changed) == expected
        # An entry's answers give the entry back.
        again = questionnaire_service.company_answers(submitted)
        assert questionnaire_service.entry_values(again) == questionnaire_service.entry_values(
            {**ANSWERS, "sectors": ["16", "31"], "apprenticeships": []}
        )
    # The test fixture, given the same fields.
    with app.app_context():
        values = questionnaire_service.entry_values(ANSWERS)
    lon, lat = values.pop("location")
    fixture_id = make_company(
        lon=lon,
        lat=lat,
        sectors=values.pop("sectors"),
        occupations=values.pop("occupations"),
        family=values.pop("family_criteria"),
        municipality_ags="05562024",
        **values,
    )
    with app.app_context():
        assert fields_of(db.session.get(Company, fixture_id)) == expected


class _Change:
    """A stand-in for a ChangeRequest: only its stored values are read."""

    def __init__(self, values: dict):
        self.values = values
