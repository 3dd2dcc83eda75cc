"""The one filter contract: parsed from the query string, used by the map data, the list, the
detail page's way back and every permalink, so that a URL shows the same set everywhere.

Several values of one parameter (comma-separated or repeated) mean any-of, except ``family``,
where an employer must meet all. Parameters combine with AND. A bad value raises
:class:`FilterError` naming the parameter, with a message in the interface language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

SIZES = ("micro", "small", "medium", "large")
OFFERS = ("apprenticeship", "internship", "jobs")
SORTS = ("name", "distance")
DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 100.0
MAX_TEXT = 200
MAX_ZOOM = 22
#: The parameters of the filter itself, in the order permalinks list them.
FILTER_PARAMS = (
    "q",
    "sector",
    "occupation",
    "municipality",
    "near",
    "radius_km",
    "size",
    "family",
    "offers",
    "language",
)
MAX_PAGE = 100_000
_DIGITS = re.compile(r"[0-9]{1,6}")
_LAT_LON = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$", re.ASCII)
#: Control characters (NUL included) have no place in a filter value; PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: A quoted value in a message is cut to this many characters.
_SHOWN = 60


class FilterError(ValueError):
    """A query parameter has a value the filter cannot use.

    ``message`` is always plain text (``str``), never markup: it may quote the user's value, so
    templates must escape it. (A flask_babel lazy string would not do: its ``__html__`` makes
    Jinja insert it unescaped.)
    """

    def __init__(self, parameter: str, message: str):
        message = str(message)
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class Place:
    """A resolved ``near`` value: a point and how to call it."""

    lon: float
    lat: float
    label: str
    query: str


@dataclass(frozen=True)
class Vocabulary:
    """The codes the filters accept (from the taxonomies and the region)."""

    sections: frozenset[str]
    divisions: frozenset[str]
    areas: frozenset[str]
    groups: frozenset[str]
    family: tuple[str, ...]
    municipalities: frozenset[str]
    languages: frozenset[str]


@dataclass(frozen=True)
class EmployerFilter:
    """What a jobseeker asked for. Empty fields do not narrow the set."""

    sections: frozenset[str] = frozenset()
    divisions: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    municipalities: frozenset[str] = frozenset()
    near: Place | None = None
    radius_km: float | None = None
    sizes: frozenset[str] = frozenset()
    family: frozenset[str] = frozenset()
    offers: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    text: str = ""
    bbox: tuple[float, float, float, float] | None = None
    zoom: int | None = None
    raw: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def radius_m(self) -> float | None:
        """The radius in metres, when a place is given."""
        return self.radius_km * 1000 if self.near and self.radius_km else None

    def without_view(self) -> EmployerFilter:
        """The same filter without the map view (bbox and zoom)."""
        return EmployerFilter(**{**self.__dict__, "bbox": None, "zoom": None})

    def query_args(self) -> dict[str, str]:
        """The filter as canonical query parameters (for permalinks and links back)."""
        return {key: self.raw[key] for key in FILTER_PARAMS if self.raw.get(key)}

    @property
    def active_count(self) -> int:
        """How many filter parameters narrow the set."""
        args = self.query_args()
        return len(args) - (1 if "radius_km" in args else 0)  # the radius belongs to near


def _shown(value: str) -> str:
    """A user's value as quoted in a message: cut when long (it is escaped when rendered)."""
    return value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…"


def _refuse_control_characters(args: MultiDict) -> None:
    for name in (*FILTER_PARAMS, "bbox", "zoom"):
        if any(_CONTROL.search(value) for value in args.getlist(name)):
            raise FilterError(name, _("Die Angabe enthält unzulässige Steuerzeichen."))


def _values(args: MultiDict, name: str) -> list[str]:
    values = []
    for value in args.getlist(name):
        values.extend(part.strip() for part in value.split(","))
    return [v for v in values if v]


def _choose(
    args: MultiDict, name: str, allowed: Iterable[str], message: Callable[[str], str]
) -> frozenset[str]:
    allowed = set(allowed)
    values = _values(args, name)
    for value in values:
        if value not in allowed:
            raise FilterError(name, message(value))
    return frozenset(values)


def _number(args: MultiDict, name: str) -> float | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise FilterError(name, _("„%(value)s“ ist keine Zahl.", value=_shown(value)))
    return number


def parse_filter(
    args: MultiDict, vocabulary: Vocabulary, resolve_place: Callable[[str], Place | None]
) -> EmployerFilter:
    """Parse and check the filter parameters of a request; raise FilterError on a bad value."""
    _refuse_control_characters(args)
    sectors = _values(args, "sector")
    sections = frozenset(s.upper() for s in sectors if len(s) == 1)
    divisions = frozenset(s for s in sectors if len(s) != 1)
    for value in [*sections, *divisions]:
        if value not in vocabulary.sections | vocabulary.divisions:
            raise FilterError(
                "sector",
                _(
                    "Unbekannter Wirtschaftszweig „%(value)s“: erwartet wird ein WZ-2008-Abschnitt "
                    "(A bis U) oder eine zweistellige WZ-Abteilung.",
                    value=_shown(value),
                ),
            )
    occupations = _values(args, "occupation")
    for value in occupations:
        if value not in vocabulary.areas | vocabulary.groups:
            raise FilterError(
                "occupation",
                _(
                    "Unbekannter Beruf „%(value)s“: erwartet wird ein KldB-2010-Berufsbereich "
                    "(eine Ziffer) oder eine Berufshauptgruppe (zwei Ziffern).",
                    value=_shown(value),
                ),
            )
    municipalities = _choose(
        args,
        "municipality",
        vocabulary.municipalities,
        lambda v: _(
            "Unbekannte Gemeinde „%(value)s“: erwartet wird der achtstellige "
            "Gemeindeschlüssel (AGS) einer Gemeinde der Region.",
            value=_shown(v),
        ),
    )
    near, radius_km = _parse_near(args, resolve_place)
    sizes = _choose(
        args,
        "size",
        SIZES,
        lambda v: _(
            "Unbekannte Größenklasse „%(value)s“: erlaubt sind %(allowed)s.",
            value=_shown(v),
            allowed=", ".join(SIZES),
        ),
    )
    family = _choose(
        args,
        "family",
        vocabulary.family,
        lambda v: _(
            "Unbekanntes Merkmal „%(value)s“: erlaubt sind %(allowed)s.",
            value=_shown(v),
            allowed=", ".join(vocabulary.family),
        ),
    )
    offers = _choose(
        args,
        "offers",
        OFFERS,
        lambda v: _(
            "Unbekanntes Angebot „%(value)s“: erlaubt sind %(allowed)s.",
            value=_shown(v),
            allowed=", ".join(OFFERS),
        ),
    )
    languages = _choose(
        args,
        "language",
        vocabulary.languages,
        lambda v: _(
            "Unbekannte Sprache „%(value)s“: erwartet wird ein zweibuchstabiger ISO-639-1-Code "
            "wie de, en oder tr.",
            value=_shown(v),
        ),
    )
    text = " ".join(args.get("q", "").split())
    if len(text) > MAX_TEXT:
        raise FilterError(
            "q", _("Der Suchbegriff ist zu lang (höchstens %(max)d Zeichen).", max=MAX_TEXT)
        )
    raw = {key: ",".join(_values(args, key)) for key in FILTER_PARAMS}
    # Single-valued parameters: the value that was used (the first), not all of them.
    raw["q"] = text
    raw["near"] = near.query if near else ""
    raw["radius_km"] = args.get("radius_km", "").strip() if near else ""
    return EmployerFilter(
        sections=sections,
        divisions=divisions,
        areas=frozenset(o for o in occupations if len(o) == 1),
        groups=frozenset(o for o in occupations if len(o) != 1),
        municipalities=municipalities,
        near=near,
        radius_km=radius_km,
        sizes=sizes,
        family=family,
        offers=offers,
        languages=languages,
        text=text,
        bbox=_parse_bbox(args),
        zoom=_parse_zoom(args),
        raw=raw,
    )


def _parse_near(args: MultiDict, resolve_place) -> tuple[Place | None, float | None]:
    query = " ".join(args.get("near", "").split())
    radius = _number(args, "radius_km")
    if radius is not None and not 0 < radius <= MAX_RADIUS_KM:
        raise FilterError(
            "radius_km",
            _(
                "Der Umkreis muss größer als 0 und höchstens %(max)d km sein.",
                max=int(MAX_RADIUS_KM),
            ),
        )
    if not query:
        return None, None
    match = _LAT_LON.match(query)
    if match:
        lat, lon = float(match.group(1)), float(match.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise FilterError(
                "near", _("Die Koordinaten „%(value)s“ gibt es nicht.", value=_shown(query))
            )
        place = Place(lon, lat, f"{lat:.5f}, {lon:.5f}", query)
    else:
        place = resolve_place(query)
        if place is None:
            raise FilterError(
                "near",
                _(
                    "Den Ort „%(value)s“ kennen wir nicht: geben Sie eine Postleitzahl oder "
                    "einen Ort der Region ein.",
                    value=_shown(query),
                ),
            )
    return place, radius or DEFAULT_RADIUS_KM


def _parse_bbox(args: MultiDict) -> tuple[float, float, float, float] | None:
    value = args.get("bbox", "").strip()
    if not value:
        return None
    message = _(
        "„%(value)s“ ist kein gültiger Kartenausschnitt: erwartet werden vier Zahlen "
        "minlon,minlat,maxlon,maxlat.",
        value=_shown(value),
    )
    try:
        west, south, east, north = (float(part) for part in value.split(","))
    except ValueError:
        raise FilterError("bbox", message) from None
    if not (
        all(math.isfinite(v) for v in (west, south, east, north))
        and -180 <= west < east <= 180
        and -90 <= south < north <= 90
    ):
        raise FilterError("bbox", message)
    return west, south, east, north


def _whole_number(value: str) -> int | None:
    """``value`` as a non-negative whole number written in ASCII digits, else None.

    (``str.isdigit`` also accepts "²" or "①", which ``int`` then refuses.)
    """
    if not _DIGITS.fullmatch(value):
        return None
    return int(value)


def _parse_zoom(args: MultiDict) -> int | None:
    value = args.get("zoom", "").strip()
    if not value:
        return None
    zoom = _whole_number(value)
    if zoom is None or zoom > MAX_ZOOM:
        raise FilterError(
            "zoom", _("Die Zoomstufe muss eine ganze Zahl von 0 bis %(max)d sein.", max=MAX_ZOOM)
        )
    return zoom


def parse_page(args: MultiDict) -> int:
    """The list page number (1 if absent)."""
    value = args.get("page", "1").strip() or "1"
    page = _whole_number(value)
    if page is None or not 1 <= page <= MAX_PAGE:
        raise FilterError("page", _("Die Seitenzahl muss eine ganze Zahl ab 1 sein."))
    return page


def parse_sort(args: MultiDict, employer_filter: EmployerFilter) -> str:
    """The list order: by name, or by distance when a place is given (the default then)."""
    value = args.get("sort", "").strip()
    if not value:
        return "distance" if employer_filter.near else "name"
    if value not in SORTS:
        raise FilterError("sort", _("Sortieren geht nach name oder distance."))
    if value == "distance" and not employer_filter.near:
        raise FilterError("sort", _("Nach Entfernung sortieren geht nur mit einem Ort (near)."))
    return value
