"""Classifications the filters and the questionnaire use: WZ 2008, KldB 2010, family criteria."""

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import taxonomy_translations
from app.extensions import db


class _Titled:
    title_de: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    #: The prefix of the item's key in ``app/data/taxonomy_translations.json``.
    translation_prefix = ""

    @property
    def translation_key(self) -> str:
        """The item's key in the shipped translations ("wz:C", "kldb:26", "family:…")."""
        return f"{self.translation_prefix}:{getattr(self, 'code', None) or self.key}"

    def title(self, locale: str = "de") -> str:
        """The title in the given language: the stored German or English title, or the
        shipped translation (:mod:`app.taxonomy_translations`), English where it has none."""
        if locale == "de":
            return self.title_de
        if locale == "en":
            return self.title_en
        return taxonomy_translations.label(self.translation_key, locale) or self.title_en


class WzSection(_Titled, db.Model):
    """A WZ 2008 section (Abschnitt), A to U."""

    __tablename__ = "wz_sections"
    translation_prefix = "wz"

    code: Mapped[str] = mapped_column(String(1), primary_key=True)
    divisions: Mapped[list["WzDivision"]] = relationship(
        back_populates="section", order_by="WzDivision.code"
    )


class WzDivision(_Titled, db.Model):
    """A WZ 2008 division (Abteilung), two digits, within a section."""

    __tablename__ = "wz_divisions"
    translation_prefix = "wz"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    section_code: Mapped[str] = mapped_column(ForeignKey("wz_sections.code"), index=True)
    section: Mapped[WzSection] = relationship(back_populates="divisions")


class KldbArea(_Titled, db.Model):
    """A KldB 2010 occupational area (Berufsbereich), one digit."""

    __tablename__ = "kldb_areas"
    translation_prefix = "kldb"

    code: Mapped[str] = mapped_column(String(1), primary_key=True)
    groups: Mapped[list["KldbGroup"]] = relationship(
        back_populates="area", order_by="KldbGroup.code"
    )


class KldbGroup(_Titled, db.Model):
    """A KldB 2010 main occupational group (Berufshauptgruppe), two digits, within an area."""

    __tablename__ = "kldb_groups"
    translation_prefix = "kldb"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("kldb_areas.code"), index=True)
    area: Mapped[KldbArea] = relationship(back_populates="groups")


class FamilyCriterion(_Titled, db.Model):
    """A family-friendliness criterion from the defined list (e.g. flexible working hours)."""

    __tablename__ = "family_criteria"
    translation_prefix = "family"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
