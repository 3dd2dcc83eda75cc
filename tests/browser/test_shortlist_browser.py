"""The shortlist (Merkliste) in Chromium: adding from the employer page, the map's popups and
the list; the page of the device's list with its map and "Entfernen"; printing it as one A4
page; a shared link opened in another browser and taken over; unpublished entries never
shown; contact in one tap from a popup; axe on the page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from app.models import CompanyStatus
from tests.browser.test_accessibility import axe_violations
from tests.browser.test_start_page_browser import open_map
from tests.conftest import TILE_URL

pytestmark = pytest.mark.browser

KEY = "kmu-atlas-merkliste"


def stored(page) -> list[dict]:
    return page.evaluate(f"JSON.parse(localStorage.getItem('{KEY}') || '[]')")


def store(page, live_server, entries: list[dict]):
    """Put ``entries`` on this browser's shortlist (from a page of the site)."""
    if not page.url.startswith(live_server):
        page.goto(f"{live_server}/offline")
    page.evaluate(f"(entries) => localStorage.setItem('{KEY}', JSON.stringify(entries))", entries)


def open_shortlist(page, live_server):
    """Open /merkliste and wait until it has opened the address of the device's list."""
    page.goto(f"{live_server}/merkliste")
    page.wait_for_url(re.compile(r".*/merkliste\?.+"))
    page.locator("#shortlist").wait_for()


def shown_names(page) -> list[str]:
    return page.locator(".shortlist-name a").all_text_contents()


def markers(page) -> int:
    return page.locator(".shortlist-marker").count()


@pytest.fixture
def known(make_company):
    return {
        "sonne": make_company(
            "Bäckerei Sonne",
            slug="baeckerei-sonne",
            phone="02361 / 55 5",
            email="info@sonne.example",
            website="https://sonne.example",
            street="Marktplatz",
            house_number="1",
            lon=7.1975,
            lat=51.6146,
        ),
        "mond": make_company("Elektro Mond", slug="elektro-mond", lon=7.10, lat=51.65),
        "stern": make_company("Dachdecker Stern", slug="dachdecker-stern", lon=7.05, lat=51.60),
    }


def test_add_from_the_employer_page_the_map_popup_and_the_list(page, live_server, known):
    page.goto(f"{live_server}/arbeitgeber/baeckerei-sonne")
    keep = page.get_by_role("button", name="Merken: Bäckerei Sonne")
    assert keep.get_attribute("aria-pressed") == "false"
    box = keep.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    keep.click()
    # The same button now says "Gemerkt" (pressed).
    kept = page.get_by_role("button", name="Gemerkt: Bäckerei Sonne")
    assert kept.get_attribute("aria-pressed") == "true"
    assert kept.text_content() == "Gemerkt"
    assert page.locator("#shortlist-link").text_content() == "Merkliste (1)"

    open_map(page, live_server)
    page.locator("#employer-list .employer-item", has_text="Elektro Mond").get_by_role(
        "button", name="Merken: Elektro Mond"
    ).click()
    page.locator(".atlas-marker[title='Dachdecker Stern']").click(force=True)
    popup = page.locator(".leaflet-popup-content")
    popup.get_by_role("button", name="Merken: Dachdecker Stern").click()
    assert popup.get_by_role("button", name="Gemerkt: Dachdecker Stern").is_visible()
    # The list's button for Bäckerei Sonne knows it is already on the shortlist.
    sonne = page.locator("#employer-list .employer-item", has_text="Bäckerei Sonne")
    assert sonne.locator(".shortlist-toggle").get_attribute("aria-pressed") == "true"
    assert stored(page) == [
        {"type": "employer", "slug": "baeckerei-sonne"},
        {"type": "employer", "slug": "elektro-mond"},
        {"type": "employer", "slug": "dachdecker-stern"},
    ]
    assert page.locator("#shortlist-link").text_content() == "Merkliste (3)"

    page.locator("#shortlist-link").click()
    page.wait_for_url(
        f"{live_server}/merkliste?arbeitgeber=baeckerei-sonne,elektro-mond,dachdecker-stern"
    )
    assert shown_names(page) == ["Bäckerei Sonne", "Elektro Mond", "Dachdecker Stern"]
    assert markers(page) == 3
    assert page.errors == []


def test_an_event_is_kept_from_its_page(page, live_server, make_event, app):
    from app.extensions import db
    from app.models import Event

    event_id = make_event("Jobmesse Marl")
    with app.app_context():
        slug = db.session.get(Event, event_id).slug
    page.goto(f"{live_server}/veranstaltungen/{slug}")
    page.get_by_role("button", name="Merken: Jobmesse Marl").click()
    assert stored(page) == [{"type": "event", "slug": slug}]
    open_shortlist(page, live_server)
    assert shown_names(page) == ["Jobmesse Marl"]
    assert page.locator("#shortlist-events .shortlist-dates li").count() == 1
    assert "Rathaus" in page.locator("#shortlist-events .shortlist-address").text_content()


def test_remove_from_the_shortlist_page(page, live_server, known):
    store(
        page,
        live_server,
        [{"type": "employer", "slug": slug} for slug in ("baeckerei-sonne", "elektro-mond")],
    )
    open_shortlist(page, live_server)
    assert shown_names(page) == ["Bäckerei Sonne", "Elektro Mond"]
    assert page.locator("#shortlist-shared").is_hidden()  # the device's own list
    page.get_by_role("button", name="Entfernen: Bäckerei Sonne").click()
    assert shown_names(page) == ["Elektro Mond"]
    assert markers(page) == 1
    assert stored(page) == [{"type": "employer", "slug": "elektro-mond"}]
    assert page.url == f"{live_server}/merkliste?arbeitgeber=elektro-mond"
    assert page.locator("#shortlist-link").text_content() == "Merkliste (1)"
    assert "nicht mehr auf der Merkliste" in page.locator("#shortlist-status").text_content()
    page.get_by_role("button", name="Entfernen: Elektro Mond").click()
    assert stored(page) == []
    assert page.locator("#shortlist-status").text_content() == "Ihre Merkliste ist jetzt leer."
    page.goto(f"{live_server}/merkliste")
    assert page.locator("#shortlist-empty").is_visible()
    assert page.url == f"{live_server}/merkliste"


def test_the_print_view_is_one_clean_a4_page(page, live_server, make_company):
    towns = [
        "Marl",
        "Dorsten",
        "Haltern am See",
        "Gladbeck",
        "Herten",
        "Datteln",
        "Waltrop",
        "Oer-Erkenschwick",
    ]
    for number, town in enumerate(towns):
        make_company(
            f"Betrieb Nummer {number + 1}",
            slug=f"betrieb-{number + 1}",
            street="Lange Straße",
            house_number=str(number + 10),
            postal_code=f"4{number}000",
            town=town,
            phone=f"02361 {number}0 20 30",
            email=f"kontakt{number + 1}@betrieb.example",
            website=f"https://www.betrieb-nummer-{number + 1}.example",
            lon=7.0 + number * 0.04,
            lat=51.55 + (number % 3) * 0.04,
        )
    store(page, live_server, [{"type": "employer", "slug": f"betrieb-{n + 1}"} for n in range(8)])
    open_shortlist(page, live_server)
    assert markers(page) == 8
    page.emulate_media(media="print")
    for hidden in (
        ".site-header",
        ".site-footer",
        "#shortlist-print",
        "#shortlist-share",
        ".contact-actions",
        ".shortlist-remove",
    ):
        assert page.locator(hidden).first.is_hidden(), hidden
    text = page.locator("#shortlist").inner_text()
    for number, town in enumerate(towns):
        assert f"Lange Straße {number + 10}, 4{number}000 {town}" in text
        assert f"02361 {number}0 20 30" in text
        assert f"https://www.betrieb-nummer-{number + 1}.example" in text
    map_box = page.locator(".shortlist-map").bounding_box()
    assert 250 <= map_box["height"] <= 280  # 70 mm
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1


def test_a_shared_link_opens_the_same_list_in_another_browser(browser, page, live_server, known):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    store(
        page,
        live_server,
        [
            {"type": "employer", "slug": "dachdecker-stern"},
            {"type": "employer", "slug": "elektro-mond"},
        ],
    )
    open_shortlist(page, live_server)
    page.get_by_role("button", name="Link teilen").click()
    field = page.get_by_label("Link zu dieser Merkliste")
    field.wait_for()
    link = field.input_value()
    assert link == f"{live_server}/merkliste?arbeitgeber=dachdecker-stern,elektro-mond"
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert page.locator("#shortlist-status").text_content().startswith("Der Link ist kopiert")

    other = browser.new_context(locale="de-DE")
    other.route(f"{TILE_URL.split('/{z}')[0]}/**", lambda route: route.fulfill(status=204))
    phone = other.new_page()
    store(phone, live_server, [{"type": "employer", "slug": "baeckerei-sonne"}])
    phone.goto(link)
    assert shown_names(phone) == ["Dachdecker Stern", "Elektro Mond"]
    assert phone.locator("#shortlist-shared").is_visible()
    assert phone.locator(".shortlist-remove").first.is_hidden()
    phone.get_by_role("button", name="In meine Merkliste übernehmen").click()
    assert phone.locator("#shortlist-shared").is_hidden()
    assert phone.locator(".shortlist-remove").first.is_visible()
    assert stored(phone) == [
        {"type": "employer", "slug": "baeckerei-sonne"},
        {"type": "employer", "slug": "dachdecker-stern"},
        {"type": "employer", "slug": "elektro-mond"},
    ]
    assert phone.locator("#shortlist-link").text_content() == "Merkliste (3)"
    other.close()


def test_unpublished_entries_never_appear(page, live_server, known, make_company):
    make_company("Geheimer Betrieb", slug="geheimer-betrieb", status=CompanyStatus.PENDING)
    store(
        page,
        live_server,
        [
            {"type": "employer", "slug": "geheimer-betrieb"},
            {"type": "employer", "slug": "elektro-mond"},
        ],
    )
    open_shortlist(page, live_server)
    assert shown_names(page) == ["Elektro Mond"]
    assert (
        page.locator("#shortlist-missing").text_content() == "1 Eintrag ist nicht mehr verfügbar."
    )
    assert "Geheimer Betrieb" not in page.content()
    assert markers(page) == 1


def test_a_popup_contacts_in_one_tap_without_asking_another_site(page, live_server, known):
    open_map(page, live_server)
    page.locator(".atlas-marker[title='Bäckerei Sonne']").click(force=True)
    popup = page.locator(".leaflet-popup-content")
    links = {
        name: popup.get_by_role("link", name=f"{name}: Bäckerei Sonne").get_attribute("href")
        for name in ("Anrufen", "E-Mail schreiben", "Website", "Route")
    }
    assert links == {
        "Anrufen": "tel:+492361555",
        "E-Mail schreiben": "mailto:info@sonne.example",
        "Website": "https://sonne.example/",
        "Route": "https://www.openstreetmap.org/directions?to=51.614600%2C7.197500",
    }
    for name in links:
        box = popup.get_by_role("link", name=f"{name}: Bäckerei Sonne").bounding_box()
        assert box["height"] >= 44, name
    page.wait_for_load_state("networkidle")
    hosts = {urlsplit(url).netloc for url in page.requests}
    assert hosts == {urlsplit(live_server).netloc, urlsplit(TILE_URL).netloc}


def test_the_shortlist_page_has_no_wcag_violations(page, live_server, known):
    store(page, live_server, [{"type": "employer", "slug": "baeckerei-sonne"}])
    open_shortlist(page, live_server)
    assert axe_violations(page) == []
    page.goto(f"{live_server}/merkliste?arbeitgeber=elektro-mond,dachdecker-stern")
    assert page.locator("#shortlist-shared").is_visible()
    assert axe_violations(page) == []
