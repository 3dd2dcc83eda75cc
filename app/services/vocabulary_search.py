"""Find sectors, occupations and apprenticeship occupations by the words people use.

Pure Python over the data the project ships (``app/data``): WZ 2008 down to its Unterklassen,
KldB 2010 down to its Berufsgattungen, the recognised apprenticeship occupations and a list of
everyday words (job titles and trade names). The index is built once per process.

Matching folds case, umlauts and ß and accepts ae/oe/ue spellings ("Baecker" = "Bäcker").
Every word of the query must match a word of an entry; a word matches, best first:
exactly, as the beginning of a word ("Elektro" → "Elektroinstallation"), by its stem as the
beginning of a word ("Bäcker" → "Backwarenherstellung"), as a part inside a compound
("installation" → "Elektroinstallation"), or with one typo ("Elektirker" → "Elektriker").
Everyday words and apprenticeship occupations weigh more than the official labels. Each hit
names the code the filters use: the WZ division (or section) for sectors, the KldB
Berufshauptgruppe (or Berufsbereich) for occupations, the apprenticeship code.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

from app import taxonomy_translations

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

#: The longest query accepted (characters).
MAX_QUERY_LENGTH = 100
#: Results per list.
LIMIT = 10
#: At most this many results of one list share a filter code (variety over repetition).
PER_FILTER_CODE = 2

WZ_LEVELS = {1: "section", 2: "division", 3: "group", 4: "class", 5: "subclass"}
KLDB_LEVELS = {1: "area", 2: "main_group", 3: "group", 4: "subgroup", 5: "occupation_type"}

# Words a query may contain that name nothing (German and English; "für" folds to "fur").
STOP_WORDS = frozenset(
    {
        *("und", "oder", "von", "fur", "der", "die", "das", "den", "dem", "des", "im", "in"),
        *("am", "an", "mit", "ohne", "zu", "zur", "zum", "a", "o"),
        *("and", "or", "of", "for", "the", "on", "with", "without", "to"),
    }
)
# German endings stripped to find a stem ("Bäcker" → "back", "Tischlerei" → "tischl").
SUFFIXES = ("erinnen", "erin", "innen", "erei", "ern", "er", "in", "en", "ei", "e", "n", "s")

# Scores of one query word against one entry word.
EXACT, PREFIX, STEM_PREFIX, PART, STEM_PART, TYPO, TYPO_PREFIX = 100, 90, 78, 70, 62, 60, 55
# Weights by where an entry comes from.
WEIGHTS = {"term": 1.25, "apprenticeship": 1.15, "official": 1.0}
FOLDS = str.maketrans({"ä": "a", "ö": "o", "ü": "u"})


def fold(text: str) -> str:
    """Lower case without diacritics, ß as ss, and ae/oe/ue as a/o/u."""
    text = text.casefold().translate(FOLDS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("ae", "a").replace("oe", "o").replace("ue", "u")


def words(text: str) -> list[str]:
    """The folded words of a text; hyphenated compounds also as one word ("kfzwerkstatt")."""
    folded = fold(text)
    found = re.findall(r"[a-z0-9]+", folded)
    found += [
        "".join(re.findall(r"[a-z0-9]+", w))
        for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+", folded)
    ]
    return [w for w in found if len(w) > 1 or w.isdigit()]


def query_words(query: str) -> list[str]:
    """The words of a query that carry meaning (stop words dropped unless nothing is left)."""
    found = re.findall(r"[a-z0-9]+", fold(query))
    meaningful = [w for w in found if w not in STOP_WORDS]
    return meaningful or found


def stem(word: str) -> str | None:
    """The word without a common German ending, when at least four letters remain."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return None


@dataclass(frozen=True)
class Entry:
    """One thing that can be found: a label in both languages and the code it maps to."""

    kind: str  # "sectors", "occupations" or "apprenticeships"
    code: str
    level: str
    filter_code: str
    label_de: str
    label_en: str
    source: str  # "term", "apprenticeship" or "official"
    words: frozenset[str]
    rank: int = 0  # order among the targets of one everyday word (0 first)
    term: str | None = None  # the everyday word this entry was reached through


@dataclass
class Index:
    """All entries, and for each word the entries that contain it."""

    entries: list[Entry] = field(default_factory=list)
    by_word: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, entry: Entry) -> None:
        """Add one entry and index its words."""
        position = len(self.entries)
        self.entries.append(entry)
        for word in entry.words:
            self.by_word[word].append(position)

    def freeze(self) -> None:
        """Prepare the word lists used for the fuzzy part."""
        self.vocabulary = list(self.by_word)
        self._prefixes: dict[int, dict[str, list[str]]] = {}

    def prefixes(self, length: int) -> dict[str, list[str]]:
        """Word beginnings of one length, each with the words that begin so."""
        if length not in self._prefixes:
            table: dict[str, list[str]] = defaultdict(list)
            for word in self.vocabulary:
                if len(word) > length:
                    table[word[:length]].append(word)
            self._prefixes[length] = dict(table)
        return self._prefixes[length]


def word_scores(index: Index, token: str) -> dict[str, int]:
    """How well one query word matches each index word it matches at all."""
    scores: dict[str, int] = {}
    base = stem(token)

    def give(word: str, score: int) -> None:
        if score > scores.get(word, 0):
            scores[word] = score

    for word in index.vocabulary:
        if word == token:
            give(word, EXACT)
        elif len(token) >= 3 and word.startswith(token):
            give(word, PREFIX)
        elif base and word.startswith(base):
            give(word, STEM_PREFIX)
        elif len(token) >= 4 and token in word:
            give(word, PART)
        elif base and base in word:
            give(word, STEM_PART)
    if len(token) >= 5:
        for word, _, _ in process.extract(
            token, index.vocabulary, scorer=OSA.distance, score_cutoff=1, limit=None
        ):
            give(word, TYPO)
        for length in (len(token), len(token) + 1):
            table = index.prefixes(length)
            for prefix, _, _ in process.extract(
                token, list(table), scorer=OSA.distance, score_cutoff=1, limit=None
            ):
                for word in table[prefix]:
                    give(word, TYPO_PREFIX)
    return scores


@dataclass(frozen=True)
class Hit:
    """One result as the API returns it."""

    code: str
    label: str
    filter_code: str
    level: str
    term: str | None

    def as_dict(self) -> dict:
        """The JSON form: code, label, filter_code, level and the everyday word, if any."""
        return {
            "code": self.code,
            "label": self.label,
            "filter_code": self.filter_code,
            "level": self.level,
            "term": self.term,
        }


def search(query: str, lang: str = "de", index: Index | None = None) -> dict[str, list[Hit]]:
    """The best sectors, occupations and apprenticeship occupations for a query, best first."""
    index = index or shipped_index()
    tokens = query_words(query[:MAX_QUERY_LENGTH])
    result: dict[str, list[Hit]] = {"sectors": [], "occupations": [], "apprenticeships": []}
    if not tokens or sum(len(t) for t in tokens) < 2:
        return result
    per_token = [word_scores(index, token) for token in tokens]
    totals: dict[int, list[int]] = {}
    for position, scores in enumerate(per_token):
        best: dict[int, int] = {}
        for word, score in scores.items():
            for entry_id in index.by_word[word]:
                if score > best.get(entry_id, 0):
                    best[entry_id] = score
        for entry_id, score in best.items():
            if position == 0:
                totals[entry_id] = [score]
            elif entry_id in totals and len(totals[entry_id]) == position:
                totals[entry_id].append(score)
    ranked = []
    for entry_id, scores in totals.items():
        if len(scores) != len(tokens):
            continue
        entry = index.entries[entry_id]
        ranked.append((_score(entry, scores), entry))
    ranked.sort(key=lambda item: (-item[0], item[1].code, item[1].label_de))
    seen: set[tuple[str, str]] = set()
    per_code: dict[tuple[str, str], int] = defaultdict(int)
    for _, entry in ranked:
        hits = result[entry.kind]
        key = (entry.kind, entry.code)
        if (
            len(hits) >= LIMIT
            or key in seen
            or per_code[(entry.kind, entry.filter_code)]
            >= (1 if entry.kind == "apprenticeships" else PER_FILTER_CODE)
        ):
            continue
        seen.add(key)
        per_code[(entry.kind, entry.filter_code)] += 1
        hits.append(
            Hit(entry.code, _label(entry, lang), entry.filter_code, entry.level, entry.term)
        )
    return result


def _label(entry: Entry, lang: str) -> str:
    """An entry's label in ``lang``: German, English, or for the other interface languages the
    shipped translation of a WZ section or division and a KldB Berufsbereich or
    Berufshauptgruppe (English for deeper levels); apprenticeship occupations keep their
    German names (they are the official titles people meet)."""
    if lang == "de" or (lang != "en" and entry.kind == "apprenticeships"):
        return entry.label_de
    if lang != "en":
        prefix = "wz" if entry.kind == "sectors" else "kldb"
        translated = taxonomy_translations.label(f"{prefix}:{entry.code}", lang)
        if translated:
            return translated
    return entry.label_en


def _score(entry: Entry, scores: list[int]) -> float:
    """An entry's score: its words' mean score, weighted by source, short labels first."""
    mean = sum(scores) / len(scores)
    coverage = len(scores) / max(len(entry.words), 1)
    level_bonus = 3 if entry.level in ("division", "main_group", "term") else 0
    return mean * WEIGHTS[entry.source] + 8 * min(coverage, 1) + level_bonus - 2 * entry.rank


# Building the index -----------------------------------------------------------------------


def build_index(
    wz: dict, kldb: dict, kldb_main: dict, apprenticeships: list[dict], terms: dict
) -> Index:
    """An index over the data files' contents (the shipped ones, or a test's fixtures).

    ``wz`` and ``kldb`` are the flat classifications (``items`` with code, level, parent,
    titles); ``kldb_main`` is ``kldb2010.json`` (its English titles of the upper levels).
    """
    index = Index()
    wz_items = {item["code"]: item for item in wz["items"]}
    for item in wz["items"]:
        _add_official(index, "sectors", item, wz_items, WZ_LEVELS, item.get("title_en"))
    english = {a["code"]: a["title_en"] for a in kldb_main.get("areas", [])}
    english.update(
        {g["code"]: g["title_en"] for a in kldb_main.get("areas", []) for g in a["groups"]}
    )
    kldb_items = {item["code"]: item for item in kldb["items"]}
    for item in kldb["items"]:
        _add_official(
            index, "occupations", item, kldb_items, KLDB_LEVELS, english.get(item["code"])
        )

    by_code = {a["code"]: a for a in apprenticeships}
    for item in apprenticeships:
        index.add(_apprenticeship(item, "apprenticeship", words(item["de"]) + words(item["en"])))
    for term in terms["terms"]:
        found = frozenset(words(term["de"]) + words(term["en"]))
        for rank, code in enumerate(term.get("wz", [])):
            target = wz_items[code]
            index.add(_target("sectors", target, WZ_LEVELS, target["title_en"], found, rank, term))
        for rank, code in enumerate(term.get("kldb", [])):
            target = kldb_items[code]
            en = english.get(code, target["title_de"])
            index.add(_target("occupations", target, KLDB_LEVELS, en, found, rank, term))
        for rank, code in enumerate(term.get("apprenticeships", [])):
            entry = _apprenticeship(by_code[code], "term", found, rank, term["de"])
            index.add(entry)
    index.freeze()
    return index


def _filter_code(item: dict, items: dict[str, dict]) -> str:
    """The code the filters use: the item's level-2 ancestor, or the item on level 1."""
    while item["level"] > 2:
        item = items[item["parent"]]
    return item["code"]


def _base_title(title: str) -> str:
    """A KldB title without its Anforderungsniveau ("… – fachlich ausgerichtete Tätigkeiten")."""
    return title.split(" – ")[0].strip()


def _add_official(index: Index, kind: str, item: dict, items: dict, levels: dict, en) -> None:
    """Index one official classification item unless it repeats its parent's title."""
    title = item["title_de"]
    parent = items.get(item.get("parent") or "")
    if parent and _base_title(parent["title_de"]) == _base_title(title):
        return
    text = _base_title(title) + " " + item.get("short_de", "").split(" - ")[0] + " " + (en or "")
    index.add(
        Entry(
            kind=kind,
            code=item["code"],
            level=levels[item["level"]],
            filter_code=_filter_code(item, items),
            label_de=title,
            label_en=en or title,
            source="official",
            words=frozenset(words(text)),
        )
    )


def _target(kind, target, levels, en, found, rank, term) -> Entry:
    """The entry of an everyday word for one of the codes it maps to."""
    return Entry(
        kind=kind,
        code=target["code"],
        level=levels[target["level"]],
        filter_code=target["code"],
        label_de=target["title_de"],
        label_en=en,
        source="term",
        words=found,
        rank=rank,
        term=term["de"],
    )


def _apprenticeship(item: dict, source: str, found, rank: int = 0, term=None) -> Entry:
    """The entry of one apprenticeship occupation (by its own name, or by an everyday word)."""
    return Entry(
        kind="apprenticeships",
        code=item["code"],
        level="apprenticeship",
        filter_code=item["code"],
        label_de=item["de"],
        label_en=item["en"],
        source=source,
        words=frozenset(found),
        rank=rank,
        term=term,
    )


def _read(name: str):
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def shipped_index() -> Index:
    """The index over the files in ``app/data``, built on first use."""
    return build_index(
        _read("wz2008_full.json"),
        _read("kldb2010_full.json"),
        _read("kldb2010.json"),
        _read("apprenticeships.json"),
        _read("everyday_terms.json"),
    )
