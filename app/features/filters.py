"""The filter contract, declared once per feature source and parsed from the query string.

A source declares its :class:`Parameter` list. :func:`parse` reads exactly those parameters
(plus the shared place, radius, proximity and map-view parameters), checks every value and
raises :class:`FilterError` naming the parameter, with a plain-text message in the interface
language. The same declarations reach the browser (:meth:`Parameter.declaration`), so defaults,
options and dependent parameters are not copied into templates and scripts.

Several values of one parameter (comma-separated or repeated) mean any-of unless the source
says otherwise; parameters combine with AND.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 100.0
RADIUS_OPTIONS = ("2", "5", "10", "25", "50")
PROXIMITY_OPTIONS = ("300", "500", "1000", "2000")
MAX_TEXT = 200
MAX_ZOOM = 22
MAX_PAGE = 100_000
SORTS = ("name", "distance")
#: The map view: not part of a permalink's filter, but checked like any parameter.
VIEW_PARAMS = ("bbox", "zoom")
#: The values of the map data's ``properties`` parameter: every public property of a feature,
#: or only what a marker needs (``pipeline.MARKER_PROPERTIES``).
PROPERTY_SETS = ("all", "marker")
_DIGITS = re.compile(r"[0-9]{1,6}")
_LAT_LON = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$", re.ASCII)
#: Control characters (NUL included) have no place in a filter value; PostgreSQL refuses NUL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
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
class Parameter:
    """One filter parameter a source declares.

    ``type`` is ``text``, ``choice``, ``place``, ``number`` or ``proximity``. A ``choice`` takes
    values from ``allowed(context)`` (``normalize`` first) and says ``message(value, context)``
    for any other. ``requires`` names a parameter without which this one is ignored (the radius
    needs a place). ``counts_as_filter`` is False for parameters that only refine another.
    A ``proximity`` parameter filters by the distance in metres to a feature of ``source``.
    """

    name: str
    type: str
    multiple: bool = False
    requires: str | None = None
    default: str | None = None
    options: tuple[str, ...] = ()
    counts_as_filter: bool = True
    source: str | None = None
    allowed: Callable[[Any], Iterable[str]] | None = None
    normalize: Callable[[str], str] = str
    message: Callable[[str, Any], str] | None = None

    def declaration(self) -> dict:
        """What the browser needs to know of this parameter (JSON-ready)."""
        declaration = {
            "name": self.name,
            "type": self.type,
            "multiple": self.multiple,
            "requires": self.requires,
            "default": self.default,
            "options": list(self.options),
            "countsAsFilter": self.counts_as_filter,
            "source": self.source,
        }
        if self.type == "within":  # the kinds it accepts, with their labels
            declaration["kinds"] = [
                {"key": key, "label": label} for key, label in self.allowed(None).items()
            ]
        return declaration


def text_parameter(name: str = "q") -> Parameter:
    """A free-text search of at most :data:`MAX_TEXT` characters."""
    return Parameter(name, "text")


def place_parameters() -> tuple[Parameter, Parameter]:
    """``near`` (a postal code, town or lat,lon) and its ``radius_km``, shared by all sources."""
    return (
        Parameter("near", "place"),
        Parameter(
            "radius_km",
            "number",
            requires="near",
            default=str(int(DEFAULT_RADIUS_KM)),
            options=RADIUS_OPTIONS,
            counts_as_filter=False,
        ),
    )


def proximity_parameter(name: str, source: str) -> Parameter:
    """``name``: within this many metres of a feature of ``source`` (one of the options)."""
    return Parameter(name, "proximity", source=source, options=PROXIMITY_OPTIONS)


def within_parameter(name: str, kinds: Callable[[], Mapping[str, str]]) -> Parameter:
    """``name=<kind>:<metres>[,<kind>:<metres>…]``: within that many metres (one of
    :data:`PROXIMITY_OPTIONS`) of a feature of each kind; all must hold. ``kinds()`` gives the
    kinds it accepts (source keys) with their labels, read when parsing (per app)."""
    return Parameter(
        name,
        "within",
        multiple=True,
        options=PROXIMITY_OPTIONS,
        allowed=lambda vocabulary: kinds(),
    )


@dataclass(frozen=True)
class FeatureFilter:
    """What was asked of a source: checked values by parameter name, the place and radius,
    proximity conditions and the map view. Empty values do not narrow the set."""

    values: Mapping[str, Any] = field(default_factory=dict)
    near: Place | None = None
    radius_km: float | None = None
    #: (source key, metres): within that distance of a feature of that source.
    proximity: tuple[tuple[str, int], ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    zoom: int | None = None
    raw: dict[str, str] = field(default_factory=dict, compare=False)
    order: tuple[str, ...] = field(default=(), compare=False)

    @property
    def radius_m(self) -> float | None:
        """The radius in metres, when a place is given."""
        return self.radius_km * 1000 if self.near and self.radius_km else None

    def without_view(self):
        """The same filter without the map view (bbox and zoom)."""
        return replace(self, bbox=None, zoom=None)

    def query_args(self) -> dict[str, str]:
        """The filter as canonical query parameters (for permalinks and links back)."""
        return {key: self.raw[key] for key in self.order if self.raw.get(key)}

    @property
    def active_count(self) -> int:
        """How many filter parameters narrow the set (the radius belongs to the place)."""
        args = self.query_args()
        return len(args) - (1 if "radius_km" in args else 0)


@dataclass(frozen=True)
class ParseContext:
    """What checking needs besides the request: the codes choices accept (``vocabulary``,
    handed to each parameter's ``allowed``; loaded by ``load_vocabulary`` when a choice is
    first given, so that an unfiltered map request reads no taxonomy) and a way to resolve a
    place name."""

    load_vocabulary: Callable[[], Any]
    resolve_place: Callable[[str], Place | None]
    _loaded: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def vocabulary(self) -> Any:
        """The source's vocabulary, loaded once. (Not ``functools.cached_property``: before
        Python 3.12 it holds one lock for every instance while loading, so threads waiting
        for a database connection inside it would wait for each other.)"""
        if "vocabulary" not in self._loaded:
            self._loaded["vocabulary"] = self.load_vocabulary()
        return self._loaded["vocabulary"]


def shown(value: str) -> str:
    """A user's value as quoted in a message: cut when long (it is escaped when rendered)."""
    return value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…"


def split_values(args: MultiDict, name: str) -> list[str]:
    """The values of a parameter, comma-separated or repeated, stripped, empty ones dropped."""
    values = []
    for value in args.getlist(name):
        values.extend(part.strip() for part in value.split(","))
    return [v for v in values if v]


def parse(
    args: MultiDict,
    parameters: Iterable[Parameter],
    context: ParseContext,
    make: Callable[..., FeatureFilter] = FeatureFilter,
) -> FeatureFilter:
    """Parse and check the declared ``parameters`` and the map view; raise FilterError on a
    bad value. ``make`` builds the filter from the keyword arguments of :class:`FeatureFilter`
    (a source with its own filter class passes its constructor)."""
    parameters = tuple(parameters)
    names = [p.name for p in parameters]
    for name in (*names, *VIEW_PARAMS):
        if any(CONTROL_CHARACTERS.search(value) for value in args.getlist(name)):
            raise FilterError(name, _("Die Angabe enthält unzulässige Steuerzeichen."))
    values: dict[str, Any] = {}
    raw: dict[str, str] = {}
    proximity = []
    near, radius_km = None, None
    for parameter in parameters:
        if parameter.type == "text":
            values[parameter.name] = raw[parameter.name] = _parse_text(args, parameter.name)
        elif parameter.type == "choice":
            chosen = _parse_choice(args, parameter, context)
            values[parameter.name] = chosen
            raw[parameter.name] = ",".join(chosen)
        elif parameter.type == "place":
            near, radius_km = _parse_near(args, context.resolve_place)
            raw["near"] = near.query if near else ""
            raw["radius_km"] = args.get("radius_km", "").strip() if near else ""
        elif parameter.type == "proximity":
            metres = _parse_proximity(args, parameter)
            if metres is not None:
                proximity.append((parameter.source, metres))
                raw[parameter.name] = str(metres)
        elif parameter.type == "within":
            conditions = _parse_within(args, parameter)
            proximity.extend(conditions)
            raw[parameter.name] = ",".join(f"{key}:{metres}" for key, metres in conditions)
    return make(
        values=values,
        near=near,
        radius_km=radius_km,
        proximity=tuple(proximity),
        bbox=_parse_bbox(args),
        zoom=_parse_zoom(args),
        raw=raw,
        order=tuple(names),
    )


def _parse_text(args: MultiDict, name: str) -> str:
    text = " ".join(args.get(name, "").split())
    if len(text) > MAX_TEXT:
        raise FilterError(
            name, _("Der Suchbegriff ist zu lang (höchstens %(max)d Zeichen).", max=MAX_TEXT)
        )
    return text


def _parse_choice(args: MultiDict, parameter: Parameter, context: ParseContext) -> tuple[str, ...]:
    given = split_values(args, parameter.name)
    if not given:
        return ()
    allowed = set(parameter.allowed(context.vocabulary))
    chosen = []
    for value in given:
        value = parameter.normalize(value)
        if value not in allowed:
            raise FilterError(parameter.name, parameter.message(value, context.vocabulary))
        if value not in chosen:
            chosen.append(value)
    return tuple(chosen)


def _parse_proximity(args: MultiDict, parameter: Parameter) -> int | None:
    value = args.get(parameter.name, "").strip()
    if not value:
        return None
    if value not in parameter.options:
        raise FilterError(
            parameter.name,
            _(
                "„%(value)s“ ist keine erlaubte Entfernung: erlaubt sind %(allowed)s Meter.",
                value=shown(value),
                allowed=", ".join(parameter.options),
            ),
        )
    return int(value)


def _parse_within(args: MultiDict, parameter: Parameter) -> list[tuple[str, int]]:
    kinds = parameter.allowed(None)
    example = "{}:{}".format(next(iter(kinds), "transit"), parameter.options[1])
    conditions: list[tuple[str, int]] = []
    for value in split_values(args, parameter.name):
        kind, _colon, metres = value.partition(":")
        kind, metres = kind.strip(), metres.strip()
        if kind not in kinds:
            raise FilterError(
                parameter.name,
                _(
                    "„%(value)s“: erwartet wird Art:Meter, z. B. %(example)s; "
                    "mögliche Arten sind %(kinds)s.",
                    value=shown(value),
                    example=example,
                    kinds=", ".join(kinds) or "–",
                ),
            )
        if metres not in parameter.options:
            raise FilterError(
                parameter.name,
                _(
                    "„%(value)s“ ist keine erlaubte Entfernung: erlaubt sind %(allowed)s Meter.",
                    value=shown(value),
                    allowed=", ".join(parameter.options),
                ),
            )
        if any(key == kind for key, _metres in conditions):
            raise FilterError(
                parameter.name,
                _("Die Art „%(kind)s“ ist mehrfach angegeben.", kind=shown(kind)),
            )
        conditions.append((kind, int(metres)))
    return conditions


def _number(args: MultiDict, name: str) -> float | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise FilterError(name, _("„%(value)s“ ist keine Zahl.", value=shown(value)))
    return number


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
                "near", _("Die Koordinaten „%(value)s“ gibt es nicht.", value=shown(query))
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
                    value=shown(query),
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
        value=shown(value),
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


def whole_number(value: str) -> int | None:
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
    zoom = whole_number(value)
    if zoom is None or zoom > MAX_ZOOM:
        raise FilterError(
            "zoom", _("Die Zoomstufe muss eine ganze Zahl von 0 bis %(max)d sein.", max=MAX_ZOOM)
        )
    return zoom


def parse_page(args: MultiDict) -> int:
    """The list page number (1 if absent)."""
    value = args.get("page", "1").strip() or "1"
    page = whole_number(value)
    if page is None or not 1 <= page <= MAX_PAGE:
        raise FilterError("page", _("Die Seitenzahl muss eine ganze Zahl ab 1 sein."))
    return page


def parse_sort(args: MultiDict, feature_filter: FeatureFilter) -> str:
    """The list order: by name, or by distance when a place is given (the default then)."""
    value = args.get("sort", "").strip()
    if not value:
        return "distance" if feature_filter.near else "name"
    if value not in SORTS:
        raise FilterError("sort", _("Sortieren geht nach name oder distance."))
    if value == "distance" and not feature_filter.near:
        raise FilterError("sort", _("Nach Entfernung sortieren geht nur mit einem Ort (near)."))
    return value


def parse_properties(args: MultiDict) -> str:
    """Which properties the map data carry per feature (``properties``, one of
    :data:`PROPERTY_SETS`; default "all")."""
    value = args.get("properties", "").strip()
    if not value:
        return PROPERTY_SETS[0]
    if value not in PROPERTY_SETS:
        raise FilterError(
            "properties",
            _(
                "properties ist „all“ (alle öffentlichen Angaben) oder „marker“ (nur, was "
                "eine Markierung braucht)."
            ),
        )
    return value
