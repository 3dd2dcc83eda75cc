"""The write model of an entry: the one place that turns validated values into a Company.

Every writer uses it: the questionnaire (new entries and owners' change requests), staff edits,
approved change requests, imports, the demo generator and the test fixtures. Values are a plain
mapping of *entry fields* (:data:`FIELDS`) to JSON-like values, the vocabulary that a
questionnaire question's ``maps_to`` names and that change requests store:

- scalar columns (texts, counts, flags) as they are; ``None`` for a text means "";
- ``location`` as ``(lon, lat)``; ``None`` means the point of the postal code, if known;
- ``sectors``, ``occupations`` and ``family_criteria`` as lists of codes and keys;
- ``languages`` as a list of ISO 639-1 codes (none given means German);
- ``apprenticeships`` as a list of ``{"code", "places"}`` (or bare codes): the recognised
  apprenticeship occupations the business trains in and this year's places (None: not said);
  codes not in the shipped list are left out, and naming one means it offers apprenticeships;
- ``certificate_name`` and ``certificate_valid_until`` (ISO date or date) together: the
  family-friendliness certificate, kept only when ``certificate`` is among the family criteria.

A field that is not in the values is left as it is (a new entry keeps the column's default).
A name that is not a field raises :class:`UnknownEntryField`: nothing is set silently.
The municipality follows the postal code unless the values name it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Company,
    CompanyApprenticeship,
    FamilyCertificate,
    FamilyCriterion,
    KldbGroup,
    PostalCode,
    WzDivision,
)
from app.services import apprenticeships as apprenticeship_list
from app.services.slugs import unique_slug

#: Plain text columns (None is stored as "").
TEXT_FIELDS = (
    "name",
    "description",
    "street",
    "house_number",
    "postal_code",
    "town",
    "website",
    "phone",
    "email",
    "contact_name",
    "contact_email",
)
#: Other scalar columns, each with how a value is made ready for it.
SCALAR_FIELDS = {
    "municipality_ags": lambda value: value or None,
    "employees": lambda value: None if value is None else int(value),
    "open_positions": lambda value: int(value or 0),
    "offers_apprenticeships": bool,
    "offers_internships": bool,
    "languages": lambda value: list(value or ["de"]),
}
#: The linked classifications: field -> (model, code column, order column).
CLASSIFICATIONS = {
    "sectors": (WzDivision, "code", "code"),
    "occupations": (KldbGroup, "code", "code"),
    "family_criteria": (FamilyCriterion, "key", "position"),
}
LOCATION = "location"
APPRENTICESHIPS = "apprenticeships"
CERTIFICATE_FIELDS = ("certificate_name", "certificate_valid_until")

#: Every field of an entry that values may set (what ``maps_to`` may name).
FIELDS: tuple[str, ...] = (
    *TEXT_FIELDS,
    *SCALAR_FIELDS,
    LOCATION,
    *CLASSIFICATIONS,
    APPRENTICESHIPS,
    *CERTIFICATE_FIELDS,
)
FIELD_NAMES = frozenset(FIELDS)

#: Bookkeeping columns a new entry may be given besides its values (not entry fields: a
#: questionnaire answer never sets them).
RECORD_FIELDS = frozenset(
    (
        "slug",
        "status",
        "source",
        "source_ref",
        "created_at",
        "updated_at",
        "published_at",
        "confirmed_at",
    )
)


class UnknownEntryField(ValueError):
    """Values named something that is not a writable field of an entry."""

    def __init__(self, names: Iterable[str], allowed: Iterable[str] = FIELDS):
        self.names = sorted(names)
        super().__init__(
            f"{', '.join(map(repr, self.names))} is not a writable field of an entry "
            f"(known fields: {', '.join(allowed)})"
        )


@dataclass(frozen=True)
class Classifications:
    """The classification records by code, looked up once (for many entries at a time)."""

    by_field: dict[str, dict[str, object]]

    @classmethod
    def load(cls) -> Classifications:
        """Every sector, occupation and family criterion by its code or key."""
        return cls(
            {
                name: {getattr(row, code): row for row in db.session.scalars(select(model))}
                for name, (model, code, _order) in CLASSIFICATIONS.items()
            }
        )

    def empty(self) -> bool:
        """Whether some classification has no record at all (taxonomies not loaded)."""
        return not all(self.by_field.values())


def check_fields(values: Mapping) -> None:
    """:class:`UnknownEntryField` if ``values`` names anything but entry fields."""
    unknown = set(values) - FIELD_NAMES
    if unknown:
        raise UnknownEntryField(unknown)


def build(values: Mapping, *, classifications: Classifications | None = None, **record) -> Company:
    """A new Company (not added to the session) with these entry values.

    ``record`` sets bookkeeping columns (:data:`RECORD_FIELDS`: status, source, source_ref,
    timestamps); the slug is made from the name and town unless given. Unknown names raise
    :class:`UnknownEntryField`.
    """
    check_fields(values)
    unknown = set(record) - RECORD_FIELDS
    if unknown:
        raise UnknownEntryField(unknown, sorted(RECORD_FIELDS))
    company = Company(certificates=[], **record)
    apply(company, values, classifications=classifications)
    if company.slug is None:
        company.slug = unique_slug(company.name, company.town or "")
    return company


def apply(
    company: Company, values: Mapping, *, classifications: Classifications | None = None
) -> None:
    """Set the entry fields named in ``values`` on ``company`` (others stay as they are).

    Unknown names raise :class:`UnknownEntryField` before anything is set.
    """
    check_fields(values)
    for name in TEXT_FIELDS:
        if name in values:
            setattr(company, name, values[name] or "")
    for name, ready in SCALAR_FIELDS.items():
        if name in values:
            setattr(company, name, ready(values[name]))
    if "postal_code" in values and "municipality_ags" not in values:
        company.municipality_ags = municipality_of(company.postal_code)
    if LOCATION in values:
        point = values[LOCATION] or postal_code_point(company.postal_code)
        company.location = from_shape(Point(*point), srid=4326) if point else None
    for name in CLASSIFICATIONS:
        if name in values:
            setattr(company, name, _records(name, values[name], classifications))
    if APPRENTICESHIPS in values:
        _set_apprenticeships(company, values[APPRENTICESHIPS])
    if any(name in values for name in CERTIFICATE_FIELDS):
        company.certificates = _certificates(company, values)


def _set_apprenticeships(company: Company, items) -> None:
    """Set the entry's apprenticeship occupations (rows kept by code, places updated); naming
    one means the business offers apprenticeships."""
    wanted = apprenticeship_list.cleaned(items)
    current = {row.code: row for row in company.apprenticeships}
    rows = []
    for item in wanted:
        row = current.get(item["code"]) or CompanyApprenticeship(code=item["code"])
        row.places = item["places"]
        rows.append(row)
    company.apprenticeships = rows
    if rows:
        company.offers_apprenticeships = True


def _records(name: str, codes: Iterable[str] | None, known: Classifications | None) -> list:
    """The classification records of ``codes``, in their list order; unknown codes are left out."""
    model, code_column, order_column = CLASSIFICATIONS[name]
    codes = list(dict.fromkeys(codes or []))
    if not codes:
        return []
    if known is not None:
        rows = [known.by_field[name][code] for code in codes if code in known.by_field[name]]
    else:
        column = getattr(model, code_column)
        rows = list(db.session.scalars(select(model).where(column.in_(codes))))
    return sorted(rows, key=lambda row: getattr(row, order_column))


def _certificates(company: Company, values: Mapping) -> list[FamilyCertificate]:
    """The certificate the values name, if the entry claims one among its family criteria."""
    name = values.get("certificate_name")
    until = values.get("certificate_valid_until")
    if not name or "certificate" not in {c.key for c in company.family_criteria}:
        return []
    if isinstance(until, str):
        until = date.fromisoformat(until) if until else None
    return [FamilyCertificate(name=name, valid_until=until)]


def current_values(company: Company) -> dict:
    """The entry's values as entry fields (JSON-like: what :func:`apply` takes back)."""
    values = {name: getattr(company, name) for name in (*TEXT_FIELDS, *SCALAR_FIELDS)}
    values["languages"] = list(company.languages or [])
    point = to_shape(company.location) if company.location is not None else None
    values[LOCATION] = [point.x, point.y] if point else None
    for name, (_model, code_column, _order) in CLASSIFICATIONS.items():
        values[name] = [getattr(row, code_column) for row in getattr(company, name)]
    values[APPRENTICESHIPS] = [
        {"code": row.code, "places": row.places}
        for row in sorted(company.apprenticeships, key=lambda row: row.code)
    ]
    certificate = company.certificates[0] if company.certificates else None
    values["certificate_name"] = certificate.name if certificate else None
    values["certificate_valid_until"] = (
        certificate.valid_until.isoformat() if certificate and certificate.valid_until else None
    )
    return values


def postal_code_point(postal_code: str | None) -> tuple[float, float] | None:
    """(lon, lat) of a postal code of the region (None if it is not one)."""
    if not postal_code:
        return None
    row = db.session.execute(
        select(func.ST_X(PostalCode.point), func.ST_Y(PostalCode.point)).where(
            PostalCode.code == postal_code
        )
    ).first()
    return (row[0], row[1]) if row else None


def municipality_of(postal_code: str | None) -> str | None:
    """The official key (AGS) of the municipality a postal code of the region lies in."""
    if not postal_code:
        return None
    return db.session.scalar(
        select(PostalCode.municipality_ags).where(PostalCode.code == postal_code)
    )
