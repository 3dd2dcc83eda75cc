"""The Company model on PostGIS: size classes, spatial queries, integrity rules."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import Company, CompanyStatus
from app.services.employers import published_companies, within_radius

# Recklinghausen town hall area; 0.009° of latitude is about 1.0 km.
LON, LAT = 7.1975, 51.6146


@pytest.mark.parametrize(
    ("employees", "size_class"),
    [(9, "micro"), (10, "small"), (49, "small"), (50, "medium"), (249, "medium"), (250, "large")],
)
def test_size_class_is_derived_by_the_database(app, make_company, employees, size_class):
    company_id = make_company(employees=employees)
    with app.app_context():
        company = db.session.get(Company, company_id)
        assert company.size_class == size_class
        company.employees = 1
        db.session.commit()
        db.session.refresh(company)
        assert company.size_class == "micro"


def test_radius_query_returns_the_employers_within_it(app, make_company):
    centre = make_company("Am Mittelpunkt", lon=LON, lat=LAT)
    inside = make_company("900 m nördlich", lon=LON, lat=LAT + 0.0081)  # ≈ 0.90 km
    outside = make_company("1100 m nördlich", lon=LON, lat=LAT + 0.0099)  # ≈ 1.10 km
    east = make_company("1,5 km östlich", lon=LON + 0.0217, lat=LAT)  # ≈ 1.50 km
    with app.app_context():

        def ids(radius_m):
            query = within_radius(published_companies(), LON, LAT, radius_m)
            return {c.id for c in db.session.scalars(query)}

        assert ids(1000) == {centre, inside}
        assert ids(1200) == {centre, inside, outside}
        assert ids(1600) == {centre, inside, outside, east}
        assert outside not in ids(1000)


def test_radius_query_sees_only_published_employers(app, make_company):
    make_company("Veröffentlicht", lon=LON, lat=LAT)
    make_company("Wartet", lon=LON, lat=LAT, status=CompanyStatus.PENDING)
    with app.app_context():
        query = within_radius(published_companies(), LON, LAT, 500)
        assert [c.name for c in db.session.scalars(query)] == ["Veröffentlicht"]


def test_a_published_entry_needs_a_location(app):
    with app.app_context():
        db.session.add(Company(slug="ohne-ort", name="Ohne Ort", status=CompanyStatus.PUBLISHED))
        with pytest.raises(IntegrityError, match="published_has_location"):
            db.session.commit()


def test_employee_count_must_be_positive(app, make_company):
    with pytest.raises(IntegrityError, match="employees_positive"):
        make_company(employees=0)


def test_concurrent_edits_are_caught_by_the_version_column(app, make_company):
    company_id = make_company("Original")
    with app.app_context():
        first = db.session.get(Company, company_id)
        version = first.version
        # Someone else saves the entry in the meantime.
        with db.engine.begin() as other:
            other.execute(
                Company.__table__.update()
                .where(Company.id == company_id)
                .values(name="Von anderer Seite", version=version + 1)
            )
        first.name = "Meine Änderung"
        with pytest.raises(StaleDataError):
            db.session.commit()
        db.session.rollback()
        name = db.session.scalar(select(Company.name).where(Company.id == company_id))
        assert name == "Von anderer Seite"
