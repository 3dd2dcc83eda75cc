"""The shortlist page (Merkliste) on the server: it shows only published employers and
published events of its address, in the address's order, says how many entries are no longer
there without naming them, and gives each entry its contact links."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from app.extensions import db
from app.models import CompanyStatus, Event
from app.services import shortlist as shortlist_service


def article(html: str) -> str:
    """The page's own content (without the header's language form, which keeps the query)."""
    return html[html.index('<article class="shortlist-page"') : html.index("</article>")]


def names(html: str) -> list[str]:
    return re.findall(r'<h3 class="shortlist-name"><a [^>]*>([^<]+)</a>', html)


def page_config(html: str) -> dict:
    return json.loads(unescape(re.search(r'id="shortlist" data-config="([^"]*)"', html).group(1)))


@pytest.fixture
def listed(app, make_company, make_event):
    """Three published employers, one of each other status, a published and a pending event."""
    make_company("Bäckerei Sonne", slug="baeckerei-sonne", phone="02361 555", lon=7.19, lat=51.61)
    make_company("Elektro Mond", slug="elektro-mond", email="post@mond.example")
    make_company("Dachdecker Stern", slug="dachdecker-stern", website="https://stern.example")
    for status in CompanyStatus:
        if status is not CompanyStatus.PUBLISHED:
            make_company(f"Geheim {status.value}", slug=f"geheim-{status.value}", status=status)
    ids = [make_event("Jobmesse"), make_event("Noch geheim", status="pending")]
    with app.app_context():
        slugs = [db.session.get(Event, event_id).slug for event_id in ids]
    return {"event": slugs[0], "pending_event": slugs[1]}


def test_the_address_shows_its_published_entries_in_its_order(client, listed):
    response = client.get(
        f"/merkliste?arbeitgeber=dachdecker-stern,baeckerei-sonne&veranstaltungen={listed['event']}"
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert names(html) == ["Dachdecker Stern", "Bäckerei Sonne", "Jobmesse"]
    assert "nicht mehr verfügbar" not in html
    config = page_config(html)
    assert [(e["number"], e["type"], e["slug"]) for e in config["entries"]] == [
        (1, "employer", "dachdecker-stern"),
        (2, "employer", "baeckerei-sonne"),
        (3, "event", listed["event"]),
    ]
    sonne = config["entries"][1]
    assert (sonne["lat"], sonne["lon"]) == pytest.approx((51.61, 7.19))
    assert sonne["url"] == "/arbeitgeber/baeckerei-sonne"
    assert 'class="folium-map"' in html  # the small map
    assert "private" not in response.headers.get("Cache-Control", "")


def test_unpublished_and_unknown_entries_are_left_out_and_only_counted(client, listed):
    hidden = [f"geheim-{s.value}" for s in CompanyStatus if s is not CompanyStatus.PUBLISHED]
    address = (
        f"/merkliste?arbeitgeber=baeckerei-sonne,{','.join(hidden)},gibt-es-nicht,<script>"
        f"&veranstaltungen={listed['pending_event']},{listed['event']}"
    )
    html = client.get(address).get_data(as_text=True)
    assert names(html) == ["Bäckerei Sonne", "Jobmesse"]
    assert "Geheim" not in html and "Noch geheim" not in html
    assert "geheim" not in article(html)  # not even the slugs: the share link has the others
    missing = len(hidden) + 3
    assert f"{missing} Einträge sind nicht mehr verfügbar." in html
    assert [e["slug"] for e in page_config(html)["entries"]] == ["baeckerei-sonne", listed["event"]]


def test_one_missing_entry_is_said_in_the_singular(client, listed):
    html = client.get("/merkliste?arbeitgeber=baeckerei-sonne,geheim-pending").get_data(
        as_text=True
    )
    assert "1 Eintrag ist nicht mehr verfügbar." in html


def test_an_address_naming_only_missing_entries_says_so(client, listed):
    html = client.get("/merkliste?arbeitgeber=geheim-pending").get_data(as_text=True)
    assert "Keiner dieser Einträge ist mehr verfügbar." in html
    assert page_config(html)["entries"] == []
    assert 'class="folium-map"' not in html


def test_without_an_address_the_page_explains_and_its_script_reads_the_device(client, listed):
    html = client.get("/merkliste").get_data(as_text=True)
    config = page_config(html)
    assert config["requested"] is False and config["entries"] == []
    assert "<noscript>" in html and "braucht diese Seite JavaScript" in html
    assert 'id="shortlist-empty"' in html
    assert "/static/js/shortlist-page.js" in html


def test_each_entry_has_its_contact_links_and_the_print_text(client, listed):
    html = client.get(
        "/merkliste?arbeitgeber=baeckerei-sonne,elektro-mond,dachdecker-stern"
    ).get_data(as_text=True)
    assert 'href="tel:+492361555"' in html and ">02361 555<" in html
    assert 'href="mailto:post@mond.example"' in html and ">post@mond.example<" in html
    assert 'href="https://stern.example" rel="noopener"' in html
    assert 'href="https://www.openstreetmap.org/directions?to=51.610000%2C7.190000"' in html
    assert html.count('class="shortlist-remove secondary"') == 3


def test_the_share_link_is_the_lists_absolute_address(client, listed):
    html = client.get(
        "/merkliste?arbeitgeber=baeckerei-sonne,baeckerei-sonne,elektro-mond"
    ).get_data(as_text=True)
    field = re.search(r'id="share-url" type="url" readonly value="([^"]+)"', html).group(1)
    assert unescape(field) == "http://localhost/merkliste?arbeitgeber=baeckerei-sonne,elektro-mond"


def test_parse_slugs_keeps_each_once_in_order():
    assert shortlist_service.parse_slugs(" b, a,,b ,c") == ["b", "a", "c"]
    assert shortlist_service.parse_slugs(None) == []


def test_the_event_list_offers_merken_for_each_public_event_but_the_embed_does_not(client, listed):
    page = client.get("/veranstaltungen").get_data(as_text=True)
    assert 'data-shortlist-type="event"' in page
    assert re.search(r'class="shortlist-toggle"[^>]*data-shortlist-slug="[^"]+"', page)
    assert "Noch geheim" not in page
    embedded = client.get("/einbetten/veranstaltungen").get_data(as_text=True)
    assert "Jobmesse" in embedded
    assert "shortlist-toggle" not in embedded
