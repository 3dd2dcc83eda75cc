"""Convert the official WZ 2008 and KldB 2010 tables into the JSON files in ``app/data``.

Usage::

    python scripts/convert_taxonomies.py --wz PATH/wz2008_full.csv --kldb PATH/kldb2010_full.csv

The reference tables are read from the paths given and never copied into the repository as
they are: this script writes our own JSON format (``app/data/wz2008_full.json``,
``app/data/kldb2010_full.json``, one flat list of items per classification, each with its
code, level, parent and titles). It then checks ``app/data/apprenticeships.json`` against the
KldB table: every apprenticeship occupation names an existing Berufsgattung (5 digits), codes
are unique slugs and the list is sorted by German name. ``--check-only`` checks without
writing. The exit status is 1 when a check fails.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "app" / "data"

WZ_SOURCE = (
    "Klassifikation der Wirtschaftszweige, Ausgabe 2008 (WZ 2008), © Statistisches Bundesamt "
    "(Destatis), Wiesbaden 2008. English titles follow NACE Rev. 2."
)
KLDB_SOURCE = (
    "Klassifikation der Berufe 2010 – überarbeitete Fassung 2020, © Bundesagentur für Arbeit."
)
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a reference table (UTF-8, with a header row)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def convert_wz(rows: list[dict[str, str]]) -> dict:
    """WZ 2008 as a flat list: Abschnitt (1) to Unterklasse (5), German and English titles."""
    items = [
        {
            "code": row["code"],
            "level": int(row["level"]),
            "parent": row["parent"] or None,
            "title_de": row["title_de"].strip(),
            "title_en": row["title_en"].strip(),
        }
        for row in rows
    ]
    return {"name": "WZ 2008", "source": WZ_SOURCE, "items": items}


def convert_kldb(rows: list[dict[str, str]]) -> dict:
    """KldB 2010 as a flat list: Berufsbereich (1) to Berufsgattung (5), German titles."""
    items = []
    for row in rows:
        item = {
            "code": row["code"],
            "level": int(row["level"]),
            "parent": row["parent"] or None,
            "title_de": row["titel"].strip(),
        }
        short = row.get("kurztitel", "").strip()
        if short and short != item["title_de"]:
            item["short_de"] = short
        items.append(item)
    return {"name": "KldB 2010", "source": KLDB_SOURCE, "items": items}


def sort_key(german: str) -> str:
    """The order of the apprenticeship list: German name, umlauts folded, punctuation ignored."""
    text = german.lower()
    for umlaut, plain in (("ä", "a"), ("ö", "o"), ("ü", "u"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def check_apprenticeships(items: list[dict], berufsgattungen: set[str]) -> list[str]:
    """Problems in the apprenticeship list (empty when it is sound)."""
    problems = []
    seen: set[str] = set()
    for item in items:
        if set(item) != {"code", "kldb", "de", "en"}:
            problems.append(f"{item.get('code')}: fields are {sorted(item)}")
        code = item.get("code", "")
        if not SLUG.match(code):
            problems.append(f"{code!r}: not a slug")
        if code in seen:
            problems.append(f"{code}: duplicate code")
        seen.add(code)
        if item.get("kldb") not in berufsgattungen:
            problems.append(f"{code}: {item.get('kldb')!r} is not a KldB 2010 Berufsgattung")
        if not item.get("de") or not item.get("en"):
            problems.append(f"{code}: a name is missing")
    names = [sort_key(item.get("de", "")) for item in items]
    if names != sorted(names):
        problems.append("the list is not sorted by German name")
    return problems


def write_json(name: str, data: dict) -> None:
    """Write one data file, UTF-8, one item a line (readable diffs), with a final newline."""
    head = {key: value for key, value in data.items() if key != "items"}
    lines = [json.dumps(item, ensure_ascii=False) for item in data["items"]]
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    text += ',\n "items": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n"
    (DATA_DIR / name).write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Convert both tables, check the apprenticeship list, report; 1 when a check fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wz", type=Path, required=True, help="path of wz2008_full.csv")
    parser.add_argument("--kldb", type=Path, required=True, help="path of kldb2010_full.csv")
    parser.add_argument("--check-only", action="store_true", help="check, write nothing")
    args = parser.parse_args(argv)

    wz = convert_wz(read_csv(args.wz))
    kldb = convert_kldb(read_csv(args.kldb))
    if not args.check_only:
        write_json("wz2008_full.json", wz)
        write_json("kldb2010_full.json", kldb)
        print(f"wrote {len(wz['items'])} WZ and {len(kldb['items'])} KldB items")

    gattungen = {item["code"] for item in kldb["items"] if item["level"] == 5}
    apprenticeships = json.loads((DATA_DIR / "apprenticeships.json").read_text("utf-8"))
    problems = check_apprenticeships(apprenticeships, gattungen)
    for problem in problems:
        print(f"apprenticeships.json: {problem}", file=sys.stderr)
    print(f"checked {len(apprenticeships)} apprenticeship occupations against KldB 2010")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
