"""A deterministic generator of fictional demo employers for a region.

Nothing here touches the database: :func:`generate` returns plain records from a fixed seed, so
the same region always yields the same employers. Names, streets and numbers are invented;
e-mail addresses and websites use the reserved ``.example`` domain.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from app.services.slugs import slugify
from geodata.regions import Region

SEED = 20261121
DEFAULT_COUNT = 300

# (name pattern, WZ divisions, KldB main groups, weight, employee range, description)
TRADES = (
    (
        "Bäckerei {n}",
        ["10"],
        ["29", "62"],
        8,
        (3, 40),
        "Handwerksbäckerei mit eigener Backstube und Filialverkauf.",
    ),
    (
        "Fleischerei {n}",
        ["10"],
        ["29", "62"],
        4,
        (3, 25),
        "Metzgerei mit Partyservice und Mittagstisch.",
    ),
    (
        "Elektrotechnik {n}",
        ["43"],
        ["26"],
        8,
        (2, 60),
        "Elektroinstallation, Photovoltaik und Smart-Home für Privat- und Gewerbekunden.",
    ),
    (
        "{n} Sanitär- und Heizungstechnik",
        ["43"],
        ["34"],
        8,
        (2, 45),
        "Bäder, Heizungen und Wärmepumpen: Planung, Einbau und Wartung.",
    ),
    (
        "Malerbetrieb {n}",
        ["43"],
        ["33"],
        6,
        (1, 20),
        "Maler- und Lackierarbeiten, Fassaden und Bodenbeläge.",
    ),
    (
        "Dachdeckerei {n}",
        ["43"],
        ["32"],
        4,
        (2, 25),
        "Steil- und Flachdächer, Dachfenster und Dachbegrünung.",
    ),
    (
        "{n} Bau GmbH",
        ["41"],
        ["32", "31"],
        4,
        (8, 120),
        "Hochbau, Umbauten und Sanierungen im Ruhrgebiet.",
    ),
    (
        "Kfz-Werkstatt {n}",
        ["45"],
        ["25", "62"],
        7,
        (2, 30),
        "Reparatur, Inspektion und Hauptuntersuchung aller Marken.",
    ),
    (
        "Tischlerei {n}",
        ["16", "31"],
        ["22"],
        4,
        (1, 18),
        "Möbel nach Maß, Fenster, Türen und Innenausbau.",
    ),
    (
        "Metallbau {n}",
        ["25"],
        ["24"],
        5,
        (4, 80),
        "Stahl- und Metallbau, Geländer, Tore und Schweißarbeiten.",
    ),
    (
        "{n} Maschinenbau",
        ["28"],
        ["25", "27"],
        3,
        (20, 400),
        "Sondermaschinen und Baugruppen für die Industrie.",
    ),
    (
        "{n} Kunststofftechnik",
        ["22"],
        ["22"],
        2,
        (15, 220),
        "Spritzguss und Kunststoffteile für Automobil und Medizintechnik.",
    ),
    (
        "{n} Chemie-Service",
        ["20"],
        ["41", "22"],
        2,
        (30, 900),
        "Labor- und Anlagenservice für die chemische Industrie.",
    ),
    (
        "Blumen {n}",
        ["47"],
        ["12", "62"],
        3,
        (1, 8),
        "Blumenfachgeschäft mit Floristik für Hochzeiten und Trauerfeiern.",
    ),
    (
        "Fahrradhaus {n}",
        ["47"],
        ["62", "25"],
        3,
        (1, 12),
        "Fahrräder, E-Bikes, Werkstatt und Leasing.",
    ),
    ("Optik {n}", ["47"], ["82", "62"], 2, (2, 10), "Brillen, Kontaktlinsen und Sehtests."),
    (
        "Café {n}",
        ["56"],
        ["63"],
        5,
        (2, 15),
        "Café mit Frühstück, Kuchen aus eigener Herstellung und Catering.",
    ),
    (
        "Restaurant {n}",
        ["56"],
        ["63"],
        5,
        (3, 30),
        "Regionale und internationale Küche, Mittagstisch und Feiern.",
    ),
    ("Hotel {n}", ["55"], ["63"], 2, (8, 60), "Familiengeführtes Hotel mit Tagungsräumen."),
    (
        "{n} IT-Service",
        ["62"],
        ["43"],
        6,
        (1, 50),
        "IT-Betreuung, Netzwerke und Software für kleine Unternehmen.",
    ),
    (
        "Steuerberatung {n}",
        ["69"],
        ["72"],
        5,
        (2, 30),
        "Steuerberatung, Lohn- und Finanzbuchhaltung.",
    ),
    (
        "Kanzlei {n}",
        ["69"],
        ["73"],
        3,
        (2, 20),
        "Rechtsanwaltskanzlei für Arbeits-, Familien- und Mietrecht.",
    ),
    (
        "Ingenieurbüro {n}",
        ["71"],
        ["27", "31"],
        4,
        (2, 40),
        "Tragwerksplanung, Energieberatung und Bauleitung.",
    ),
    ("Praxis Dr. {n}", ["86"], ["81"], 6, (3, 15), "Allgemeinmedizinische Hausarztpraxis."),
    (
        "Zahnarztpraxis {n}",
        ["86"],
        ["81"],
        4,
        (4, 18),
        "Zahnmedizin, Prophylaxe und Implantologie.",
    ),
    (
        "Physiotherapie {n}",
        ["86"],
        ["81", "82"],
        4,
        (2, 20),
        "Krankengymnastik, Massage und Rehasport.",
    ),
    (
        "Pflegedienst {n}",
        ["88", "87"],
        ["81", "83"],
        6,
        (10, 120),
        "Ambulante Pflege, Betreuung und Tagespflege.",
    ),
    (
        "Friseursalon {n}",
        ["96"],
        ["82"],
        6,
        (1, 12),
        "Haarschnitte, Farbe und Styling für Damen, Herren und Kinder.",
    ),
    (
        "Spedition {n}",
        ["49", "52"],
        ["51", "52"],
        4,
        (6, 300),
        "Nah- und Fernverkehr, Lagerlogistik und Umschlag.",
    ),
    ("Taxi {n}", ["49"], ["52"], 2, (2, 25), "Taxi, Krankenfahrten und Flughafentransfer."),
    ("Gebäudereinigung {n}", ["81"], ["54"], 4, (5, 260), "Unterhalts-, Glas- und Grundreinigung."),
    (
        "Garten- und Landschaftsbau {n}",
        ["81"],
        ["12", "32"],
        4,
        (2, 35),
        "Gartenpflege, Pflasterarbeiten und Baumpflege.",
    ),
    (
        "Gärtnerei {n}",
        ["01"],
        ["12", "11"],
        2,
        (2, 15),
        "Zierpflanzen und Gemüse aus eigenem Anbau.",
    ),
    (
        "Werbeagentur {n}",
        ["73"],
        ["92"],
        3,
        (2, 25),
        "Gestaltung, Online-Marketing und Druckvorstufe.",
    ),
    (
        "Versicherungsbüro {n}",
        ["66"],
        ["72", "61"],
        3,
        (1, 10),
        "Versicherungen und Vorsorge für Privat- und Gewerbekunden.",
    ),
    (
        "Fahrschule {n}",
        ["85"],
        ["84", "52"],
        2,
        (1, 10),
        "Führerscheine aller Klassen und Berufskraftfahrer-Weiterbildung.",
    ),
    (
        "Kita-Service {n}",
        ["88"],
        ["83"],
        2,
        (5, 40),
        "Betriebliche Kinderbetreuung und Ferienprogramme.",
    ),
    ("Druckerei {n}", ["18"], ["23"], 2, (3, 45), "Offset- und Digitaldruck, Weiterverarbeitung."),
)
SURNAMES = (
    "Schulte",
    "Kowalski",
    "Nowak",
    "Yılmaz",
    "Becker",
    "Schmidt",
    "Wagner",
    "Hoffmann",
    "Krüger",
    "Kaya",
    "Öztürk",
    "Lange",
    "Brinkmann",
    "Terhorst",
    "Wessel",
    "Kamps",
    "Stratmann",
    "Demir",
    "Szymański",
    "Peters",
    "Koch",
    "Richter",
    "Wolff",
    "Hülsmann",
    "Böcker",
    "Lübbert",
    "Jansen",
    "Hermes",
    "Kuhlmann",
    "Große-Wilde",
    "Niehaus",
    "Overbeck",
    "Çelik",
    "Wiśniewski",
    "Bußmann",
    "Tenhagen",
    "Schäfer",
    "Ahmeti",
    "Hagedorn",
    "Möller",
)
STREETS = (
    "Hauptstraße",
    "Bahnhofstraße",
    "Kirchstraße",
    "Schulstraße",
    "Gartenstraße",
    "Industriestraße",
    "Am Markt",
    "Lindenstraße",
    "Mühlenweg",
    "Ringstraße",
    "Feldstraße",
    "Marktstraße",
    "Hochstraße",
    "Zechenstraße",
    "Kanalstraße",
    "Lippestraße",
    "Emscherstraße",
    "Im Gewerbepark",
    "Hafenweg",
    "Wiesenstraße",
    "Buschweg",
    "Am Bahnhof",
    "Heidestraße",
    "Kolpingstraße",
)
CONTACT_FIRST_NAMES = (
    "Anna",
    "Mehmet",
    "Sabine",
    "Thomas",
    "Agnieszka",
    "Jan",
    "Fatma",
    "Heike",
    "Lukas",
    "Elif",
)
LANGUAGES = ("en", "tr", "pl", "ar", "ru", "uk", "it", "nl", "fr", "ku")
FAMILY_KEYS = (
    "flexible_hours",
    "part_time",
    "home_office",
    "childcare_support",
    "return_to_work",
    "carer_leave",
)
#: Certificates a demo employer may hold; ``{region}`` is the region's name.
CERTIFICATES = ("audit berufundfamilie", "Familienfreundliches Unternehmen {region}")
# Status mix: mostly published; the others must never appear publicly.
STATUS_WEIGHTS = (("published", 88), ("pending", 5), ("rejected", 3), ("draft", 2), ("archived", 2))
REFERENCE_DAY = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@dataclass
class DemoEmployer:
    """One generated employer, ready to be turned into a Company row."""

    ref: str
    slug: str
    name: str
    description: str
    street: str
    house_number: str
    postal_code: str
    town: str
    municipality_ags: str
    lon: float
    lat: float
    website: str
    phone: str
    email: str
    contact_name: str
    contact_email: str
    employees: int
    sectors: list[str]
    occupations: list[str]
    family: list[str]
    certificates: list[tuple[str, date]]
    offers_apprenticeships: bool
    offers_internships: bool
    open_positions: int
    languages: list[str]
    status: str
    created_at: datetime
    confirmed_at: datetime
    extra: dict = field(default_factory=dict)


def _employees(rng: random.Random, low: int, high: int) -> int:
    # Log-uniform within the trade's range: most businesses are small.
    return max(1, round(math.exp(rng.uniform(math.log(low), math.log(high)))))


def _point_near(
    rng: random.Random, lon: float, lat: float, spread_km: float
) -> tuple[float, float]:
    distance = abs(rng.gauss(0, spread_km))
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / 111.2
    dlon = distance * math.sin(bearing) / (111.2 * math.cos(math.radians(lat)))
    return round(lon + dlon, 6), round(lat + dlat, 6)


def generate(region: Region, count: int = DEFAULT_COUNT, seed: int = SEED) -> list[DemoEmployer]:
    """Generate ``count`` fictional employers spread over the region's postal codes."""
    rng = random.Random(seed)
    places = [(m, p) for m in region.municipalities for p in m.postal_codes]
    if not places:
        raise ValueError(f"Region {region.key} has no postal codes to place demo employers at.")
    trades = list(TRADES)
    trade_weights = [t[3] for t in trades]
    statuses, status_weights = zip(*STATUS_WEIGHTS, strict=True)
    used_names: set[str] = set()
    used_slugs: set[str] = set()
    employers = []
    for index in range(1, count + 1):
        pattern, sectors, occupations, _, (low, high), description = rng.choices(
            trades, trade_weights
        )[0]
        name = pattern.format(n=rng.choice(SURNAMES))
        municipality, postal_code = rng.choice(places)
        if name in used_names:
            name = f"{name} {municipality.name}"
        base, suffix = name, 2
        while name in used_names:
            name, suffix = f"{base} {suffix}", suffix + 1
        used_names.add(name)
        slug = slugify(f"{name}-{municipality.name}")[:140]
        if slug in used_slugs:
            slug = f"{slug}-{index}"
        used_slugs.add(slug)
        lon, lat = _point_near(rng, postal_code.lon, postal_code.lat, 0.9)
        employees = _employees(rng, low, high)
        family = sorted(k for k in FAMILY_KEYS if rng.random() < 0.3)
        certificates = []
        if rng.random() < 0.08:
            family.append("certificate")
            expiry = date(2026, 1, 1) + timedelta(days=rng.randint(200, 1100))
            certificates.append((rng.choice(CERTIFICATES).format(region=region.name), expiry))
        created = REFERENCE_DAY - timedelta(days=rng.randint(0, 700), minutes=rng.randint(0, 600))
        contact_first = rng.choice(CONTACT_FIRST_NAMES)
        contact_last = rng.choice(SURNAMES)
        domain = f"{slugify(name)}.example"
        employers.append(
            DemoEmployer(
                ref=f"demo-{index:04d}",
                slug=slug,
                name=name,
                description=description,
                street=rng.choice(STREETS),
                house_number=str(rng.randint(1, 180)) + rng.choice(["", "", "", "a", "b"]),
                postal_code=postal_code.code,
                town=municipality.name,
                municipality_ags=municipality.ags,
                lon=lon,
                lat=lat,
                website=f"https://www.{domain}" if rng.random() < 0.6 else "",
                # Numbers the Bundesnetzagentur reserves for fiction: no real line.
                phone=f"030 23125 {rng.randint(0, 999):03d}",
                email=f"info@{domain}",
                contact_name=f"{contact_first} {contact_last}",
                contact_email=f"{slugify(contact_first)}.{slugify(contact_last)}@{domain}",
                employees=employees,
                sectors=list(sectors),
                occupations=list(occupations),
                family=family,
                certificates=certificates,
                offers_apprenticeships=employees >= 3 and rng.random() < 0.45,
                offers_internships=rng.random() < 0.5,
                open_positions=rng.choice([0, 0, 0, 1, 1, 2, 3, 5]),
                languages=["de", *sorted(rng.sample(LANGUAGES, rng.choice([0, 0, 1, 1, 2])))],
                status=rng.choices(statuses, status_weights)[0],
                created_at=created,
                confirmed_at=created + timedelta(days=rng.randint(0, 120)),
            )
        )
    return employers
