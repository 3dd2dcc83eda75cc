"""Load the fictional demo employers and the demo layers into the database, idempotently."""

from __future__ import annotations

import json
import random
from pathlib import Path

from sqlalchemy import select

from app import demo_data
from app.extensions import db
from app.layers import layer_kinds
from app.models import Company, CompanyStatus
from app.models.layers import LayerFeature
from app.services import entries
from app.services import region as region_service
from geodata.regions import Region

DEMO_SOURCE = "demo"
#: Entry fields a demo employer has under the same name.
_COPIED_FIELDS = (
    *entries.TEXT_FIELDS,
    "municipality_ags",
    "employees",
    "offers_apprenticeships",
    "offers_internships",
    "open_positions",
    "languages",
    "sectors",
    "occupations",
)


def seed_demo(region: Region, count: int = demo_data.DEFAULT_COUNT) -> int:
    """Insert the demo employers that are not in the database yet; return how many were added.

    Entries are matched by their demo reference, so running it again adds nothing and changes
    nothing that staff may have edited since.
    """
    existing = set(
        db.session.scalars(select(Company.source_ref).where(Company.source == DEMO_SOURCE))
    )
    missing = [e for e in demo_data.generate(region, count) if e.ref not in existing]
    if not missing:
        return 0
    classifications = entries.Classifications.load()
    if classifications.empty():
        raise RuntimeError("The taxonomies are not loaded: run `flask sync-reference` first.")
    for employer in missing:
        db.session.add(_build(employer, classifications))
    db.session.commit()
    return len(missing)


def _build(employer: demo_data.DemoEmployer, classifications: entries.Classifications) -> Company:
    """The entry of one demo employer, built by the write model like every other entry."""
    status = CompanyStatus(employer.status)
    certificate_name, valid_until = (employer.certificates or [(None, None)])[0]
    values = {
        **{name: getattr(employer, name) for name in _COPIED_FIELDS},
        "location": (employer.lon, employer.lat),
        "family_criteria": employer.family,
        "certificate_name": certificate_name,
        "certificate_valid_until": valid_until,
    }
    return entries.build(
        values,
        classifications=classifications,
        slug=employer.slug,
        status=status,
        source=DEMO_SOURCE,
        source_ref=employer.ref,
        created_at=employer.created_at,
        updated_at=employer.confirmed_at,
        confirmed_at=employer.confirmed_at,
        published_at=employer.confirmed_at if status is CompanyStatus.PUBLISHED else None,
    )


#: The demo layers' data files (made by scripts/convert_demo_layers.py from open data).
DEMO_LAYERS_DIR = Path(__file__).resolve().parent.parent / "data" / "demo_layers"
#: Marked on every fictional demo feature (shown in its popup) and in its name.
FICTIONAL_SUFFIX = " (fiktiv)"
_OPERATORS = ("Stadt", "AWO", "Caritas", "Diakonie", "Elterninitiative", "DRK")
_KITA_NAMES = ("Sonnenschein", "Regenbogen", "Pusteblume", "Kleine Strolche", "Wirbelwind")
_STREETS = ("Lindenweg", "Am Markt", "Bahnhofstraße", "Gartenstraße", "Schulstraße")


def _anchors(stops: list[tuple[int, dict]], region: Region) -> list[tuple[str, str, float, float]]:
    """Where fictional features are placed: (reference part, town, lon, lat) of the region's
    stations, or of its municipality centres when none of the shipped stations lies in it (the
    shipped ones are Emscher-Lippe's). A station keeps its index in the file, so the demo
    references stay the same when a station falls away."""
    if stops:
        return [
            (str(index), stop["name"].split()[0].rstrip(",-"), stop["lon"], stop["lat"])
            for index, stop in stops
        ]
    return [(f"{region.key}-{m.ags}", m.name, m.lon, m.lat) for m in region.municipalities]


def _fictional_features(
    anchors: list[tuple[str, str, float, float]],
) -> list[tuple[str, dict]]:
    """Childcare facilities and housing offers near the anchors, the same on every run (a
    fixed seed): (kind, feature) pairs with a demo reference each."""
    rng = random.Random(20261129)  # noqa: S311  (demo data, not security)
    features = []
    for index, town, anchor_lon, anchor_lat in anchors:
        for number in range(2):
            lon = anchor_lon + rng.uniform(-0.02, 0.02)
            lat = anchor_lat + rng.uniform(-0.012, 0.012)
            name = f"Kita {rng.choice(_KITA_NAMES)} {town}"
            features.append(
                (
                    "childcare",
                    {
                        "ref": f"demo-kita-{index}-{number}",
                        "name": name + FICTIONAL_SUFFIX,
                        "lon": lon,
                        "lat": lat,
                        "operator": rng.choice(_OPERATORS),
                        "opening_hours": (
                            f"Mo–Fr {rng.choice((7, 7, 8))}–{rng.choice((14, 16, 17))} Uhr"
                        ),
                        "age_range": rng.choice(("0–6 Jahre", "1–6 Jahre", "3–6 Jahre")),
                    },
                )
            )
        lon = anchor_lon + rng.uniform(-0.02, 0.02)
        lat = anchor_lat + rng.uniform(-0.012, 0.012)
        rooms = rng.choice((1, 2, 2, 3, 3, 4))
        features.append(
            (
                "housing",
                {
                    "ref": f"demo-wohnung-{index}",
                    "name": f"{rooms}-Zimmer-Wohnung, {rng.choice(_STREETS)}, {town}"
                    + FICTIONAL_SUFFIX,
                    "lon": lon,
                    "lat": lat,
                    "rooms": rooms,
                    "rent": f"{rooms * rng.randint(230, 320)} € kalt",
                    "available_from": f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2027",
                    "contact": "Wohnungsbörse Demo, 0209 000000",
                },
            )
        )
    return features


def seed_demo_layers(region: Region) -> int:
    """Insert the demo layers that are not in the database yet; return how many features
    were added. Transit stops (DB stations) and training providers (Berufskollegs) come from
    ``app/data/demo_layers`` (Emscher-Lippe's; features outside the configured region are
    skipped); childcare facilities and housing offers are fictional, marked as such, placed
    near the region's stations or, without any, its municipality centres. Matched by their
    demo reference, so running it again adds nothing."""
    kinds = layer_kinds()
    inside = region_service.region_test()
    existing = set(
        db.session.execute(
            select(LayerFeature.kind, LayerFeature.source_ref).where(
                LayerFeature.source == DEMO_SOURCE
            )
        ).tuples()
    )
    pending: list[tuple[str, dict]] = []
    stops: list[tuple[int, dict]] = []
    for name in ("transit.json", "training.json"):
        data = json.loads((DEMO_LAYERS_DIR / name).read_text(encoding="utf-8"))
        features = [f for f in data["features"] if inside(f["lon"], f["lat"])]
        pending += [(data["kind"], feature) for feature in features]
        if data["kind"] == "transit":
            stops = [
                (index, f) for index, f in enumerate(data["features"]) if inside(f["lon"], f["lat"])
            ]
    pending += [
        (kind, {**f, "fictional": True})
        for kind, f in _fictional_features(_anchors(stops, region))
        if inside(f["lon"], f["lat"])
    ]
    added = 0
    for kind, feature in pending:
        if kind not in kinds or (kind, feature["ref"]) in existing:
            continue
        fields = {f.key for f in kinds[kind].fields} | {"fictional"}
        db.session.add(
            LayerFeature(
                kind=kind,
                name=feature["name"],
                properties={k: v for k, v in feature.items() if k in fields and v is not None},
                location=f"SRID=4326;POINT({feature['lon']:.6f} {feature['lat']:.6f})",
                source=DEMO_SOURCE,
                source_ref=feature["ref"],
            )
        )
        added += 1
    db.session.commit()
    return added
