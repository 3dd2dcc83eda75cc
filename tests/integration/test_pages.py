"""The server-rendered pages: the list beside the map, detail pages, languages, bad input."""

import re

import pytest

from app.models import CompanyStatus
from tests.fixtures import EMPLOYERS


@pytest.fixture
def known(make_company):
    return {letter: make_company(**fields) for letter, fields in EMPLOYERS.items()}


def list_names(html):
    return re.findall(r'class="employer-link" href="[^"]*"[^>]*>([^<]+)</a>', html)


def test_start_page_lists_the_same_set_as_the_api(client, known):
    html = client.get("/?sector=F&size=small,medium").get_data(as_text=True)
    api = client.get("/api/employers/list?sector=F&size=small,medium").get_json()
    assert (
        list_names(html)
        == [i["name"] for i in api["items"]]
        == [
            "Elektro Kaya",
            "Straßenbau Schulte",
        ]
    )
    assert "2 Arbeitgeber gefunden" in html
    assert 'value="F" selected' in html
    assert 'value="small" checked' in html
    assert 'value="medium" checked' in html


def test_list_links_carry_the_filter_to_the_detail_page(client, known):
    html = client.get("/?sector=F&q=Elektro").get_data(as_text=True)
    assert f'href="/arbeitgeber/test-{known["C"]}?q=Elektro&amp;sector=F"' in html


def test_list_is_paginated_without_javascript(client, make_company):
    for number in range(25):
        make_company(f"Betrieb {number:02d}")
    html = client.get("/").get_data(as_text=True)
    assert len(list_names(html)) == 20
    assert "Seite 1 von 2" in html
    assert 'rel="next" href="/?sort=name&amp;page=2"' in html
    second = client.get("/?sort=name&page=2").get_data(as_text=True)
    assert list_names(second) == [f"Betrieb {n}" for n in range(20, 25)]


def test_bad_filter_shows_a_message_and_keeps_the_input(client, known):
    response = client.get("/?near=Atlantis&q=Bäcker&size=micro")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Bitte prüfen Sie die Eingabe (near)" in html
    assert "Den Ort „Atlantis“ kennen wir nicht" in html
    assert 'value="Atlantis"' in html
    assert 'value="Bäcker"' in html
    assert 'value="micro" checked' in html


def test_detail_page_shows_the_public_profile(client, make_company):
    make_company(
        "Tischlerei Holzwurm",
        slug="tischlerei-holzwurm",
        description="Möbel nach Maß",
        street="Hauptstraße",
        house_number="5",
        phone="02361 12345",
        email="info@holzwurm.example",
        website="https://holzwurm.example",
        employees=12,
        sectors=("16",),
        occupations=("22",),
        family=("part_time",),
        offers_apprenticeships=True,
        open_positions=2,
        languages=["de", "tr"],
        contact_name="Erika Privat",
        contact_email="erika@privat.example",
    )
    response = client.get("/arbeitgeber/tischlerei-holzwurm")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in (
        '<h1><bdi lang="de">Tischlerei Holzwurm</bdi></h1>',  # as written, in German
        "Möbel nach Maß",
        "Hauptstraße 5",
        'href="tel:+49236112345"',
        'href="mailto:info@holzwurm.example"',
        'href="https://holzwurm.example"',
        "Herstellung von Holz-, Flecht-, Korb- und Korkwaren (ohne Möbel)",
        "Kleines Unternehmen (10 bis 49): 12 Beschäftigte",
        "Ausbildungsplätze",
        "2 offene Stellen",
        "Teilzeit möglich",
        "Deutsch, Türkisch",
        'class="folium-map"',
    ):
        assert text in html, text
    assert "Erika Privat" not in html
    assert "erika@privat.example" not in html


@pytest.mark.parametrize("status", [s for s in CompanyStatus if s is not CompanyStatus.PUBLISHED])
def test_unpublished_detail_pages_do_not_exist(client, make_company, status):
    make_company("Nicht öffentlich", slug="nicht-oeffentlich", status=status)
    response = client.get("/arbeitgeber/nicht-oeffentlich")
    assert response.status_code == 404
    assert "Nicht öffentlich" not in response.get_data(as_text=True)


def test_detail_page_links_back_to_the_search_with_its_filters(client, make_company):
    make_company("Betrieb", slug="betrieb")
    html = client.get("/arbeitgeber/betrieb?sector=F&size=small&page=3").get_data(as_text=True)
    assert 'class="back-link" href="/?q=&amp;sector=F' not in html
    assert 'class="back-link" href="/?sector=F&amp;size=small"' in html
    html = client.get("/arbeitgeber/betrieb?sector=NOPE").get_data(as_text=True)
    assert 'class="back-link" href="/"' in html


def test_hostile_text_is_escaped_on_every_page(client, make_company):
    make_company(
        "<img src=x onerror=alert(1)>",
        slug="boese",
        description="${alert(1)} C:\\neu",
        website="javascript:alert(1)",
    )
    for path in ("/", "/arbeitgeber/boese"):
        html = client.get(path).get_data(as_text=True)
        assert "<img src=x onerror=alert(1)>" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert 'href="javascript:' not in html


def test_interface_switches_to_english_and_remembers_it(client, known):
    english = client.get("/?lang=en")
    html = english.get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html
    assert "Employers in Emscher-Lippe" in html
    assert "7 employers found" in html
    assert "Construction" in html  # taxonomy labels too
    assert "lang=en" in english.headers["Set-Cookie"]
    again = client.get(f"/arbeitgeber/test-{known['A']}").get_data(as_text=True)
    assert "Back to the search" in again
    assert "Manufacture of food products" in again
    back = client.get("/?lang=de").get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in back
    assert "Arbeitgeber in Emscher-Lippe" in back


def test_language_switch_keeps_the_current_search(client):
    html = client.get("/?sector=F&size=small&lang=de").get_data(as_text=True)
    switch = html.split('<form class="language-switch"', 1)[1].split("</form>", 1)[0]
    assert 'method="get" action="/"' in switch
    assert '<input type="hidden" name="sector" value="F">' in switch
    assert '<input type="hidden" name="size" value="small">' in switch
    assert 'type="hidden" name="lang"' not in switch
