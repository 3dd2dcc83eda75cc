"""Region definitions: which municipalities a deployment covers, where, and how it looks.

A region is a folder ``regions/<key>/`` with a ``region.json`` and the files it names (its logo),
or a single JSON file (the older layout, still read). Another region reuses the software by
writing its own folder (``flask region create`` makes the file from official boundaries) and
pointing the ``REGION`` setting at its key (a folder or file in ``regions/``) or at a path (a
JSON file or a folder holding ``region.json``). Coordinates are ``[longitude, latitude]`` in
WGS 84 (EPSG:4326), as in GeoJSON.

Everything that differs between regions is here, never in code: names and descriptions, the
initial map view, the outline, and the ``theme`` (colours, logo, the agency's and the
operator's contact details). A region file without a theme gets the defaults below.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from shapely import prepared
from shapely.geometry import Point, shape

REGIONS_DIR = Path(__file__).parent / "regions"
REGION_FILE = "region.json"
_AGS = re.compile(r"^\d{8}$")
_POSTAL_CODE = re.compile(r"^\d{5}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
#: A VAT identification number (USt-IdNr.): a country code and 2 to 12 characters (DE: 9 digits).
_VAT_ID = re.compile(r"^[A-Z]{2}[0-9A-Z+*]{2,12}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: How far the site conforms to BITV 2.0 / WCAG 2.1 AA (the statement's wording follows it).
CONFORMITY = ("full", "partial", "none")
#: What a logo may weigh at most (it is sent on every page's first view).
MAX_LOGO_BYTES = 100_000
#: Things a logo must not contain: it is served from the site's own origin.
_UNSAFE_SVG = re.compile(
    r"<\s*script|<\s*foreignObject|javascript:|\son[a-z]+\s*=|<!ENTITY|xlink:href\s*=\s*[\"']\s*(?!#)"
    r"|\shref\s*=\s*[\"']\s*(?!#)",
    re.IGNORECASE,
)
#: The header writes white text on the primary colour: WCAG AA asks for 4.5:1.
MIN_CONTRAST = 4.5
DEFAULT_PRIMARY = "#0b3d6b"
DEFAULT_ACCENT = "#f0a500"


class RegionError(ValueError):
    """A region definition is missing or malformed."""


@dataclass(frozen=True)
class PostalCode:
    """A postal code with an approximate point inside its municipality."""

    code: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Municipality:
    """A municipality of the region, keyed by its official AGS (Amtlicher Gemeindeschlüssel)."""

    ags: str
    name: str
    lon: float
    lat: float
    postal_codes: tuple[PostalCode, ...]


@dataclass(frozen=True)
class Contact:
    """Who someone is and how to reach them (the agency in the footer, the operator in the
    imprint); every field may be empty."""

    name: str = ""
    email: str = ""
    phone: str = ""
    #: The postal address, one line each.
    address: tuple[str, ...] = ()
    #: Who represents an organisation (for the imprint: "vertreten durch").
    representative: str = ""
    url: str = ""

    @property
    def empty(self) -> bool:
        """Whether nothing is known (the page then shows nothing)."""
        return not any((self.name, self.email, self.phone, self.address, self.url))


#: A legal detail that does not apply to this operator (written ``false`` in the region file):
#: the page leaves it out. ``None`` is a detail not given yet: the page shows a placeholder.
NOT_APPLICABLE = ""


@dataclass(frozen=True)
class Imprint:
    """What the imprint (``/impressum``, § 5 DDG, § 18 MStV) says beyond the operator's contact.

    Each value is the text to show, ``None`` when it is not given yet (the page shows a
    placeholder for the operator to complete) or :data:`NOT_APPLICABLE` (``false`` in the
    region file: the line is left out, e.g. no register entry for a public body).
    """

    #: The register entry, e.g. "Amtsgericht Gelsenkirchen, HRB 1234".
    register: str | None = None
    #: The VAT identification number (§ 27a UStG), e.g. "DE123456789".
    vat_id: str | None = None
    #: The supervisory authority (for a public body: the Aufsichtsbehörde).
    supervisory_authority: str | None = None
    #: Who is responsible for the content (§ 18 Abs. 2 MStV): name and address.
    content_responsible: Contact | None = None
    content_responsible_applies: bool = True


@dataclass(frozen=True)
class Accessibility:
    """What the accessibility statement (``/barrierefreiheit``, BITV 2.0 § 7) needs from the
    operator: how far the site conforms, when the statement was written and how, who takes
    feedback and the enforcement body. ``None`` is not given yet (a placeholder)."""

    #: One of :data:`CONFORMITY`: "full", "partial" or "none".
    conformity: str | None = None
    #: When the statement was written (or last reviewed).
    statement_date: date | None = None
    #: How the statement was made, e.g. "Selbstbewertung" or "BITV-Test durch …".
    method: str | None = None
    #: Who takes reports of barriers (the operator when not given).
    feedback: Contact | None = None
    #: The enforcement body (Durchsetzungs- or Schlichtungsstelle of the Land).
    enforcement: Contact | None = None
    #: Whether the operator has checked the enforcement body's address (shown as "to be
    #: checked" until then).
    enforcement_checked: bool = False


@dataclass(frozen=True)
class Theme:
    """How the region's pages look and whom they name: colours (``#rrggbb``), an SVG logo,
    the agency (footer, legal pages), the operator (imprint) and the legal pages' details."""

    primary: str = DEFAULT_PRIMARY
    accent: str = DEFAULT_ACCENT
    #: The logo's file (SVG), or None for the name alone.
    logo: Path | None = None
    #: The logo's alternative text, e.g. the agency's name.
    logo_alt: str = ""
    agency: Contact = Contact()
    operator: Contact = Contact()
    imprint: Imprint = Imprint()
    accessibility: Accessibility = Accessibility()

    def css(self) -> str:
        """The custom properties the stylesheet uses, from the checked colours only."""
        return f":root {{\n  --brand: {self.primary};\n  --accent: {self.accent};\n}}\n"

    @cached_property
    def version(self) -> str:
        """A short fingerprint of the colours and logo, to make the theme's URLs change
        with them (so they can be cached long)."""
        digest = hashlib.sha256(self.css().encode())
        if self.logo is not None:
            digest.update(self.logo.read_bytes())
        return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Region:
    """A region: its name, initial map view, municipalities, outline and theme."""

    key: str
    name: str
    name_en: str
    center: tuple[float, float]
    zoom: int
    bounds: tuple[tuple[float, float], tuple[float, float]]
    municipalities: tuple[Municipality, ...]
    description_de: str = ""
    description_en: str = ""
    #: The region's outline as a GeoJSON geometry (WGS 84), or None.
    outline: dict | None = field(default=None, compare=False, hash=False, repr=False)
    theme: Theme = Theme()
    #: Where the data come from (shown on the data and licences page).
    sources: str = ""

    def municipality(self, ags: str) -> Municipality | None:
        """Return the municipality with this AGS key, or None."""
        return next((m for m in self.municipalities if m.ags == ags), None)

    def postal_code(self, code: str) -> tuple[Municipality, PostalCode] | None:
        """Return the municipality and point of a postal code of this region, or None."""
        for municipality in self.municipalities:
            for postal_code in municipality.postal_codes:
                if postal_code.code == code:
                    return municipality, postal_code
        return None

    def display_name(self, language: str) -> str:
        """The region's name in a language (German unless English is asked for)."""
        return self.name_en if language == "en" else self.name

    def description(self, language: str) -> str:
        """The region's one-line description in a language."""
        return (self.description_en if language == "en" else "") or self.description_de

    @cached_property
    def _area(self):
        return prepared.prep(shape(self.outline)) if self.outline else None

    def contains(self, lon: float, lat: float) -> bool:
        """Whether a point (WGS 84) lies in the region as configured: in its outline when the
        file has one, else within its map bounds. (Imported boundaries, when stored, are
        tested by the app instead.)"""
        if self._area is not None:
            return self._area.intersects(Point(lon, lat))
        (west, south), (east, north) = self.bounds
        return west <= lon <= east and south <= lat <= north


def bundled_regions() -> list[str]:
    """The keys of the regions shipped in ``regions/`` (folders and single files)."""
    keys = {p.parent.name for p in REGIONS_DIR.glob(f"*/{REGION_FILE}")}
    keys |= {p.stem for p in REGIONS_DIR.glob("*.json")}
    return sorted(k.replace("_", "-") for k in keys)


def region_path(key_or_path: str) -> Path:
    """Resolve a region setting: a key of a bundled region (its folder, else its file), a path
    to a JSON file, or a path to a folder holding ``region.json``."""
    if key_or_path.endswith(".json") or "/" in key_or_path:
        path = Path(key_or_path)
        return path / REGION_FILE if path.is_dir() else path
    stem = key_or_path.replace("-", "_")
    folder = REGIONS_DIR / stem / REGION_FILE
    return folder if folder.is_file() else REGIONS_DIR / f"{stem}.json"


def load_region(key_or_path: str) -> Region:
    """Load and validate a region definition; raise RegionError with a clear message if bad."""
    path = region_path(key_or_path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        raise RegionError(
            f"Region {key_or_path!r} not found: give a bundled region "
            f"({', '.join(bundled_regions())}) or a path to a region JSON file or folder."
        ) from None
    except json.JSONDecodeError as exc:
        raise RegionError(f"Region file {path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise RegionError(f"Region file {path} must hold a JSON object.")
    return parse_region(raw, source=str(path), folder=path.parent)


def parse_region(raw: dict, source: str = "region", folder: Path | None = None) -> Region:
    """Build a Region from its JSON structure, checking keys, codes, coordinates and theme.

    ``folder`` is where files the region names (its logo) are looked for.
    """
    try:
        municipalities = tuple(_parse_municipality(m, source) for m in raw["municipalities"])
        view = raw["map"]
        (west, south), (east, north) = view["bounds"]
        region = Region(
            key=str(raw["key"]),
            name=str(raw["name"]),
            name_en=str(raw.get("name_en") or raw["name"]),
            center=_point(view["center"], source),
            zoom=int(view["zoom"]),
            bounds=((float(west), float(south)), (float(east), float(north))),
            municipalities=municipalities,
            description_de=str(raw.get("description_de") or ""),
            description_en=str(raw.get("description_en") or ""),
            outline=_parse_outline(raw.get("outline"), source),
            theme=parse_theme(raw.get("theme") or {}, source, folder),
            sources=str(raw.get("sources") or ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, RegionError):
            raise
        raise RegionError(f"{source}: missing or malformed field ({exc})") from None
    if not municipalities:
        raise RegionError(f"{source}: a region needs at least one municipality.")
    keys = [m.ags for m in municipalities]
    if len(set(keys)) != len(keys):
        raise RegionError(f"{source}: an AGS key appears twice.")
    codes = [p.code for m in municipalities for p in m.postal_codes]
    if len(set(codes)) != len(codes):
        raise RegionError(f"{source}: a postal code appears in two municipalities.")
    return region


def parse_theme(raw: dict, source: str = "region", folder: Path | None = None) -> Theme:
    """Check a region's ``theme``: colours ``#rrggbb`` (white text on the primary colour must be
    readable), a logo that is a small, script-free SVG file next to the region file, contact
    details (an e-mail address must look like one) and the legal pages' details (``imprint``,
    ``accessibility``)."""
    if not isinstance(raw, dict):
        raise RegionError(f"{source}: theme must be an object.")
    known = {"primary", "accent", "logo", "logo_alt", "agency", "operator"}
    unknown = set(raw) - known - {"imprint", "accessibility"}
    if unknown:
        raise RegionError(f"{source}: theme has unknown field(s): {', '.join(sorted(unknown))}.")
    primary = _colour(raw.get("primary", DEFAULT_PRIMARY), "primary", source)
    accent = _colour(raw.get("accent", DEFAULT_ACCENT), "accent", source)
    if contrast(primary, "#ffffff") < MIN_CONTRAST:
        raise RegionError(
            f"{source}: theme primary colour {primary} is too light for the white header text "
            f"(contrast {contrast(primary, '#ffffff'):.1f}:1, at least {MIN_CONTRAST}:1 needed)."
        )
    logo = _logo(raw.get("logo"), source, folder)
    return Theme(
        primary=primary.lower(),
        accent=accent.lower(),
        logo=logo,
        logo_alt=str(raw.get("logo_alt") or ""),
        agency=_contact(raw.get("agency"), "agency", source),
        operator=_contact(raw.get("operator"), "operator", source),
        imprint=_imprint(raw.get("imprint"), source),
        accessibility=_accessibility(raw.get("accessibility"), source),
    )


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _colour(value, name: str, source: str) -> str:
    if not isinstance(value, str) or not _COLOUR.match(value):
        raise RegionError(
            f"{source}: theme {name} colour {str(value)[:20]!r} must be written #rrggbb "
            "(e.g. #0b3d6b)."
        )
    return value


def _logo(value, source: str, folder: Path | None) -> Path | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.lower().endswith(".svg"):
        raise RegionError(f"{source}: theme logo {str(value)[:60]!r} must name an SVG file.")
    if folder is None:
        raise RegionError(f"{source}: theme logo {value!r} needs the region's folder.")
    path = (folder / value).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise RegionError(f"{source}: theme logo {value!r} must lie in the region's folder.")
    if not path.is_file():
        raise RegionError(f"{source}: theme logo file {value!r} not found next to the region file.")
    data = path.read_bytes()
    if len(data) > MAX_LOGO_BYTES:
        raise RegionError(
            f"{source}: theme logo {value!r} is larger than {MAX_LOGO_BYTES // 1000} kB."
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RegionError(f"{source}: theme logo {value!r} is not a UTF-8 SVG file.") from None
    if "<svg" not in text[:2000]:
        raise RegionError(f"{source}: theme logo {value!r} is not an SVG file.")
    if _UNSAFE_SVG.search(text):
        raise RegionError(
            f"{source}: theme logo {value!r} must not contain scripts, event handlers, "
            "entities or links to other files."
        )
    return path


def _contact(raw, name: str, source: str) -> Contact:
    """A contact (``theme.<name>``): texts only, the address a list of lines, the e-mail
    address and URL checked."""
    if raw is None:
        return Contact()
    if not isinstance(raw, dict):
        raise RegionError(f"{source}: theme.{name} must be an object.")
    known = {"name", "email", "phone", "address", "representative", "url"}
    unknown = set(raw) - known
    if unknown:
        raise RegionError(
            f"{source}: theme.{name} has unknown field(s): {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(known))})."
        )
    for key in sorted(known - {"address"}):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise RegionError(f"{source}: theme.{name}.{key} must be a text.")
    address = raw.get("address") or []
    if isinstance(address, str):
        address = [address]
    if not isinstance(address, list) or not all(isinstance(line, str) for line in address):
        raise RegionError(f"{source}: theme.{name} address must be a list of lines.")
    email = (raw.get("email") or "").strip()
    if email and not _EMAIL.match(email):
        raise RegionError(f"{source}: theme.{name} e-mail {email[:60]!r} is not an address.")
    url = (raw.get("url") or "").strip()
    if url and not url.startswith(("https://", "http://")):
        raise RegionError(f"{source}: theme.{name} url must start with https:// or http://.")
    return Contact(
        name=(raw.get("name") or "").strip(),
        email=email,
        phone=(raw.get("phone") or "").strip(),
        address=tuple(line.strip() for line in address if line.strip()),
        representative=(raw.get("representative") or "").strip(),
        url=url,
    )


def _section(raw, name: str, known: set[str], source: str) -> dict:
    """A theme section (an object with only ``known`` keys), or {} when it is not given."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise RegionError(f"{source}: theme.{name} must be an object.")
    unknown = set(raw) - known
    if unknown:
        raise RegionError(
            f"{source}: theme.{name} has unknown field(s): {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(known))})."
        )
    return raw


def _legal_text(raw: dict, key: str, where: str, source: str) -> str | None:
    """A legal detail: a text, ``false`` where it does not apply (:data:`NOT_APPLICABLE`), or
    None when it is missing or empty (the page shows a placeholder)."""
    value = raw.get(key)
    if value is False:
        return NOT_APPLICABLE
    if value is None:
        return None
    if not isinstance(value, str):
        raise RegionError(
            f"{source}: theme.{where}.{key} must be a text, or false where it does not apply."
        )
    return value.strip() or None


def _imprint(raw, source: str) -> Imprint:
    known = {"register", "vat_id", "supervisory_authority", "content_responsible"}
    raw = _section(raw, "imprint", known, source)
    vat_id = _legal_text(raw, "vat_id", "imprint", source)
    if vat_id:
        vat_id = re.sub(r"\s", "", vat_id).upper()
        if not _VAT_ID.match(vat_id):
            raise RegionError(
                f"{source}: theme.imprint.vat_id {vat_id[:30]!r} is not a VAT identification "
                "number (e.g. DE123456789)."
            )
    responsible = raw.get("content_responsible")
    return Imprint(
        register=_legal_text(raw, "register", "imprint", source),
        vat_id=vat_id,
        supervisory_authority=_legal_text(raw, "supervisory_authority", "imprint", source),
        content_responsible=None
        if responsible in (None, False)
        else _contact(responsible, "imprint.content_responsible", source),
        content_responsible_applies=responsible is not False,
    )


def _accessibility(raw, source: str) -> Accessibility:
    known = {
        "conformity",
        "statement_date",
        "method",
        "feedback",
        "enforcement",
        "enforcement_checked",
    }
    raw = _section(raw, "accessibility", known, source)
    conformity = raw.get("conformity")
    if conformity is not None and conformity not in CONFORMITY:
        raise RegionError(
            f"{source}: theme.accessibility.conformity {str(conformity)[:20]!r} must be one of "
            f"{', '.join(CONFORMITY)}."
        )
    statement_date = raw.get("statement_date")
    if statement_date is not None:
        try:
            if not isinstance(statement_date, str) or not _ISO_DATE.match(statement_date):
                raise ValueError
            statement_date = date.fromisoformat(statement_date)
        except ValueError:
            raise RegionError(
                f"{source}: theme.accessibility.statement_date {str(statement_date)[:20]!r} "
                "must be a date written YYYY-MM-DD."
            ) from None
    checked = raw.get("enforcement_checked", False)
    if not isinstance(checked, bool):
        raise RegionError(
            f"{source}: theme.accessibility.enforcement_checked must be true or false."
        )
    method = raw.get("method")
    if method is not None and not isinstance(method, str):
        raise RegionError(f"{source}: theme.accessibility.method must be a text.")
    feedback = raw.get("feedback")
    enforcement = raw.get("enforcement")
    return Accessibility(
        conformity=conformity,
        statement_date=statement_date,
        method=(method or "").strip() or None,
        feedback=None if feedback is None else _contact(feedback, "accessibility.feedback", source),
        enforcement=None
        if enforcement is None
        else _contact(enforcement, "accessibility.enforcement", source),
        enforcement_checked=checked,
    )


def _parse_outline(value, source: str) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise RegionError(f"{source}: outline must be a GeoJSON Polygon or MultiPolygon.")
    try:
        geometry = shape(value)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise RegionError(f"{source}: outline is not a readable GeoJSON geometry.") from None
    if geometry.is_empty:
        raise RegionError(f"{source}: outline is empty.")
    west, south, east, north = geometry.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise RegionError(f"{source}: outline coordinates must be longitude/latitude (WGS 84).")
    return value


def _parse_municipality(raw: dict, source: str) -> Municipality:
    ags = str(raw["ags"])
    if not _AGS.match(ags):
        raise RegionError(f"{source}: {ags!r} is not an eight-digit AGS key.")
    lon, lat = _point(raw["centroid"], source)
    postal_codes = []
    for item in raw.get("postal_codes", []):
        code = str(item["code"])
        if not _POSTAL_CODE.match(code):
            raise RegionError(f"{source}: {code!r} is not a five-digit postal code.")
        postal_codes.append(PostalCode(code, *_point(item["point"], source)))
    return Municipality(ags, str(raw["name"]), lon, lat, tuple(postal_codes))


def _point(value, source: str) -> tuple[float, float]:
    lon, lat = (float(v) for v in value)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise RegionError(f"{source}: {value!r} is not a [longitude, latitude] pair.")
    return lon, lat
