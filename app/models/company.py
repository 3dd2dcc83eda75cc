"""The employer entry (Company) and what hangs off it."""

from __future__ import annotations

import enum
from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.places import Municipality
from app.models.taxonomy import FamilyCriterion, KldbGroup, WzDivision

#: EU size classes (Commission Recommendation 2003/361/EC) by head count: upper bounds, exclusive.
SIZE_CLASSES = (("micro", 10), ("small", 50), ("medium", 250), ("large", None))
#: The size classes' names, smallest first (the ``size`` filter's values).
SIZES = tuple(name for name, _upper in SIZE_CLASSES)
#: What a business offers, as the ``offers`` filter names it (conditions: Company.offer_condition).
OFFERS = ("apprenticeship", "internship", "jobs")


def size_class_for(employees: int | None) -> str | None:
    """The EU size class for a head count: micro < 10, small < 50, medium < 250, else large."""
    if employees is None:
        return None
    for name, upper in SIZE_CLASSES:
        if upper is None or employees < upper:
            return name
    raise AssertionError("unreachable")


def _size_class_sql() -> str:
    cases = " ".join(
        f"WHEN employees < {upper} THEN '{name}'" for name, upper in SIZE_CLASSES if upper
    )
    return f"CASE WHEN employees IS NULL THEN NULL {cases} ELSE 'large' END"


class CompanyStatus(enum.StrEnum):
    """Where an entry stands: only ``published`` entries are ever public."""

    DRAFT = "draft"
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    ARCHIVED = "archived"


company_sectors = Table(
    "company_sectors",
    db.metadata,
    Column("company_id", ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True),
    Column("division_code", ForeignKey("wz_divisions.code"), primary_key=True, index=True),
)

company_occupations = Table(
    "company_occupations",
    db.metadata,
    Column("company_id", ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True),
    Column("group_code", ForeignKey("kldb_groups.code"), primary_key=True, index=True),
)

company_family_criteria = Table(
    "company_family_criteria",
    db.metadata,
    Column("company_id", ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True),
    Column("criterion_key", ForeignKey("family_criteria.key"), primary_key=True, index=True),
)


class Company(db.Model):
    """An employer entry. The contact person fields are private and never shown publicly."""

    __tablename__ = "companies"
    __table_args__ = (
        UniqueConstraint("source", "source_ref"),
        CheckConstraint("employees IS NULL OR employees >= 1", name="employees_positive"),
        CheckConstraint("open_positions >= 0", name="open_positions_not_negative"),
        CheckConstraint(
            "status <> 'published' OR location IS NOT NULL", name="published_has_location"
        ),
        Index("ix_companies_languages", "languages", postgresql_using="gin"),
        Index("ix_companies_search_vector", "search_vector", postgresql_using="gin"),
        # Distances are measured on the ellipsoid (geography); this index serves ST_DWithin.
        Index(
            "ix_companies_location_geography",
            text("(location::geography)"),
            postgresql_using="gist",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")

    street: Mapped[str] = mapped_column(String(200), default="")
    house_number: Mapped[str] = mapped_column(String(20), default="")
    postal_code: Mapped[str] = mapped_column(String(5), default="")
    town: Mapped[str] = mapped_column(String(100), default="")
    municipality_ags: Mapped[str | None] = mapped_column(
        ForeignKey("municipalities.ags"), index=True
    )
    location: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=4326))

    website: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")

    employees: Mapped[int | None] = mapped_column(Integer)
    size_class: Mapped[str | None] = mapped_column(
        String(6), Computed(_size_class_sql(), persisted=True), index=True
    )
    offers_apprenticeships: Mapped[bool] = mapped_column(Boolean, default=False)
    offers_internships: Mapped[bool] = mapped_column(Boolean, default=False)
    open_positions: Mapped[int] = mapped_column(Integer, default=0)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=list)
    #: German full text of name and description, folded by atlas_fold (umlauts, ß, accents,
    #: ae/oe/ue).
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "to_tsvector('german'::regconfig, "
            "atlas_fold(coalesce(name, '') || ' ' || coalesce(description, '')))",
            persisted=True,
        ),
        deferred=True,
    )

    status: Mapped[CompanyStatus] = mapped_column(
        Enum(
            CompanyStatus,
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda e: [m.value for m in e],
            name="status",
        ),
        default=CompanyStatus.DRAFT,
        index=True,
    )
    source: Mapped[str] = mapped_column(String(20), default="questionnaire")
    source_ref: Mapped[str | None] = mapped_column(String(100))

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Part of every edit link sent to the owner: raising it revokes those links.
    link_generation: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: When the owner was last asked to confirm the entry (freshness reminder).
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set on an entry merged into another one; the merged entry is archived.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL")
    )

    __mapper_args__ = {"version_id_col": version}

    municipality: Mapped[Municipality | None] = relationship()
    sectors: Mapped[list[WzDivision]] = relationship(
        secondary=company_sectors, order_by=WzDivision.code
    )
    occupations: Mapped[list[KldbGroup]] = relationship(
        secondary=company_occupations, order_by=KldbGroup.code
    )
    family_criteria: Mapped[list[FamilyCriterion]] = relationship(
        secondary=company_family_criteria, order_by=FamilyCriterion.position
    )
    certificates: Mapped[list[FamilyCertificate]] = relationship(
        back_populates="company", cascade="all, delete-orphan", order_by="FamilyCertificate.name"
    )
    #: The recognised apprenticeship occupations the business trains in (public).
    apprenticeships: Mapped[list[CompanyApprenticeship]] = relationship(
        back_populates="company",
        cascade="all, delete-orphan",
        order_by="CompanyApprenticeship.code",
    )

    @classmethod
    def offer_condition(cls, offer: str):
        """The SQL condition for an entry that makes ``offer`` (one of :data:`OFFERS`)."""
        return {
            "apprenticeship": cls.offers_apprenticeships.is_(True),
            "internship": cls.offers_internships.is_(True),
            "jobs": cls.open_positions > 0,
        }[offer]

    def __repr__(self) -> str:
        return f"<Company {self.id} {self.name!r} {self.status}>"


# The name search's typo-tolerant fallback: trigrams (pg_trgm) of the folded names of published
# employers (see app.features.employers.text_condition).
Index(
    "ix_companies_name_trigram",
    func.atlas_fold(Company.name).label("folded_name"),
    postgresql_using="gin",
    postgresql_ops={"folded_name": "gin_trgm_ops"},
    postgresql_where=text("status = 'published'"),
)
# The list by name (migration 0012): published employers in German order (ICU), walked with a
# LIMIT instead of sorting every match.
Index(
    "ix_companies_published_name",
    text('(name COLLATE "de-x-icu")'),
    Company.id,
    postgresql_where=text("status = 'published'"),
)


class FamilyCertificate(db.Model):
    """A family-friendliness certificate a company holds (e.g. audit berufundfamilie)."""

    __tablename__ = "family_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    valid_until: Mapped[date | None] = mapped_column(Date)
    company: Mapped[Company] = relationship(back_populates="certificates")


class CompanyApprenticeship(db.Model):
    """An apprenticeship occupation a company trains in, with this year's places if given.

    ``code`` is an occupation of the shipped list (:mod:`app.services.apprenticeships`),
    checked by the write model.
    """

    __tablename__ = "company_apprenticeships"
    __table_args__ = (CheckConstraint("places IS NULL OR places >= 0", name="places_not_negative"),)

    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(80), primary_key=True, index=True)
    places: Mapped[int | None] = mapped_column(Integer)
    company: Mapped[Company] = relationship(back_populates="apprenticeships")
