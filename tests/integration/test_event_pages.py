"""What jobseekers see of events (issue 13): the list, the month calendar, each event's page,
the map layer's data (/api/events) and the iCalendar feed and files, with the same filters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from app.extensions import db
from app.models import CompanyStatus, Event
from app.services import events as event_service
from tests.conftest import default_start

BERLIN = ZoneInfo("Europe/Berlin")
GLADBECK = {"postal_code": "45964", "town": "Gladbeck", "location": (6.987, 51.571)}
RECKLINGHAUSEN = {"postal_code": "45657", "town": "Recklinghausen", "location": (7.1975, 51.6146)}
ONLINE = {
    "attendance": "online",
    "online_url": "https://meet.example.test/raum",
    "location": None,
    "postal_code": "",
    "town": "",
    "venue": "",
}


def listed(html: str) -> list[str]:
    """The slugs of the list's items, in order (one per date)."""
    return re.findall(r'class="event-item[^"]*" data-event="([^"]+)"', html)


def slug_of(app, event_id: int) -> str:
    with app.app_context():
        return db.session.get(Event, event_id).slug


@pytest.fixture
def catalogue(app, make_event, make_organisation):
    """Five public events of different kinds, places and prices, and three that are not public."""
    make_organisation("Kammer Test", website="https://kammer.example.test")
    ids = {
        "training": make_event(
            "Schweißkurs für Einsteiger",
            kind="training",
            target_groups=["jobseekers"],
            starts_at=default_start(5),
            description="Grundlagen des Schweißens.",
            **GLADBECK,
        ),
        "online": make_event(
            "Bewerbung per Video",
            kind="info_event",
            organisation="Kammer Test",
            free_of_charge=False,
            price_note="15 Euro",
            starts_at=default_start(6),
            **ONLINE,
        ),
        "hybrid": make_event(
            "Werkstatt Berufswahl",
            kind="workshop",
            attendance="hybrid",
            online_url="https://meet.example.test/werkstatt",
            target_groups=["school_leavers"],
            starts_at=default_start(7),
            **RECKLINGHAUSEN,
        ),
        "fair": make_event("Jobmesse Recklinghausen", kind="job_fair", starts_at=default_start(8)),
        "consultation": make_event(
            "Beratung für Alleinerziehende",
            kind="consultation",
            target_groups=["single_parents"],
            starts_at=default_start(9),
            **GLADBECK,
        ),
        "pending": make_event("Noch nicht geprüft", status="pending", kind="training"),
        "rejected": make_event("Abgelehnte Veranstaltung", status="rejected", kind="training"),
        "past": make_event(
            "Vergangener Infoabend",
            starts_at=datetime.now(BERLIN) - timedelta(days=3),
            description="War schön.",
        ),
    }
    return {key: slug_of(app, value) for key, value in ids.items()}


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_public_upcoming_events_by_date(client, catalogue):
    response = client.get("/veranstaltungen")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert listed(html) == [
        catalogue[key] for key in ("training", "online", "hybrid", "fair", "consultation")
    ]
    assert "Noch nicht geprüft" not in html and "Abgelehnte Veranstaltung" not in html
    assert "Vergangener Infoabend" not in html
    assert "5 Termine in den nächsten sechs Monaten" in html
    # Date headings in German, the place or "Online", organiser and price.
    day = default_start(5).date()
    assert f'<time datetime="{day.isoformat()}">' in html
    assert "Weiterbildung" in html and "Online" in html and "15 Euro" in html
    assert "Kammer Test" in html and "kostenlos" in html
    # Links to the month view and the feed.
    assert 'href="/veranstaltungen/kalender"' in html
    assert 'href="/veranstaltungen.ics"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=training", ["training"]),
        ("kind=training,job_fair", ["training", "fair"]),
        ("municipality=05562014", ["training", "consultation"]),
        ("target_group=school_leavers", ["hybrid"]),
        ("free=no", ["online"]),
        ("free=yes", ["training", "hybrid", "fair", "consultation"]),
        ("attendance=online", ["online", "hybrid"]),
        ("attendance=on_site", ["training", "hybrid", "fair", "consultation"]),
        ("q=schweissen", ["training"]),
        ("q=Berufswahl Werkstatt", ["hybrid"]),
        ("kind=training&municipality=05562032", []),
    ],
)
def test_each_list_filter_narrows(client, catalogue, query, expected):
    response = client.get(f"/veranstaltungen?{query}")
    assert response.status_code == 200
    assert listed(response.get_data(as_text=True)) == [catalogue[key] for key in expected]


def test_the_list_keeps_the_filter_in_its_links_and_form(client, catalogue):
    html = client.get("/veranstaltungen?kind=training&municipality=05562014").get_data(as_text=True)
    assert 'href="/veranstaltungen.ics?kind=training&amp;municipality=05562014"' in html
    assert 'href="/veranstaltungen/kalender?kind=training&amp;municipality=05562014"' in html
    assert '<option value="training" selected>' in html
    assert '<option value="05562014" selected>' in html


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        ("kind=party", "kind", "Unbekannte Art der Veranstaltung „party“"),
        ("municipality=99999999", "municipality", "Unbekannte Gemeinde „99999999“"),
        ("target_group=<b>alle</b>", "target_group", "Unbekannte Zielgruppe „&lt;b&gt;alle"),
        ("free=vielleicht", "free", "„vielleicht“ passt nicht zu „kostenlos“"),
        ("attendance=mond", "attendance", "„mond“ passt nicht zu „vor Ort oder online“"),
        ("page=0", "page", "Die Seitenzahl muss eine ganze Zahl ab 1 sein."),
    ],
)
def test_a_bad_filter_value_is_explained_above_the_kept_form(
    client, catalogue, query, parameter, message
):
    response = client.get(f"/veranstaltungen?{query}&q=Kurs")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'data-parameter="{parameter}"' in html
    assert message in html
    assert "<b>alle</b>" not in html
    assert 'name="q" value="Kurs"' in html  # nothing typed is lost
    if parameter in ("kind", "municipality", "free", "attendance"):
        assert f'id="f-{parameter}" name="{parameter}" aria-invalid="true"' in html
    assert listed(html) == []


def test_a_series_is_shown_as_its_occurrences_and_paged(client, make_event, app):
    event_id = make_event(
        "Jobcafé",
        rrule="FREQ=DAILY;COUNT=35",
        starts_at=default_start(1, hour=15),
        ends_at=default_start(1, hour=17),
    )
    slug = slug_of(app, event_id)
    first = client.get("/veranstaltungen").get_data(as_text=True)
    assert listed(first) == [slug] * 30
    assert "35 Termine in den nächsten sechs Monaten" in first
    assert "Seite 1 von 2" in first
    second = client.get("/veranstaltungen?page=2").get_data(as_text=True)
    assert listed(second) == [slug] * 5
    # One heading per day.
    days = re.findall(r'<h3 class="event-day"><time datetime="([0-9-]+)">', first)
    assert days[:2] == [
        default_start(1).date().isoformat(),
        default_start(2).date().isoformat(),
    ]
    assert len(days) == 30


def test_cancelled_events_stay_in_the_list_marked(client, app, make_event):
    event_id = make_event("Abgesagter Vortrag")
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        event_service.mark_cancelled(event, actor=None)
        db.session.commit()
    html = client.get("/veranstaltungen").get_data(as_text=True)
    assert 'class="event-item event-cancelled"' in html
    assert "abgesagt" in html


def test_registration_badges(client, make_event):
    make_event("Mit Anmeldung", registration_open=True, capacity=20)
    html = client.get("/veranstaltungen").get_data(as_text=True)
    assert "Anmeldung möglich" in html and "ausgebucht" not in html


def test_the_event_page_carries_the_registration_form_when_it_takes_registrations(
    client, app, make_event
):
    open_slug = slug_of(app, make_event("Mit Anmeldung", registration_open=True, capacity=3))
    closed_slug = slug_of(app, make_event("Ohne Anmeldung"))
    html = client.get(f"/veranstaltungen/{open_slug}").get_data(as_text=True)
    assert f'action="/veranstaltungen/{open_slug}/anmelden"' in html
    assert 'name="csrf_token"' in html and 'id="r-email"' in html
    assert 'id="r-email"' not in client.get(f"/veranstaltungen/{closed_slug}").get_data(
        as_text=True
    )


# --- the calendar page ------------------------------------------------------------------------


def test_the_calendar_shows_a_month_with_a_series(client, app, make_event):
    start = datetime(2031, 3, 5, 15, 0, tzinfo=BERLIN)  # a Wednesday
    make_event(
        "Jobcafé im März",
        rrule="FREQ=WEEKLY;COUNT=6",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
    )
    make_event("Messe im April", kind="job_fair", starts_at=datetime(2031, 4, 2, 9, tzinfo=BERLIN))
    response = client.get("/veranstaltungen/kalender?monat=2031-03")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<caption>März 2031</caption>" in html
    assert '<abbr title="Montag">Mo.</abbr>' in html
    cells = re.findall(r'data-day="(2031-03-\d\d)">(.*?)</td>', html, re.S)
    with_events = [day for day, cell in cells if "Jobcafé im März" in cell]
    assert with_events == ["2031-03-05", "2031-03-12", "2031-03-19", "2031-03-26"]
    assert "Messe im April" not in html
    assert 'href="/veranstaltungen/kalender?monat=2031-02"' in html
    assert 'href="/veranstaltungen/kalender?monat=2031-04"' in html
    april = client.get("/veranstaltungen/kalender?monat=2031-04").get_data(as_text=True)
    april_days = [
        d for d, c in re.findall(r'data-day="([0-9-]+)">(.*?)</td>', april, re.S) if "<li" in c
    ]
    assert april_days == ["2031-04-02", "2031-04-09"]
    # The filters apply, and the month links keep them.
    filtered = client.get("/veranstaltungen/kalender?monat=2031-04&kind=job_fair")
    filtered_html = filtered.get_data(as_text=True)
    assert "Messe im April" in filtered_html and "Jobcafé im März" not in filtered_html
    assert 'href="/veranstaltungen/kalender?monat=2031-05&amp;kind=job_fair"' in filtered_html


def test_the_calendar_opens_at_the_next_event_when_this_month_has_none_left(
    client, make_event, monkeypatch
):
    today = datetime(2031, 3, 29, 12, tzinfo=BERLIN)
    monkeypatch.setattr(event_service, "now", lambda: today.astimezone(UTC))
    make_event("Messe im Mai", starts_at=datetime(2031, 5, 7, 9, tzinfo=BERLIN))
    html = client.get("/veranstaltungen/kalender").get_data(as_text=True)
    assert "<caption>Mai 2031</caption>" in html and "Messe im Mai" in html
    # Asked for by name, the empty month is shown as it is.
    named = client.get("/veranstaltungen/kalender?monat=2031-03").get_data(as_text=True)
    assert "<caption>März 2031</caption>" in named and "Messe im Mai" not in named
    # A filter nothing matches leaves this month.
    none = client.get("/veranstaltungen/kalender?kind=training").get_data(as_text=True)
    assert "<caption>März 2031</caption>" in none


@pytest.mark.parametrize("month", ["2031-13", "März", "2031-3", "1900-01"])
def test_a_bad_month_is_refused_with_a_message(client, month):
    response = client.get(f"/veranstaltungen/kalender?monat={month}&kind=training")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-parameter="monat"' in html
    assert "ist kein Monat" in html or "Der Kalender reicht" in html
    assert '<option value="training" selected>' in html


# --- an event's page --------------------------------------------------------------------------


def test_the_event_page_shows_everything_public(client, app, make_event, make_company):
    shown = make_company(name="Bäckerei Sonne", status=CompanyStatus.PUBLISHED)
    hidden = make_company(name="Geheim GmbH", status=CompanyStatus.PUBLISHED)
    event_id = make_event(
        "Tag der offenen Tür",
        description="Erste Zeile\nZweite Zeile <script>alert(1)</script>",
        accessibility="Rampe am Eingang.\nAufzug vorhanden.",
        target_groups=["school_leavers", "returners"],
        free_of_charge=False,
        price_note="5 Euro Materialkosten",
        venue="Rathaus",
        street="Rathausplatz 1",
        company_ids=[shown, hidden],
    )
    slug = slug_of(app, event_id)
    with app.app_context():  # archived after it was linked: no longer public
        from app.models import Company

        db.session.get(Company, hidden).status = CompanyStatus.ARCHIVED
        db.session.commit()
    response = client.get(f"/veranstaltungen/{slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1><bdi lang="de">Tag der offenen Tür</bdi></h1>' in html
    assert "Infoveranstaltung" in html
    assert "Rathaus, Rathausplatz 1, 45657 Recklinghausen" in html
    assert "Jobcenter Test" in html
    assert "Erste Zeile\nZweite Zeile &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "Schulabgängerinnen und Schulabgänger" in html and "Wiedereinstieg in den Beruf" in html
    assert "Rampe am Eingang.\nAufzug vorhanden." in html
    assert "5 Euro Materialkosten" in html
    assert f'href="/veranstaltungen/{slug}.ics"' in html
    with app.app_context():
        from app.models import Company

        shown_slug = db.session.get(Company, shown).slug
        hidden_slug = db.session.get(Company, hidden).slug
    assert f'href="/arbeitgeber/{shown_slug}"' in html
    assert "Geheim GmbH" not in html and hidden_slug not in html
    # A small map of the place, with the configured tiles and no CDN.
    assert 'class="event-map"' in html and "tiles.example.test" in html
    assert "unpkg" not in html and "cdn" not in html.lower()
    assert "schon stattgefunden" not in html


def test_an_online_event_has_its_link_and_no_map(client, app, make_event):
    slug = slug_of(app, make_event("Online-Sprechstunde", **ONLINE))
    html = client.get(f"/veranstaltungen/{slug}").get_data(as_text=True)
    assert 'href="https://meet.example.test/raum"' in html
    assert 'class="event-map"' not in html


def test_a_series_page_lists_its_next_ten_dates(client, app, make_event):
    slug = slug_of(
        app,
        make_event(
            "Wöchentliches Jobcafé",
            rrule="FREQ=WEEKLY",
            starts_at=default_start(-14, hour=15),
            ends_at=default_start(-14, hour=17),
        ),
    )
    html = client.get(f"/veranstaltungen/{slug}").get_data(as_text=True)
    dates = re.findall(r'<li><time datetime="([^"]+)">', html)
    assert len(dates) == 10
    first = datetime.fromisoformat(dates[0])
    assert first >= datetime.now(UTC) - timedelta(hours=2)
    assert "die nächsten 10 Termine" in html


def test_past_events_keep_their_page(client, catalogue):
    response = client.get(f"/veranstaltungen/{catalogue['past']}")
    assert response.status_code == 200
    assert "Diese Veranstaltung hat schon stattgefunden." in response.get_data(as_text=True)


@pytest.mark.parametrize("key", ["pending", "rejected"])
def test_unpublished_events_are_not_public(client, catalogue, key):
    slug = catalogue[key]
    assert client.get(f"/veranstaltungen/{slug}").status_code == 404
    assert client.get(f"/veranstaltungen/{slug}.ics").status_code == 404
    assert slug not in client.get("/veranstaltungen.ics").get_data(as_text=True)
    assert slug not in client.get("/api/events").get_data(as_text=True)


def test_unknown_slugs_are_404(client):
    assert client.get("/veranstaltungen/gibt-es-nicht").status_code == 404
    assert client.get("/veranstaltungen/gibt-es-nicht.ics").status_code == 404


def test_employer_and_event_pages_link_each_other(client, app, make_event, make_company):
    company_id = make_company(name="Metallbau Kaya", status=CompanyStatus.PUBLISHED)
    slug = slug_of(app, make_event("Werkstatttag bei Kaya", company_ids=[company_id]))
    other = slug_of(app, make_event("Ohne Kaya"))
    pending = slug_of(app, make_event("Kaya wartet", status="pending", company_ids=[company_id]))
    with app.app_context():
        from app.models import Company

        company_slug = db.session.get(Company, company_id).slug
    employer = client.get(f"/arbeitgeber/{company_slug}").get_data(as_text=True)
    assert f'href="/veranstaltungen/{slug}"' in employer
    assert other not in employer and pending not in employer
    event_page = client.get(f"/veranstaltungen/{slug}").get_data(as_text=True)
    assert f'href="/arbeitgeber/{company_slug}"' in event_page


# --- the map layer's data ---------------------------------------------------------------------


def test_api_events_is_a_feature_collection_of_located_public_events(client, app, catalogue):
    response = client.get("/api/events")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    data = response.get_json()
    assert data["type"] == "FeatureCollection"
    slugs = sorted(f["properties"]["slug"] for f in data["features"])
    assert slugs == sorted(catalogue[k] for k in ("training", "hybrid", "fair", "consultation"))
    feature = next(f for f in data["features"] if f["properties"]["slug"] == catalogue["training"])
    assert feature["geometry"] == {"type": "Point", "coordinates": [6.987, 51.571]}
    properties = feature["properties"]
    assert properties["title"] == "Schweißkurs für Einsteiger"
    assert properties["kind_label"] == "Weiterbildung"
    assert properties["url"] == f"/veranstaltungen/{catalogue['training']}"
    assert properties["organiser"] == "Jobcenter Test"
    assert properties["place"] == "Rathaus, 45964 Gladbeck"
    assert properties["cancelled"] is False and properties["all_day"] is False
    assert datetime.fromisoformat(properties["starts_at"]) == default_start(5)
    assert "contact_email" not in properties
    # The generic address is the same.
    assert client.get("/api/features/events").get_json()["total"] == 4


def test_api_events_leaves_out_cancelled_events_and_takes_the_filters(client, app, catalogue):
    with app.test_request_context():
        event = event_service.by_slug(catalogue["fair"])
        event_service.mark_cancelled(event, actor=None)
        db.session.commit()
    assert client.get("/api/events").get_json()["total"] == 3
    data = client.get("/api/events?municipality=05562014").get_json()
    assert sorted(f["properties"]["slug"] for f in data["features"]) == sorted(
        [catalogue["training"], catalogue["consultation"]]
    )
    assert client.get("/api/events?attendance=online").get_json()["total"] == 1  # hybrid
    listing = client.get("/api/events/list?kind=workshop").get_json()
    assert [item["slug"] for item in listing["items"]] == [catalogue["hybrid"]]
    assert listing["items"][0]["url"] == f"/veranstaltungen/{catalogue['hybrid']}"
    bad = client.get("/api/events?kind=party")
    assert bad.status_code == 400
    assert bad.get_json()["parameter"] == "kind"
    assert "Unbekannte Art der Veranstaltung" in bad.get_json()["message"]


def test_the_start_page_offers_the_event_layer_switched_off(client):
    html = client.get("/").get_data(as_text=True)
    assert "&#34;key&#34;: &#34;events&#34;" in html or '"key": "events"' in html
    assert "/api/features/events" in html
    assert 'href="/veranstaltungen"' in html  # the header link


# --- iCalendar --------------------------------------------------------------------------------


def feed_uids(app, body: bytes) -> dict[str, str]:
    """UID -> STATUS of every VEVENT in a feed."""
    cal = Calendar.from_ical(body)
    return {str(c["uid"]): str(c["status"]) for c in cal.walk("VEVENT")}


def uid_of(app, slug: str) -> str:
    with app.app_context():
        return event_service.by_slug(slug).uid


def test_the_feed_takes_the_list_filters(client, app, catalogue):
    response = client.get("/veranstaltungen.ics?kind=training&municipality=05562014")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert set(feed_uids(app, response.data)) == {uid_of(app, catalogue["training"])}
    everything = feed_uids(app, client.get("/veranstaltungen.ics").data)
    public = ("training", "online", "hybrid", "fair", "consultation", "past")
    assert set(everything) == {uid_of(app, catalogue[key]) for key in public}
    online = feed_uids(app, client.get("/veranstaltungen.ics?attendance=online").data)
    assert set(online) == {uid_of(app, catalogue[key]) for key in ("online", "hybrid")}
    cal = Calendar.from_ical(response.data)
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["url"]).endswith(f"/veranstaltungen/{catalogue['training']}")
    assert str(vevent["url"]).startswith("http")


def test_the_feed_keeps_cancelled_and_recent_events_but_not_older_ones(client, app, make_event):
    now = datetime.now(BERLIN)
    cancelled = make_event("Fällt aus")
    recent = make_event("Vor drei Wochen", starts_at=now - timedelta(days=21))
    old = make_event("Vor sechs Wochen", starts_at=now - timedelta(days=42))
    with app.test_request_context():
        event_service.mark_cancelled(db.session.get(Event, cancelled), actor=None)
        db.session.commit()
        uids = {
            key: db.session.get(Event, i).uid
            for key, i in (("cancelled", cancelled), ("recent", recent), ("old", old))
        }
    found = feed_uids(app, client.get("/veranstaltungen.ics").data)
    assert found[uids["cancelled"]] == "CANCELLED"
    assert found[uids["recent"]] == "CONFIRMED"
    assert uids["old"] not in found


def test_feed_and_file_answer_304_when_unchanged(client, app, catalogue):
    first = client.get("/veranstaltungen.ics?kind=training")
    etag = first.headers["ETag"]
    again = client.get("/veranstaltungen.ics?kind=training", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    one = client.get(f"/veranstaltungen/{catalogue['training']}.ics")
    assert one.status_code == 200
    assert one.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert one.headers["Content-Disposition"] == (
        f'attachment; filename="{catalogue["training"]}.ics"'
    )
    [vevent] = Calendar.from_ical(one.data).walk("VEVENT")
    assert str(vevent["summary"]) == "Schweißkurs für Einsteiger"
    cached = client.get(
        f"/veranstaltungen/{catalogue['training']}.ics",
        headers={"If-None-Match": one.headers["ETag"]},
    )
    assert cached.status_code == 304
    # A change gives a new ETag.
    with app.test_request_context():
        event = event_service.by_slug(catalogue["training"])
        event_service.mark_cancelled(event, actor=None)
        db.session.commit()
    changed = client.get("/veranstaltungen.ics?kind=training", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_bad_feed_filter_is_a_plain_text_400(client):
    response = client.get("/veranstaltungen.ics?municipality=12345678")
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Unbekannte Gemeinde „12345678“" in response.get_data(as_text=True)


# --- language ---------------------------------------------------------------------------------


def test_the_pages_speak_english_on_request(client, app, catalogue):
    html = client.get("/veranstaltungen?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html
    weekday = default_start(5).strftime("%A")  # Babel's English names are the C locale's
    assert weekday in html
    assert "Town or municipality" in html
    assert 'action="/veranstaltungen"' in html and 'name="lang" value="en"' in html
    bad = client.get("/veranstaltungen?lang=en&municipality=99999999")
    assert bad.status_code == 400
    assert "Unknown municipality “99999999”" in bad.get_data(as_text=True)
    detail = client.get(f"/veranstaltungen/{catalogue['training']}?lang=en").get_data(as_text=True)
    assert "Location on the map" in detail
    assert weekday in detail
    calendar = client.get("/veranstaltungen/kalender?monat=2031-03&lang=en").get_data(as_text=True)
    assert "<caption>March 2031</caption>" in calendar
    assert '<abbr title="Monday">Mon</abbr>' in calendar
