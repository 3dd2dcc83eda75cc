"""Layer kinds are configuration, not code.

A layer kind (childcare, housing, transit, training, or one configured later such as
"arztpraxen") has a key, a name in German and English (and optionally in the other interface
languages, :data:`OTHER_LANGUAGES`: ``name_tr``, ``label_ar``, …; English stands in for a
missing one), a colour and a short symbol for its
markers, the attributes to show in order with their labels, and whether employers can be
filtered by their distance to it (``proximity``). The kinds are read from
``app/data/layer_kinds.json``, or from the file named by the setting ``LAYER_KINDS``, once at
start-up (:func:`load_layer_kinds`; a malformed file is a ConfigError). Each kind becomes a
feature source of the app (:mod:`app.features.layers`); its rows are
:class:`app.models.layers.LayerFeature` with ``kind`` = the kind's key.

File format::

    {"kinds": [{"key": "transit", "name_de": "Haltestellen", "name_en": "Transit stops",
                "colour": "#0b5fa5", "symbol": "H", "proximity": true,
                "proximity_label_de": "Haltestelle im Umkreis",      (optional)
                "proximity_label_en": "Transit stop nearby",         (optional)
                "fields": [{"key": "lines", "label_de": "Linien", "label_en": "Lines"}],
                "attribution": "Haltestellen: Deutsche Bahn AG, CC BY 4.0"}],  (optional)
     "translations": "Where the names in tr, ar, uk come from"}             (optional)

Every text ending in ``_de`` or ``_en`` may also be given as ``_tr``, ``_ar`` and ``_uk``
(``name_tr``, ``proximity_label_ar``, a field's ``label_uk``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from app.i18n import LANGUAGES

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "layer_kinds.json"
#: Keys of kinds: lower case, usable in URLs, CSS class names and the ``within`` parameter.
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_FIELD_KEY = re.compile(r"[a-z][a-z0-9_]{0,59}")
#: Colours are hex colours only: they go into a CSS custom property.
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
#: Keys that name other things on the map or in the API.
RESERVED_KEYS = frozenset({"employers", "features", "list"})
#: The interface languages besides German and English: their texts are optional.
OTHER_LANGUAGES = tuple(code for code in LANGUAGES if code not in ("de", "en"))

#: Texts in :data:`OTHER_LANGUAGES`, as (language, text) pairs (hashable, like the kinds).
Translations = tuple[tuple[str, str], ...]


def _translated(translations: Translations, language: str) -> str:
    """The text in ``language`` from ``translations`` ("" when it is not given)."""
    return dict(translations).get(language, "")


class LayerKindsError(ValueError):
    """The layer kinds file is malformed (the message is one sentence)."""


@dataclass(frozen=True)
class LayerField:
    """One attribute of a kind, shown in popups in the kind's order."""

    key: str
    label_de: str
    label_en: str
    labels: Translations = ()

    def label(self, language: str = "de") -> str:
        """The label in ``language`` (English for a language it is not given in)."""
        if language == "de":
            return self.label_de
        return _translated(self.labels, language) or self.label_en


@dataclass(frozen=True)
class LayerKind:
    """A configured layer kind."""

    key: str
    name_de: str
    name_en: str
    colour: str
    symbol: str
    fields: tuple[LayerField, ...]
    proximity: bool = False
    proximity_label_de: str = ""
    proximity_label_en: str = ""
    names: Translations = ()
    proximity_labels: Translations = ()
    #: Plain text naming where the shown data come from (licence), added to the map's
    #: attribution while the layer is shown.
    attribution: str = ""

    def name(self, language: str = "de") -> str:
        """The kind's name in ``language`` (English for a language it is not given in)."""
        if language == "de":
            return self.name_de
        return _translated(self.names, language) or self.name_en

    def proximity_label(self, language: str = "de") -> str:
        """The label of the employer filter "<kind> within N m"."""
        if language == "de":
            return self.proximity_label_de or f"{self.name_de} im Umkreis"
        translated = _translated(self.proximity_labels, language)
        if translated:
            return translated
        if language in OTHER_LANGUAGES and _translated(self.names, language):
            return self.name(language)
        return self.proximity_label_en or f"{self.name_en} nearby"

    @property
    def marker(self) -> dict[str, str]:
        """CSS classes of the kind's markers and clusters (one rule for every layer kind)."""
        return {
            "className": f"layer-marker layer-marker-{self.key}",
            "clusterClassName": f"layer-cluster layer-cluster-{self.key}",
        }

    def declaration(self, language: str = "de") -> dict:
        """The kind as the API and the browser see it (JSON-ready)."""
        return {
            "key": self.key,
            "name": self.name(language),
            "colour": self.colour,
            "symbol": self.symbol,
            "proximity": self.proximity,
            "fields": [{"key": f.key, "label": f.label(language)} for f in self.fields],
            "attribution": self.attribution,
        }


def _text(entry: dict, name: str, where: str, *, required: bool = True, limit: int = 80) -> str:
    value = entry.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise LayerKindsError(
            f"{where}: {name!r} must be a text of 1 to {limit} characters."
            if required
            else f"{where}: {name!r} must be a text of at most {limit} characters."
        )
    return value.strip()


def _translations(entry: dict, name: str, where: str) -> Translations:
    """The optional texts ``<name>_<language>`` of :data:`OTHER_LANGUAGES` that are given."""
    texts = (
        (code, _text(entry, f"{name}_{code}", where, required=False)) for code in OTHER_LANGUAGES
    )
    return tuple((code, text) for code, text in texts if text)


def _kind(entry, index: int) -> LayerKind:
    where = f"kind {index + 1}"
    if not isinstance(entry, dict):
        raise LayerKindsError(f"{where} must be an object with key, names, colour and fields.")
    key = entry.get("key")
    if not isinstance(key, str) or not _KEY.fullmatch(key) or key in RESERVED_KEYS:
        raise LayerKindsError(
            f"{where}: key {key!r} must be lower-case letters, digits or _ (at most 40, "
            f"starting with a letter, not {', '.join(sorted(RESERVED_KEYS))})."
        )
    where = f"kind {key!r}"
    colour = entry.get("colour")
    if not isinstance(colour, str) or not _COLOUR.fullmatch(colour):
        raise LayerKindsError(f"{where}: colour {colour!r} must be a hex colour such as #0b5fa5.")
    symbol = _text(entry, "symbol", where, limit=3)
    if not symbol.isprintable():
        raise LayerKindsError(f"{where}: symbol must be printable.")
    proximity = entry.get("proximity", False)
    if not isinstance(proximity, bool):
        raise LayerKindsError(f"{where}: proximity must be true or false.")
    fields_raw = entry.get("fields", [])
    if not isinstance(fields_raw, list):
        raise LayerKindsError(f"{where}: fields must be a list of {{key, label_de, label_en}}.")
    fields, seen = [], set()
    for number, item in enumerate(fields_raw, 1):
        if not isinstance(item, dict):
            raise LayerKindsError(f"{where}: field {number} must be an object.")
        field_key = item.get("key")
        if not isinstance(field_key, str) or not _FIELD_KEY.fullmatch(field_key):
            raise LayerKindsError(
                f"{where}: field key {field_key!r} must be lower-case letters, digits or _."
            )
        if field_key in seen or field_key in ("name", "fictional"):
            raise LayerKindsError(f"{where}: field {field_key!r} is given twice or reserved.")
        seen.add(field_key)
        fields.append(
            LayerField(
                field_key,
                _text(item, "label_de", f"{where} field {field_key!r}"),
                _text(item, "label_en", f"{where} field {field_key!r}"),
                _translations(item, "label", f"{where} field {field_key!r}"),
            )
        )
    return LayerKind(
        key=key,
        name_de=_text(entry, "name_de", where),
        name_en=_text(entry, "name_en", where),
        colour=colour,
        symbol=symbol,
        fields=tuple(fields),
        proximity=proximity,
        proximity_label_de=_text(entry, "proximity_label_de", where, required=False),
        proximity_label_en=_text(entry, "proximity_label_en", where, required=False),
        names=_translations(entry, "name", where),
        proximity_labels=_translations(entry, "proximity_label", where),
        attribution=_text(entry, "attribution", where, required=False, limit=300),
    )


def load_layer_kinds(path: str | Path | None = None) -> dict[str, LayerKind]:
    """The layer kinds of a file (default: the shipped ``app/data/layer_kinds.json``), by key
    in file order. Raises :class:`LayerKindsError` with one sentence when the file is
    missing or malformed."""
    path = Path(path) if path else DEFAULT_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LayerKindsError(f"{path} cannot be read ({exc.strerror or exc}).") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LayerKindsError(f"{path} is not valid UTF-8 JSON ({exc}).") from None
    entries = data.get("kinds") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise LayerKindsError(f'{path} must hold an object {{"kinds": [...]}}.')
    kinds: dict[str, LayerKind] = {}
    for index, entry in enumerate(entries):
        kind = _kind(entry, index)
        if kind.key in kinds:
            raise LayerKindsError(f"{path}: the kind {kind.key!r} is given twice.")
        kinds[kind.key] = kind
    return kinds


def layer_kinds() -> dict[str, LayerKind]:
    """The current app's layer kinds (its ``LAYER_KINDS`` setting), or the shipped kinds
    outside an app."""
    from flask import current_app, has_app_context

    if has_app_context() and "LAYER_KINDS" in current_app.config:
        return current_app.config["LAYER_KINDS"]
    return _shipped_kinds()


@cache
def _shipped_kinds() -> dict[str, LayerKind]:
    return load_layer_kinds()
