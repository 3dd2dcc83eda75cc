"""The recognised apprenticeship occupations (anerkannte Ausbildungsberufe) the project ships.

The list is data (``app/data/apprenticeships.json``: ``{"code", "kldb", "de", "en"}`` each),
read in Python rather than copied into a reference table: entries store the occupation's code
(``company_apprenticeships.code``), and the write model, the questionnaire and the filter check
codes against this list. Labels are looked up here, in the interface language. A code no longer
in the list stays on its entries and is shown as it is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

from flask_babel import ngettext

from app.i18n import current_language

#: The shipped list; tests point this at their own fixture file.
DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "apprenticeships.json"
#: The longest code (the column's length).
CODE_LENGTH = 80
#: At most this many places of one occupation in one year (a typing error guard).
MAX_PLACES = 999
#: Seconds between two looks at the file's modification time (the map's popups ask for
#: hundreds of labels per request).
RECHECK_SECONDS = 1.0
_last_check: tuple[float, Path, float | None] = (float("-inf"), DATA_FILE, None)


@dataclass(frozen=True)
class Occupation:
    """One recognised apprenticeship occupation: its slug, KldB 2010 code and names."""

    code: str
    kldb: str
    de: str
    en: str

    def name(self, language: str = "de") -> str:
        """The name in ``language``: English when asked for, else German (the occupations'
        official titles, also for Turkish, Arabic and Ukrainian)."""
        return self.en if self.name_language(language) == "en" else self.de

    def name_language(self, language: str = "de") -> str:
        """The language :meth:`name` gives for ``language`` ("de" or "en"), for ``lang``."""
        return "en" if language == "en" and self.en else "de"


@cache
def _read(path: str, modified: float) -> tuple[Occupation, ...]:
    """The occupations of the file at ``path`` (read again when it changes)."""
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(items, dict):  # tolerate {"occupations": [...]}
        items = items.get("occupations") or items.get("apprenticeships") or []
    return tuple(
        Occupation(
            code=item["code"], kldb=str(item.get("kldb", "")), de=item["de"], en=item.get("en", "")
        )
        for item in items
    )


@cache
def _index(path: str, modified: float) -> Mapping[str, Occupation]:
    """The occupations of the file at ``path`` by code."""
    return MappingProxyType({occupation.code: occupation for occupation in _read(path, modified)})


def _modified() -> float | None:
    """The data file's modification time (None while it is missing), looked up at most every
    :data:`RECHECK_SECONDS` for the same file."""
    global _last_check
    checked_at, path, modified = _last_check
    now = time.monotonic()
    if path != DATA_FILE or now - checked_at >= RECHECK_SECONDS:
        try:
            modified = DATA_FILE.stat().st_mtime
        except FileNotFoundError:
            modified = None
        _last_check = (now, DATA_FILE, modified)
    return modified


def occupations() -> tuple[Occupation, ...]:
    """Every shipped occupation, in the file's order (none while the file is missing)."""
    modified = _modified()
    return () if modified is None else _read(str(DATA_FILE), modified)


def by_code() -> Mapping[str, Occupation]:
    """The occupations by code (read-only)."""
    modified = _modified()
    return MappingProxyType({}) if modified is None else _index(str(DATA_FILE), modified)


def codes() -> frozenset[str]:
    """The codes the filter and the write model accept."""
    return frozenset(by_code())


def label(code: str, language: str = "de") -> str:
    """The occupation's name in ``language``; the code itself if it is not in the list."""
    occupation = by_code().get(code)
    return occupation.name(language) if occupation else code


def label_language(code: str, language: str = "de") -> str:
    """The language of :func:`label` for ``language`` (German for an unknown code)."""
    occupation = by_code().get(code)
    return occupation.name_language(language) if occupation else "de"


def choices(language: str | None = None) -> list[tuple[str, str]]:
    """(code, name) of every occupation, sorted by name in ``language`` (the interface
    language unless given), for the pickers and the filter panel."""
    language = language or current_language()
    named = [(o.code, o.name(language)) for o in occupations()]
    return sorted(named, key=lambda item: (item[1].casefold(), item[0]))


def cleaned(items) -> list[dict]:
    """Entry values (``[{"code", "places"}]``, or bare codes) made ready for storing: known
    codes only, each once, in the given order; places a whole number 0..MAX_PLACES or None."""
    known = codes()
    seen: dict[str, int | None] = {}
    for item in items or []:
        code, places = _code_and_places(item) if item else (None, None)
        if code not in known or code in seen:
            continue
        seen[code] = _places(places)
    return [{"code": code, "places": places} for code, places in seen.items()]


def _places(value) -> int | None:
    """A number of places, or None when none is given or it is out of bounds."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= MAX_PLACES else None


def shown(items, language: str = "de", index: Mapping[str, Occupation] | None = None) -> list[dict]:
    """``[{"code", "name", "places", "label", "lang"}]`` for pages, popups and summaries,
    sorted by name; ``label`` is the name with the places ("Bäcker/in (2 Plätze)") when given,
    ``lang`` the language of the name (German in Turkish, Arabic and Ukrainian pages).
    ``index``: the list by code, when the caller already has it (one look per map answer)."""
    index = by_code() if index is None else index
    rows = []
    for item in items:
        code, places = _code_and_places(item)
        occupation = index.get(code)
        name = occupation.name(language) if occupation else code
        rows.append(
            {
                "code": code,
                "name": name,
                "places": places,
                "label": _with_places(name, places),
                "lang": occupation.name_language(language) if occupation else "de",
            }
        )
    return sorted(rows, key=lambda row: row["name"].casefold())


def _code_and_places(item) -> tuple[str, int | None]:
    """(code, places) of an entry row, a value ``{"code", "places"}`` or a bare code."""
    if isinstance(item, str):
        return item, None
    if isinstance(item, dict):
        return item.get("code"), _places(item.get("places"))
    return item.code, item.places


def _with_places(name: str, places: int | None) -> str:
    """The occupation's name with its places, in the interface language."""
    if places is None:
        return name
    return ngettext("%(name)s (%(num)d Platz)", "%(name)s (%(num)d Plätze)", places, name=name)


def for_company(company, language: str | None = None) -> list[dict]:
    """The company's apprenticeship occupations as :func:`shown` gives them (interface
    language unless ``language`` is given)."""
    return shown(company.apprenticeships, language or current_language())
