"""The taxonomies' labels in the interface languages besides German and English.

The database keeps the official German titles and their English ones (``title_de``,
``title_en``, from ``app/data/wz2008.json``, ``kldb2010.json`` and ``family_criteria.json``).
Turkish, Arabic and Ukrainian labels are data the project ships in
``app/data/taxonomy_translations.json``, which states their source (:func:`source`), keyed
``wz:<code>`` (WZ 2008 sections and divisions), ``kldb:<code>`` (KldB 2010 Berufsbereiche and
Berufshauptgruppen) and ``family:<key>`` (family-friendliness criteria). A label missing in a
language falls back to English (:meth:`app.models.taxonomy._Titled.title`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "taxonomy_translations.json"


@cache
def _data() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def languages() -> tuple[str, ...]:
    """The languages the file has labels in."""
    return tuple(_data()["languages"])


def source() -> str:
    """Where the labels come from (shown on the "about" page and in the README)."""
    return _data()["source"]


def label(key: str, language: str) -> str | None:
    """The label of ``key`` ("wz:C", "kldb:26", "family:part_time") in ``language``, or None
    when the file has none."""
    return _data()["languages"].get(language, {}).get(key) or None
