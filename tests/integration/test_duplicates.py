"""Duplicate detection (similar name within ~100 m, or same website/phone) and merging."""

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Company, CompanyStatus, ConsentRecord
from app.services import duplicates
from tests.staff_helpers import audit_actions, company

LON, LAT = 7.1975, 51.6146
#: Degrees of latitude per metre, near enough here.
PER_METRE = 1 / 111_200


def found(app, company_id):
    with app.app_context():
        entry = db.session.get(Company, company_id)
        return {(d.company.name, d.reasons) for d in duplicates.candidates(entry)}


def test_near_duplicate_is_found_and_same_name_5_km_away_is_not(app, make_company):
    new = make_company("Bäckerei Schulte", status=CompanyStatus.PENDING, lon=LON, lat=LAT)
    make_company("Bäckerei Schulte GmbH & Co. KG", lon=LON, lat=LAT + 60 * PER_METRE)
    make_company("Bäckerei Schulte", lon=LON, lat=LAT + 5000 * PER_METRE)
    make_company("Friseur Kamm", lon=LON, lat=LAT + 10 * PER_METRE)
    assert found(app, new) == {("Bäckerei Schulte GmbH & Co. KG", ("name_near",))}


def test_the_100_metre_boundary(app, make_company):
    new = make_company("Metallbau Kraft", status=CompanyStatus.PENDING, lon=LON, lat=LAT)
    make_company("Metallbau Kraft", lon=LON, lat=LAT + 95 * PER_METRE, slug="inside")
    make_company("Metallbau Kraft", lon=LON, lat=LAT + 110 * PER_METRE, slug="outside")
    with app.app_context():
        entry = db.session.get(Company, new)
        assert [d.company.slug for d in duplicates.candidates(entry)] == ["inside"]


def test_same_website_or_phone_anywhere_is_a_duplicate(app, make_company):
    new = make_company(
        "Autohaus Nord",
        status=CompanyStatus.PENDING,
        website="https://www.autohaus-nord.example/",
        phone="+49 2361 4711",
    )
    make_company("AHN Verkauf", website="http://autohaus-nord.example", lat=LAT + 0.1)
    make_company("Werkstatt am Ring", phone="02361 / 47 11", lat=LAT - 0.1)
    make_company("Anderer Betrieb", phone="02361 4712", website="https://anders.example")
    assert found(app, new) == {("AHN Verkauf", ("website",)), ("Werkstatt am Ring", ("phone",))}


def test_name_similarity_ignores_legal_forms_and_case_but_not_other_words():
    assert duplicates.similar_names("Müller GmbH", "MÜLLER")
    assert duplicates.similar_names("Tischlerei Holzwurm", "Tischlerei Holzwurm e.K.")
    assert duplicates.similar_names("Elektro Funke", "Elektro Funcke")
    assert not duplicates.similar_names("Elektro Funke", "Sanitär Funke")
    assert not duplicates.similar_names("GmbH", "GmbH")


def test_review_page_warns_of_duplicates_with_a_merge_link(app, client, auth, make_company):
    new = make_company("Bäckerei Schulte", status=CompanyStatus.PENDING)
    old = make_company("Bäckerei Schulte GmbH", lat=LAT + 20 * PER_METRE)
    auth.login()
    html = client.get(f"/agentur/eintraege/{new}").get_data(as_text=True)
    assert "Mögliche Dubletten" in html
    assert "ähnlicher Name, 20 m entfernt" in html
    assert f"/agentur/eintraege/{new}/zusammenfuehren/{old}" in html


def test_merge_keeps_the_richer_data_and_both_histories(app, client, auth, make_company):
    kept = make_company(
        "Bäckerei Schulte",
        description="Brot.",
        phone="",
        employees=None,
        sectors=("10",),
        family=("part_time",),
        languages=["de"],
        contact_email="alt@schulte.example",
    )
    dropped = make_company(
        "Bäckerei Schulte GmbH",
        status=CompanyStatus.PENDING,
        description="Brot, Brötchen und Kuchen seit 1950.",
        phone="02361 999",
        employees=14,
        sectors=("10", "47"),
        family=("flexible_hours",),
        languages=["de", "tr"],
        contact_email="neu@schulte.example",
        lat=LAT + 30 * PER_METRE,
    )
    with app.app_context():
        db.session.add(ConsentRecord(company_id=dropped, text_version="v", text="Ja"))
        db.session.commit()
    auth.login()
    preview = client.get(f"/agentur/eintraege/{kept}/zusammenfuehren/{dropped}")
    assert preview.status_code == 200
    assert "Brot, Brötchen und Kuchen seit 1950." in preview.get_data(as_text=True)
    response = auth.post(
        f"/agentur/eintraege/{kept}/zusammenfuehren/{dropped}",
        {"keep_version": "1", "drop_version": "1"},
    )
    assert response.status_code == 303
    merged, gone = company(app, kept), company(app, dropped)
    assert merged.name == "Bäckerei Schulte"
    assert merged.description == "Brot, Brötchen und Kuchen seit 1950."
    assert (merged.phone, merged.employees) == ("02361 999", 14)
    assert merged.contact_email == "alt@schulte.example"
    assert [d.code for d in merged.sectors] == ["10", "47"]
    assert sorted(c.key for c in merged.family_criteria) == ["flexible_hours", "part_time"]
    assert merged.languages == ["de", "tr"]
    assert merged.status is CompanyStatus.PUBLISHED
    assert (gone.status, gone.merged_into_id) == (CompanyStatus.ARCHIVED, kept)
    assert audit_actions(app, kept) == ["merge"]
    assert audit_actions(app, dropped) == ["merged_into"]
    with app.app_context():
        record = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "merge"))
        assert record.before["phone"] == "" and record.after["phone"] == "02361 999"
        consents = db.session.scalars(select(ConsentRecord.company_id)).all()
        assert consents == [kept]
    # The merged-away entry is no longer offered as a duplicate and cannot be restored.
    assert found(app, kept) == set()
    kept_page = client.get(f"/agentur/eintraege/{kept}").get_data(as_text=True)
    assert "zusammengeführt (aufgegangen in)" in kept_page  # the merged entry's history too
    page = client.get(f"/agentur/eintraege/{dropped}").get_data(as_text=True)
    assert "Dieser Eintrag ist aufgegangen in" in page
    assert "zurueckholen" not in page


def test_merge_refuses_a_stale_version_and_changes_nothing(app, auth, make_company):
    kept = make_company("Bäckerei Schulte", phone="")
    dropped = make_company("Bäckerei Schulte GmbH", phone="02361 999")
    auth.login()
    auth.post(
        f"/agentur/eintraege/{kept}/zusammenfuehren/{dropped}",
        {"keep_version": "1", "drop_version": "0"},
    )
    assert company(app, kept).phone == ""
    assert company(app, dropped).merged_into_id is None
    assert audit_actions(app, kept) == []
