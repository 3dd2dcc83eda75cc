"""Fictional partner organisations and about 20 upcoming events for local runs (``make run``).

Everything is marked "(fiktiv)" or "(Demo)" and placed in the configured region's
municipalities, so another region's demo works the same. Events are built by the write model
(:mod:`app.services.events`) and matched by their demo UID, so running it again adds nothing.
Dates are relative to the day of the first run: a weekly job café, a two-day training, an
all-day fair, online and hybrid offers, one cancelled event, and one that takes registrations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Company, CompanyStatus, Event, EventStatus, Organisation
from app.services import events, ical
from geodata.regions import Region

DEMO_SOURCE = "demo"

#: (name, kind, the agency reviews its events)
ORGANISATIONS = (
    ("Regionalagentur (Demo)", "agency", False),
    ("Jobcenter Musterkreis (fiktiv)", "jobcenter", False),
    ("Agentur für Arbeit Musterstadt (fiktiv)", "employment_agency", False),
    ("Handwerkskammer Musterland (fiktiv)", "chamber", True),
    ("Berufskolleg am Musterpark (fiktiv)", "school", True),
    ("Wirtschaftsförderung Musterstadt (fiktiv)", "municipality", False),
)


@dataclass(frozen=True)
class DemoEvent:
    """One demo event: days from the first run, local hours, where (the n-th municipality)."""

    ref: str
    title: str
    organisation: int
    kind: str
    day: int
    hours: tuple[int, int] = (10, 12)
    municipality: int = 0
    target_groups: tuple[str, ...] = ()
    attendance: str = "on_site"
    all_day_days: int = 0
    rrule: str = ""
    #: Occurrences of the series that are dropped (EXDATE), as weeks after the first.
    dropped_weeks: tuple[int, ...] = ()
    free: bool = True
    price_note: str = ""
    registration: int | None = None
    cancelled: bool = False
    employers: int = 0
    description: str = ""
    accessibility: str = "Barrierefreier Zugang, Aufzug vorhanden."
    venue: str = "Rathaus, Sitzungssaal"
    extra: dict = field(default_factory=dict)


DEMO_EVENTS = (
    DemoEvent(
        "jobcafe",
        "Job-Café: Betriebe der Region kennenlernen",
        1,
        "consultation",
        day=3,
        hours=(15, 17),
        municipality=0,
        target_groups=("jobseekers", "returners", "newcomers", "single_parents"),
        rrule="FREQ=WEEKLY;COUNT=12",
        dropped_weeks=(2,),
        employers=2,
        venue="Stadtteilzentrum, Café",
        description=(
            "Jede Woche: Kaffee, kurze Gespräche mit Betrieben aus der Nachbarschaft und Hilfe "
            "bei der Bewerbung. Ohne Anmeldung, Kinder dürfen mitkommen."
        ),
    ),
    DemoEvent(
        "infoabend-handwerk",
        "Infoabend: Ausbildung im Handwerk",
        3,
        "info_event",
        day=9,
        hours=(17, 19),
        municipality=1,
        target_groups=("school_leavers",),
        registration=25,
        employers=3,
        venue="Bildungszentrum, Raum 2",
        description=(
            "Ausbildungsbetriebe stellen Berufe vor: Elektronik, Anlagenmechanik, Friseurhandwerk "
            "und mehr. Eltern sind willkommen. Bitte melden Sie sich an, die Plätze sind begrenzt."
        ),
    ),
    DemoEvent(
        "ausbildungsmesse",
        "Ausbildungsmesse der Region",
        0,
        "job_fair",
        day=24,
        municipality=2,
        target_groups=("school_leavers", "jobseekers"),
        all_day_days=1,
        employers=4,
        venue="Stadthalle",
        description="Über 60 Betriebe, Bewerbungsmappen-Check und Fotoecke für Bewerbungsfotos.",
    ),
    DemoEvent(
        "wiedereinstieg",
        "Wiedereinstieg nach der Elternzeit: Teilzeitausbildung und Teilzeitstellen",
        2,
        "info_event",
        day=6,
        hours=(9, 11),
        municipality=3,
        target_groups=("returners", "single_parents"),
        attendance="hybrid",
        description=(
            "Wie Ausbildung und Arbeit in Teilzeit gehen, welche Betriebe das anbieten und welche "
            "Kinderbetreuung es gibt. Kinderbetreuung während der Veranstaltung auf Anfrage."
        ),
    ),
    DemoEvent(
        "digitale-akademie",
        "Digitale Akademie: Bewerben mit dem Smartphone",
        5,
        "workshop",
        day=11,
        hours=(10, 12),
        target_groups=("jobseekers", "school_leavers"),
        attendance="online",
        description="Lebenslauf am Handy, Online-Bewerbungsformulare, Videogespräche üben.",
        accessibility="Online, mit Untertiteln.",
    ),
    DemoEvent(
        "arbeitskreis-fachkraefte",
        "Arbeitskreis Fachkräftesicherung",
        0,
        "working_group",
        day=15,
        hours=(14, 16),
        municipality=4,
        target_groups=("employers",),
        description=(
            "Austausch der Betriebe, Kammern und Jobcenter. Diesmal: Ausbildung in Teilzeit."
        ),
    ),
    DemoEvent(
        "deutsch-beruf",
        "Deutsch für den Beruf: Schnupperstunde",
        2,
        "training",
        day=5,
        hours=(13, 15),
        municipality=5,
        target_groups=("newcomers",),
        description="Kennenlernen der Berufssprachkurse; Beratung auf Deutsch, Englisch, Arabisch.",
    ),
    DemoEvent(
        "anerkennung",
        "Sprechstunde: Anerkennung ausländischer Berufsabschlüsse",
        3,
        "consultation",
        day=8,
        hours=(9, 12),
        municipality=1,
        target_groups=("newcomers",),
        description="Bringen Sie Ihre Zeugnisse mit. Beratung ohne Termin.",
    ),
    DemoEvent(
        "pflege-infotag",
        "Infotag Pflegeberufe",
        1,
        "info_event",
        day=17,
        hours=(10, 14),
        municipality=6,
        target_groups=("school_leavers", "returners", "jobseekers"),
        employers=2,
        description="Pflegeschulen und Einrichtungen stellen die generalistische Ausbildung vor.",
    ),
    DemoEvent(
        "gabelstapler",
        "Weiterbildung: Gabelstaplerschein in zwei Tagen",
        2,
        "training",
        day=20,
        municipality=7,
        target_groups=("jobseekers",),
        all_day_days=2,
        free=False,
        price_note="Kosten übernimmt auf Antrag das Jobcenter.",
        description="Theorie und Praxis, mit Prüfung am zweiten Tag.",
    ),
    DemoEvent(
        "bewerbungsfoto",
        "Kostenlose Bewerbungsfotos",
        4,
        "workshop",
        day=12,
        hours=(14, 17),
        municipality=8,
        target_groups=("school_leavers",),
        description="Schülerinnen und Schüler des Berufskollegs fotografieren. Ohne Anmeldung.",
    ),
    DemoEvent(
        "alleinerziehende",
        "Treffpunkt Alleinerziehende: Arbeit und Kinderbetreuung",
        1,
        "consultation",
        day=10,
        hours=(9, 11),
        municipality=9,
        target_groups=("single_parents",),
        description="Frühstück, Austausch und Beratung zu Arbeitszeiten, Betreuung und Förderung.",
    ),
    DemoEvent(
        "it-quereinstieg",
        "Quereinstieg in die IT: Umschulungen im Überblick",
        2,
        "info_event",
        day=19,
        hours=(18, 20),
        target_groups=("jobseekers", "returners"),
        attendance="online",
        description="Fachinformatik, IT-Systemelektronik, Kaufleute für Digitalisierung.",
        accessibility="Online, Fragen auch im Chat.",
    ),
    DemoEvent(
        "speed-dating",
        "Azubi-Speed-Dating",
        3,
        "job_fair",
        day=27,
        hours=(15, 18),
        municipality=2,
        target_groups=("school_leavers",),
        employers=4,
        description="Zehn Minuten pro Betrieb. Lebenslauf mitbringen, Anzug nicht nötig.",
    ),
    DemoEvent(
        "gruenderinnen",
        "Gründen in Teilzeit: Infoabend für Frauen",
        5,
        "info_event",
        day=22,
        hours=(18, 20),
        municipality=10,
        target_groups=("returners", "single_parents"),
        description="Erfahrungen von Gründerinnen aus der Region, Förderprogramme, Beratung.",
    ),
    DemoEvent(
        "elternabend-berufswahl",
        "Elternabend Berufswahl",
        4,
        "info_event",
        day=14,
        hours=(18, 19),
        municipality=8,
        target_groups=("school_leavers",),
        description="Wie Eltern ihre Kinder bei der Berufswahl begleiten können.",
    ),
    DemoEvent(
        "lager-logistik",
        "Betriebsbesichtigung: Lager und Logistik",
        1,
        "info_event",
        day=30,
        hours=(10, 12),
        municipality=11,
        target_groups=("jobseekers", "newcomers"),
        employers=1,
        description="Rundgang durch ein Logistikzentrum mit Fragen an die Ausbilderin.",
        accessibility="Festes Schuhwerk nötig; Rundgang ebenerdig.",
    ),
    DemoEvent(
        "sommerfest-abgesagt",
        "Sommerfest der Ausbildungsbetriebe",
        0,
        "job_fair",
        day=13,
        hours=(12, 16),
        municipality=3,
        target_groups=("school_leavers",),
        cancelled=True,
        description="Wegen Bauarbeiten abgesagt. Ein neuer Termin folgt.",
    ),
    DemoEvent(
        "mint-werkstatt",
        "MINT-Werkstatt für Mädchen",
        4,
        "workshop",
        day=35,
        hours=(9, 13),
        municipality=5,
        target_groups=("school_leavers",),
        description="Löten, programmieren, messen: einen Vormittag lang ausprobieren.",
    ),
    DemoEvent(
        "bewerbungstraining",
        "Bewerbungstraining für Menschen mit Fluchtgeschichte",
        1,
        "training",
        day=16,
        hours=(9, 12),
        municipality=7,
        target_groups=("newcomers", "jobseekers"),
        description="In einfacher Sprache, mit Übersetzung auf Anfrage.",
    ),
)


def _organisations() -> list[Organisation]:
    """The demo organisations, created if missing (by name)."""
    found = []
    for name, kind, review in ORGANISATIONS:
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
        if organisation is None:
            organisation = Organisation(name=name, kind=kind, review_required=review)
            db.session.add(organisation)
            db.session.flush()
        found.append(organisation)
    return found


def _values(demo: DemoEvent, region: Region, first_day: date, employers: list[int]) -> dict:
    """The write model's values of one demo event."""
    municipality = region.municipalities[demo.municipality % len(region.municipalities)]
    postal = municipality.postal_codes[0] if municipality.postal_codes else None
    day = first_day + timedelta(days=demo.day)
    if demo.all_day_days:
        starts = datetime.combine(day, time(0), tzinfo=ical.zone())
        ends = starts + timedelta(days=demo.all_day_days)
    else:
        starts = datetime.combine(day, time(demo.hours[0]), tzinfo=ical.zone())
        ends = datetime.combine(day, time(demo.hours[1]), tzinfo=ical.zone())
    values = {
        "title": demo.title,
        "description": demo.description,
        "kind": demo.kind,
        "target_groups": list(demo.target_groups),
        "accessibility": demo.accessibility,
        "starts_at": starts,
        "ends_at": ends,
        "all_day": bool(demo.all_day_days),
        "rrule": demo.rrule,
        "exdates": [starts + timedelta(weeks=week) for week in demo.dropped_weeks],
        "attendance": demo.attendance,
        "free_of_charge": demo.free,
        "price_note": demo.price_note,
        "registration_open": demo.registration is not None,
        "capacity": demo.registration,
        "contact_email": "veranstaltungen@kmu-atlas.invalid",
        "company_ids": employers,
    }
    if demo.attendance != "online":
        lon, lat = (postal.lon, postal.lat) if postal else (municipality.lon, municipality.lat)
        values.update(
            venue=demo.venue,
            street="Musterstraße 1",
            postal_code=postal.code if postal else "",
            town=municipality.name,
            municipality_ags=municipality.ags,
            location=(lon + 0.003, lat + 0.002),
        )
    if demo.attendance != "on_site":
        values["online_url"] = "https://video.example.invalid/demo"
    return values


def _employers_in(ags: str, count: int) -> list[int]:
    if not count:
        return []
    return list(
        db.session.scalars(
            select(Company.id)
            .where(Company.status == CompanyStatus.PUBLISHED, Company.municipality_ags == ags)
            .order_by(Company.id)
            .limit(count)
        )
    )


def seed_demo_events(region: Region, today: date | None = None) -> int:
    """Add the demo organisations and the demo events not in the database yet; how many
    events were added."""
    organisations = _organisations()
    existing = set(db.session.scalars(select(Event.source_uid).where(Event.source == DEMO_SOURCE)))
    first_day = today or ical.local(events.now()).date()
    added = 0
    for demo in DEMO_EVENTS:
        uid = f"demo-{demo.ref}"
        if uid in existing:
            continue
        municipality = region.municipalities[demo.municipality % len(region.municipalities)]
        employers = _employers_in(municipality.ags, demo.employers)
        event = events.build(
            organisations[demo.organisation],
            _values(demo, region, first_day, employers),
            actor=None,
            source=DEMO_SOURCE,
            source_uid=uid,
        )
        event.status = EventStatus.PUBLISHED  # the demo's events count as reviewed
        event.published_at = events.now()
        if demo.cancelled:
            events.mark_cancelled(event, actor=None, note="Demo")
        added += 1
    db.session.commit()
    return added
