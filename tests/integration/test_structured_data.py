"""What search engines see (issue 14): schema.org JSON-LD on employer and event pages, the
sitemap, robots.txt, canonical and hreflang links, and the "about" page with the licences."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import Company, CompanyStatus, Event
from app.services import events as event_service
from tests.conftest import default_start, temporary_app

BERLIN = ZoneInfo("Europe/Berlin")
BASE = "https://atlas.example.test"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
HOSTILE = "Böse </script><script>alert(1)</script> & Co"


class HeadParser(HTMLParser):
    """The JSON-LD blocks' raw text, and the <link> elements of a page."""

    def __init__(self):
        super().__init__()
        self.blocks: list[str] = []
        self.links: list[dict] = []
        self._in_json = False
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts += 1
            if attributes.get("type") == "application/ld+json":
                self._in_json = True
                self.blocks.append("")
        elif tag == "link":
            self.links.append(attributes)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json = False

    def handle_data(self, data):
        if self._in_json:
            self.blocks[-1] += data


def parsed(html: str) -> HeadParser:
    parser = HeadParser()
    parser.feed(html)
    return parser


def json_ld(html: str) -> list[dict]:
    return [json.loads(block) for block in parsed(html).blocks]


def slug_of(app, model, entity_id: int) -> str:
    with app.app_context():
        return db.session.get(model, entity_id).slug


@pytest.fixture
def base_app(app, database_url):
    """The app with a BASE_URL, so every absolute address is predictable (on the same
    database as ``app``, which empties it afterwards)."""
    with temporary_app(database_url, BASE_URL=BASE) as app:
        yield app


# --- JSON-LD ----------------------------------------------------------------------------------


def test_an_employer_page_describes_the_employer(app, client, make_company):
    company_id = make_company(
        "Bäckerei Sonnenschein",
        description="Brot und Brötchen seit 1950.",
        street="Marktplatz",
        house_number="3",
        postal_code="45657",
        town="Recklinghausen",
        phone="02361 000000",
        email="info@baeckerei.example",
        website="https://baeckerei.example",
        employees=23,
        contact_name="Petra Privat",
        contact_email="petra.privat@example.org",
        lon=7.1975,
        lat=51.6146,
    )
    slug = slug_of(app, Company, company_id)
    response = client.get(f"/arbeitgeber/{slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    (data,) = json_ld(html)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "LocalBusiness"
    assert data["name"] == "Bäckerei Sonnenschein"
    assert data["description"] == "Brot und Brötchen seit 1950."
    assert data["url"] == f"http://localhost/arbeitgeber/{slug}"
    assert data["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "Marktplatz 3",
        "postalCode": "45657",
        "addressLocality": "Recklinghausen",
        "addressCountry": "DE",
    }
    assert data["geo"]["@type"] == "GeoCoordinates"
    assert data["geo"]["latitude"] == pytest.approx(51.6146)
    assert data["geo"]["longitude"] == pytest.approx(7.1975)
    assert data["numberOfEmployees"] == {"@type": "QuantitativeValue", "value": 23}
    assert data["telephone"] == "02361 000000"
    assert data["email"] == "info@baeckerei.example"
    assert data["sameAs"] == ["https://baeckerei.example"]
    block = parsed(html).blocks[0]
    for private in ("Petra Privat", "petra.privat", "contact_name", "contact_email"):
        assert private not in block


def test_a_name_cannot_break_out_of_the_json_ld_block(app, client, make_company, make_event):
    company_id = make_company(HOSTILE, description="</SCRIPT><!-- <script>alert(2)</script>")
    company_html = client.get(f"/arbeitgeber/{slug_of(app, Company, company_id)}").get_data(
        as_text=True
    )
    event_id = make_event(HOSTILE, description="<img src=x onerror=alert(3)>")
    event_html = client.get(f"/veranstaltungen/{slug_of(app, Event, event_id)}").get_data(
        as_text=True
    )
    for html in (company_html, event_html):
        assert "<script>alert(1)</script>" not in html
        assert "alert(2)</script>" not in html
        assert "<img src=x" not in html
        page = parsed(html)
        (block,) = page.blocks
        assert "<" not in block and ">" not in block
        # the whole block reaches the JSON parser: nothing ended the script element early
        assert json.loads(block)["name"] == HOSTILE


def test_an_event_page_describes_the_event(app, client, make_event, make_organisation):
    make_organisation("Kammer Test", website="https://kammer.example.test")
    start = default_start(10, hour=9)
    event_id = make_event(
        "Ausbildungsmesse",
        organisation="Kammer Test",
        kind="job_fair",
        starts_at=start,
        ends_at=start + timedelta(hours=6),
        venue="Festspielhaus",
        street="Otto-Burrmeister-Allee 1",
        postal_code="45657",
        town="Recklinghausen",
        location=(7.2, 51.61),
        description="Viele Betriebe an einem Ort.",
        free_of_charge=True,
        contact_email="orga.geheim@example.org",
    )
    slug = slug_of(app, Event, event_id)
    html = client.get(f"/veranstaltungen/{slug}").get_data(as_text=True)
    (data,) = json_ld(html)
    assert data["@type"] == "Event"
    assert data["name"] == "Ausbildungsmesse"
    assert data["description"] == "Viele Betriebe an einem Ort."
    assert data["url"] == f"http://localhost/veranstaltungen/{slug}"
    assert datetime.fromisoformat(data["startDate"]) == start
    assert datetime.fromisoformat(data["endDate"]) == start + timedelta(hours=6)
    assert re.search(r"T09:00:00\+0[12]:00$", data["startDate"])  # local time with its offset
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    location = data["location"]
    assert location["@type"] == "Place"
    assert location["name"] == "Festspielhaus"
    assert location["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "Otto-Burrmeister-Allee 1",
        "postalCode": "45657",
        "addressLocality": "Recklinghausen",
        "addressCountry": "DE",
    }
    assert location["geo"]["latitude"] == pytest.approx(51.61)
    assert location["geo"]["longitude"] == pytest.approx(7.2)
    assert data["organizer"] == {
        "@type": "Organization",
        "name": "Kammer Test",
        "url": "https://kammer.example.test",
    }
    offer = data["offers"]
    assert offer["@type"] == "Offer"
    assert offer["price"] == 0
    assert offer["priceCurrency"] == "EUR"
    assert offer["availability"] == "https://schema.org/InStock"
    assert "orga.geheim" not in parsed(html).blocks[0]


def test_a_cancelled_online_event(app, client, make_event):
    event_id = make_event(
        "Bewerbung per Video",
        attendance="online",
        online_url="https://meet.example.test/raum",
        location=None,
        postal_code="",
        town="",
        venue="",
        free_of_charge=False,
        price_note="15 Euro",
    )
    slug = slug_of(app, Event, event_id)
    (data,) = json_ld(client.get(f"/veranstaltungen/{slug}").get_data(as_text=True))
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert data["location"] == {"@type": "VirtualLocation", "url": "https://meet.example.test/raum"}
    assert "price" not in data["offers"]
    assert data["offers"]["description"] == "15 Euro"
    with app.test_request_context():
        event_service.mark_cancelled(db.session.get(Event, event_id), actor=None)
        db.session.commit()
    (data,) = json_ld(client.get(f"/veranstaltungen/{slug}").get_data(as_text=True))
    assert data["eventStatus"] == "https://schema.org/EventCancelled"
    assert data["location"]["@type"] == "VirtualLocation"
    # as on the page, a cancelled event's meeting link is no longer given away
    assert "meet.example.test" not in json.dumps(data)


def test_a_hybrid_event_has_both_locations(app, client, make_event):
    event_id = make_event(
        "Werkstatt Berufswahl", attendance="hybrid", online_url="https://meet.example.test/w"
    )
    (data,) = json_ld(
        client.get(f"/veranstaltungen/{slug_of(app, Event, event_id)}").get_data(as_text=True)
    )
    assert data["eventAttendanceMode"] == "https://schema.org/MixedEventAttendanceMode"
    assert [place["@type"] for place in data["location"]] == ["Place", "VirtualLocation"]


# --- sitemap and robots -----------------------------------------------------------------------


@pytest.fixture
def every_kind(app, make_company, make_event):
    """Employers in every status and events that are upcoming, cancelled, pending, rejected
    and past; their slugs by key."""
    slugs = {}
    for status in CompanyStatus:
        company_id = make_company(f"Betrieb {status.value}", status=status)
        slugs[f"company_{status.value}"] = slug_of(app, Company, company_id)
    events = {
        "upcoming": ("Infoabend", "published", default_start(5)),
        "cancelled": ("Abgesagt", "published", default_start(6)),
        "pending": ("Wartet", "pending", default_start(7)),
        "rejected": ("Abgelehnt", "rejected", default_start(8)),
        "past": ("Vorbei", "published", datetime.now(BERLIN) - timedelta(days=3)),
    }
    for key, (title, status, start) in events.items():
        event_id = make_event(title, status=status, starts_at=start)
        if key == "cancelled":
            with app.test_request_context():
                event_service.mark_cancelled(db.session.get(Event, event_id), actor=None)
                db.session.commit()
        slugs[f"event_{key}"] = slug_of(app, Event, event_id)
    return slugs


def sitemap_entries(body: bytes) -> dict[str, ElementTree.Element]:
    root = ElementTree.fromstring(body)  # noqa: S314 (our own response)
    assert root.tag == f"{SITEMAP}urlset"
    return {url.findtext(f"{SITEMAP}loc"): url for url in root.findall(f"{SITEMAP}url")}


def test_the_sitemap_lists_exactly_the_public_pages(base_app, every_kind):
    slugs = every_kind
    response = base_app.test_client().get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    entries = sitemap_entries(response.data)
    german = {loc for loc in entries if "lang=" not in loc}
    assert {loc for loc in german if "/arbeitgeber/" in loc} == {
        f"{BASE}/arbeitgeber/{slugs['company_published']}"
    }
    # upcoming public events, the cancelled one included (its page says so); not pending,
    # rejected or past ones
    assert {loc for loc in german if re.search(r"/veranstaltungen/(?!kalender$)[^/]+$", loc)} == {
        f"{BASE}/veranstaltungen/{slugs['event_upcoming']}",
        f"{BASE}/veranstaltungen/{slugs['event_cancelled']}",
    }
    for page in ("/", "/veranstaltungen", "/veranstaltungen/kalender", "/ueber"):
        assert f"{BASE}{page}" in german
    for status in CompanyStatus:
        if status is not CompanyStatus.PUBLISHED:
            assert not any(slugs[f"company_{status.value}"] in loc for loc in entries), status
    for hidden in ("event_pending", "event_rejected", "event_past"):
        assert not any(slugs[hidden] in loc for loc in entries)
    employer = entries[f"{BASE}/arbeitgeber/{slugs['company_published']}"]
    assert datetime.fromisoformat(employer.findtext(f"{SITEMAP}lastmod")).tzinfo is not None
    assert entries[f"{BASE}/"].findtext(f"{SITEMAP}lastmod")
    alternates = {
        link.get("hreflang"): link.get("href")
        for link in employer.findall(f"{XHTML}link")
        if link.get("rel") == "alternate"
    }
    page = f"{BASE}/arbeitgeber/{slugs['company_published']}"
    assert alternates == {
        "de": page,
        **{code: f"{page}?lang={code}" for code in ("en", "tr", "ar", "uk")},
        "x-default": page,
    }
    # every language version has its own entry, naming the same alternates
    for code in ("en", "tr", "ar", "uk"):
        assert f"{page}?lang={code}" in entries


def test_robots_txt(base_app):
    response = base_app.test_client().get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines
    for path in ("/agentur/", "/mitmachen/", "/api/"):
        assert f"Disallow: {path}" in lines
    assert not any(line.startswith("Disallow: /einbetten") for line in lines)
    assert f"Sitemap: {BASE}/sitemap.xml" in lines
    assert "Disallow: /" not in lines


# --- canonical and hreflang -------------------------------------------------------------------


def head_links(html: str) -> tuple[str | None, dict[str, str]]:
    links = parsed(html).links
    canonical = [link["href"] for link in links if link.get("rel") == "canonical"]
    alternates = {
        link["hreflang"]: link["href"]
        for link in links
        if link.get("rel") == "alternate" and "hreflang" in link
    }
    assert len(canonical) <= 1
    return (canonical[0] if canonical else None), alternates


def test_canonical_and_hreflang_on_public_pages(base_app, make_company, make_event):
    client = base_app.test_client()
    make_company("Kanon GmbH", slug="kanon-gmbh")
    event_slug = slug_of(base_app, Event, make_event("Infoabend"))
    pages = {
        # a list page keeps its filter, without tracking or language parameters
        "/?sector=C&utm_source=newsletter&q=": f"{BASE}/?sector=C",
        # a detail page drops its query (the way back to the search)
        "/arbeitgeber/kanon-gmbh?q=Kanon&sector=C": f"{BASE}/arbeitgeber/kanon-gmbh",
        f"/veranstaltungen/{event_slug}?fbclid=abc": f"{BASE}/veranstaltungen/{event_slug}",
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        canonical, alternates = head_links(response.get_data(as_text=True))
        assert canonical == expected, url
        joiner = "&" if "?" in expected else "?"
        assert alternates == {
            "de": expected,
            **{code: f"{expected}{joiner}lang={code}" for code in ("en", "tr", "ar", "uk")},
            "x-default": expected,
        }, url
    # the English version is canonical in English
    html = client.get("/arbeitgeber/kanon-gmbh?lang=en").get_data(as_text=True)
    canonical, _ = head_links(html)
    assert canonical == f"{BASE}/arbeitgeber/kanon-gmbh?lang=en"
    # an employer that does not exist: no canonical for the error page
    missing = client.get("/arbeitgeber/gibt-es-nicht")
    assert missing.status_code == 404
    assert head_links(missing.get_data(as_text=True)) == (None, {})


def test_workspace_pages_have_no_canonical(client):
    canonical, alternates = head_links(client.get("/agentur/anmelden").get_data(as_text=True))
    assert canonical is None and alternates == {}


# --- about page -------------------------------------------------------------------------------


def test_the_about_page_lists_the_licences(app, client):
    response = client.get("/ueber")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # who runs it: the operator named in the region's theme, else the region
    region = app.config["REGION"]
    operator = getattr(getattr(region, "theme", None), "operator", None)
    assert (operator.name if operator and operator.name else region.name) in html
    for text in (
        "EUPL-1.2",
        "Statistisches Bundesamt (Destatis)",
        "Bundesagentur für Arbeit",
        "BIBB",
        "OpenGeoDB",
        "DB Haltestellendaten",
        "CC BY 4.0",
        "Schuldaten NRW",
        "dl-de/by-2-0",
        "Leaflet",
        "icalendar",
        "recurring-ical-events",
        "LGPL-3.0-or-later",
        "BSD-2-Clause",
        "Test tiles",  # TILE_ATTRIBUTION of the test configuration
    ):
        assert text in html, text
    # linked from every page's footer
    assert 'href="/ueber"' in client.get("/").get_data(as_text=True)
    english = client.get("/ueber?lang=en")
    assert english.status_code == 200


def test_the_tile_credit_is_text_and_links_never_markup(database_url):
    attribution = (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
        '<img src=x onerror=alert(1)><a href="javascript:alert(2)">böse</a>'
    )
    with temporary_app(
        database_url,
        TILE_URL="https://tiles.example.test/{z}/{x}/{y}.png",
        TILE_ATTRIBUTION=attribution,
    ) as app:
        html = app.test_client().get("/ueber").get_data(as_text=True)
    credit = re.search(r'<td id="tile-credit">(.*?)</td>', html, re.S).group(1)
    assert (
        '<a href="https://www.openstreetmap.org/copyright" rel="noopener">OpenStreetMap</a>'
        in credit
    )
    assert "©" in credit
    assert "<img" not in credit and "javascript:" not in credit
    assert "böse" in credit


def test_license_file_and_metadata():
    from app.config import PROJECT_ROOT

    text = (PROJECT_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.lstrip().startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2")
    for article in ("1. Definitions", "5. Obligations of the Licensee", "15. Applicable Law"):
        assert article in text
    assert "Appendix" in text
    setup = (PROJECT_ROOT / "setup.cfg").read_text()
    assert re.search(r"^license = EUPL-1\.2$", setup, re.M)
    package = json.loads((PROJECT_ROOT / "package.json").read_text())
    assert package["license"] == "EUPL-1.2"
