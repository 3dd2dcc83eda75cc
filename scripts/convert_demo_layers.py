"""Make the demo layers' small data files from openly licensed data of the region.

    python scripts/convert_demo_layers.py [REFERENCE_DIR]

Reads the DB rail stations (DB Haltestellendaten, CC BY 4.0 Deutsche Bahn AG) and the NRW
school master data's Berufskollegs and Weiterbildungskollegs (Schulministerium NRW,
dl-de/by-2-0) as GeoJSON, and writes ``app/data/demo_layers/transit.json`` and
``training.json``: only each record's name, position (WGS 84, 6 decimals) and the few fields
the map shows. The source files themselves are not part of the repository.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "app" / "data" / "demo_layers"
STATIONS = "emscher_lippe_rail_stations.geojson"
TRAINING = "emscher_lippe_training_providers_berufskollegs.geojson"


def _point(feature: dict) -> tuple[float, float]:
    lon, lat = feature["geometry"]["coordinates"][:2]
    return round(float(lon), 6), round(float(lat), 6)


def stations(path: Path) -> dict:
    """Rail stations as transit stops: name and position (lines are not in the source)."""
    features = []
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        lon, lat = _point(feature)
        ref = feature["properties"].get("EVA_NR") or ""
        features.append(
            {"ref": f"eva:{ref}", "name": feature["properties"]["NAME"], "lon": lon, "lat": lat}
        )
    return {
        "kind": "transit",
        "attribution": "DB Haltestellendaten, CC BY 4.0 Deutsche Bahn AG",
        "features": sorted(features, key=lambda f: f["name"]),
    }


def training(path: Path) -> dict:
    """Berufskollegs and Weiterbildungskollegs: name, type and website."""
    features = []
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        properties = feature["properties"]
        kind = properties.get("Schulform_Text") or ""
        name = properties.get("Schulbezeichnung_1") or ""
        if name == kind:  # "Weiterbildungskolleg" alone: the second line names the school
            name = f"{name} – {properties.get('Schulbezeichnung_2') or properties.get('Ort')}"
        lon, lat = _point(feature)
        features.append(
            {
                "ref": f"schule:{properties['Schulnummer']}",
                "name": name,
                "lon": lon,
                "lat": lat,
                "type": kind,
                "website": properties.get("Homepage") or None,
            }
        )
    return {
        "kind": "training",
        "attribution": "Schuldaten NRW, Ministerium für Schule und Bildung NRW, dl-de/by-2-0",
        "features": sorted(features, key=lambda f: f["name"]),
    }


def main(argv: list[str]) -> None:
    reference = Path(argv[1]) if len(argv) > 1 else Path("/work/shared/reference-data")
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in (
        ("transit.json", stations(reference / STATIONS)),
        ("training.json", training(reference / TRAINING)),
    ):
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"{OUT / name}: {len(data['features'])} features")


if __name__ == "__main__":
    main(sys.argv)
