"""The legal pages (issue 17): /impressum and /barrierefreiheit from the region file, with
marked placeholders for what the operator has not given yet; the legal links in every footer
and on the embed pages; the sitemap."""

import json
import re

import pytest

from tests.conftest import temporary_app
from tests.unit.test_region_create import minimal_region

HOSTILE = '<script>alert("x")</script>'
TODO = "[Vom Betreiber zu ergänzen:"


def region_app(database_url, tmp_path, **theme):
    """An app whose region file (in ``tmp_path``) has ``theme``."""
    folder = tmp_path / "testland"
    folder.mkdir()
    (folder / "region.json").write_text(json.dumps(minimal_region(**theme)), encoding="utf-8")
    return temporary_app(database_url, REGION=str(folder))


FULL_THEME = {
    "operator": {
        "name": f"Wirtschaftsförderung Testland AöR {HOSTILE}",
        "representative": "Erika Mustermann (Vorstand)",
        "email": "impressum@testland.example",
        "phone": "02361 12345",
        "address": ["Testweg 7", "45657 Testhausen"],
    },
    "imprint": {
        "register": "Amtsgericht Testhausen, HRA 4711",
        "vat_id": "DE 123 456 789",
        "supervisory_authority": "Bezirksregierung Münster",
        "content_responsible": {"name": "Max Muster", "address": ["Testweg 7", "45657 Testhausen"]},
    },
    "accessibility": {
        "conformity": "partial",
        "statement_date": "2026-11-02",
        "method": "Selbstbewertung mit BITV-Test-Kriterien",
        "feedback": {"name": "Team Barrierefreiheit", "email": "barrierefrei@testland.example"},
        "enforcement": {
            "name": "Ombudsstelle Testland",
            "address": ["Amtsweg 1", "40000 Landeshauptstadt"],
        },
        "enforcement_checked": True,
    },
}


def test_the_imprint_shows_the_operator_from_the_region_file(database_url, tmp_path):
    with region_app(database_url, tmp_path, **FULL_THEME) as app:
        page = app.test_client().get("/impressum")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Impressum</h1>" in html
    for text in (
        "Wirtschaftsförderung Testland AöR",
        'Vertreten durch: <bdi lang="de">Erika Mustermann (Vorstand)</bdi>',
        "Testweg 7",
        "45657 Testhausen",
        'href="tel:0236112345"',
        'href="mailto:impressum@testland.example"',
        "Amtsgericht Testhausen, HRA 4711",
        "DE123456789",  # spaces taken out
        "Bezirksregierung Münster",
        "Verantwortlich für den Inhalt nach § 18 Abs. 2 MStV",
        "Max Muster",
    ):
        assert text in html, text
    assert TODO not in html
    # region texts are autoescaped
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_the_accessibility_statement_shows_the_region_s_details(database_url, tmp_path):
    with region_app(database_url, tmp_path, **FULL_THEME) as app:
        page = app.test_client().get("/barrierefreiheit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Erklärung zur Barrierefreiheit</h1>" in html
    assert "mit den Anforderungen teilweise vereinbar" in html
    assert '<time datetime="2026-11-02">2. November 2026</time>' in html
    assert "Selbstbewertung mit BITV-Test-Kriterien" in html
    feedback = html[html.index('id="a11y-feedback"') : html.index('id="a11y-enforcement"')]
    assert 'href="mailto:barrierefrei@testland.example"' in feedback
    assert "Ombudsstelle Testland" in html and "Amtsweg 1" in html
    assert TODO not in html and "[Vom Betreiber zu prüfen:" not in html
    # the known limitations are named
    limitations = html[html.index('id="a11y-limitations"') :]
    for text in ("Liste unter der Karte", "Tastatur", "Gebärdensprache", "maschinell übersetzt"):
        assert text in limitations, text
    assert HOSTILE not in html


def test_missing_details_are_marked_placeholders_never_invented(database_url, tmp_path):
    with region_app(database_url, tmp_path) as app:  # a theme with no contacts at all
        client = app.test_client()
        imprint = client.get("/impressum").get_data(as_text=True)
        statement = client.get("/barrierefreiheit").get_data(as_text=True)
    placeholders = re.findall(
        r'<mark class="placeholder operator-todo">\[([^]]+)\]</mark>', imprint
    )
    assert placeholders == [
        "Vom Betreiber zu ergänzen: Name und Rechtsform des Betreibers",
        "Vom Betreiber zu ergänzen: Anschrift (Straße, Postleitzahl, Ort)",
        "Vom Betreiber zu ergänzen: vertretungsberechtigte Person",
        "Vom Betreiber zu ergänzen: Telefonnummer",
        "Vom Betreiber zu ergänzen: E-Mail-Adresse",
        "Vom Betreiber zu ergänzen: Register und Registernummer, falls vorhanden",
        "Vom Betreiber zu ergänzen: USt-IdNr., falls vorhanden",
        "Vom Betreiber zu ergänzen: Aufsichtsbehörde, falls der Betreiber einer Aufsicht"
        " untersteht",
        "Vom Betreiber zu ergänzen: Name und Anschrift der verantwortlichen Person",
    ]
    assert "mailto:" not in imprint[imprint.index("<main") : imprint.index("</main>")]
    for what in (
        "Stand der Vereinbarkeit",
        "Datum der Erklärung",
        "Methode",
        "Kontakt für Rückmeldungen zur Barrierefreiheit",
        "Durchsetzungs- oder Schlichtungsstelle",
    ):
        assert f"{TODO[1:]} {what}" in statement, what
    assert "vereinbar." not in statement  # no conformity claimed


def test_details_that_do_not_apply_are_left_out(database_url, tmp_path):
    theme = {
        "operator": FULL_THEME["operator"],
        "imprint": {"register": False, "vat_id": False, "content_responsible": False},
        "accessibility": {"enforcement": FULL_THEME["accessibility"]["enforcement"]},
    }
    with region_app(database_url, tmp_path, **theme) as app:
        client = app.test_client()
        imprint = client.get("/impressum").get_data(as_text=True)
        statement = client.get("/barrierefreiheit").get_data(as_text=True)
    assert "Registereintrag" not in imprint
    assert "Umsatzsteuer" not in imprint
    assert "§ 18 Abs. 2 MStV" not in imprint
    assert "Aufsichtsbehörde, falls" in imprint  # not given: still asked for
    # no feedback contact of its own: the operator takes the reports
    feedback = statement[
        statement.index('id="a11y-feedback"') : statement.index('id="a11y-enforcement"')
    ]
    assert 'href="mailto:impressum@testland.example"' in feedback
    # an enforcement body not checked by the operator is marked so
    assert (
        "[Vom Betreiber zu prüfen: Name, Anschrift und Kontakt der Durchsetzungsstelle" in statement
    )


@pytest.mark.parametrize("region", ["emscher-lippe", "soest"])
def test_the_bundled_regions_legal_pages_name_the_nrw_enforcement_body(database_url, region):
    with temporary_app(database_url, REGION=region) as app:
        client = app.test_client()
        imprint = client.get("/impressum")
        statement = client.get("/barrierefreiheit")
    assert imprint.status_code == statement.status_code == 200
    name = app.config["REGION"].theme.operator.name
    assert name in imprint.get_data(as_text=True)
    html = statement.get_data(as_text=True)
    assert (
        "Ombudsstelle für barrierefreie Informationstechnik des Landes Nordrhein-Westfalen" in html
    )
    assert "Vom Betreiber zu prüfen" in html  # its address is to be verified by the operator
    assert "teilweise vereinbar" in html


def footer_links(html: str) -> list[str]:
    nav = re.search(
        r'<nav class="legal-links[^"]*" aria-label="Rechtliches">(.*?)</nav>', html, re.S
    )
    assert nav, "no legal links"
    return re.findall(r'<a href="([^"]+)"', nav.group(1))


LEGAL = ["/impressum", "/datenschutz", "/barrierefreiheit"]


def test_every_kind_of_page_links_to_the_three_legal_pages(app, client, auth, make_company):
    slug = "dachdeckerei-kante"
    make_company("Dachdeckerei Kante", slug=slug)
    for path in ("/", f"/arbeitgeber/{slug}", "/veranstaltungen", "/mitmachen/", "/impressum"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert footer_links(page.get_data(as_text=True)) == LEGAL, path
    missing = client.get("/gibt-es-nicht")
    assert missing.status_code == 404
    assert footer_links(missing.get_data(as_text=True)) == LEGAL
    auth.login("curator")
    workspace = client.get("/agentur/")
    assert workspace.status_code == 200
    assert footer_links(workspace.get_data(as_text=True)) == LEGAL


def test_the_embed_pages_link_to_the_legal_pages_in_a_new_window(app, client, make_company):
    make_company()
    for path in ("/einbetten/karte", "/einbetten/veranstaltungen"):
        html = client.get(path).get_data(as_text=True)
        assert footer_links(html) == LEGAL, path
        nav = html[html.index('class="legal-links embed-legal"') :]
        assert nav.count('target="_blank" rel="noopener"') == 3


def test_the_legal_pages_are_in_the_sitemap(app, client):
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    for path in LEGAL:
        assert f"<loc>http://localhost{path}</loc>" in sitemap, path
        assert f"<loc>http://localhost{path}?lang=en</loc>" in sitemap, path


def test_the_legal_pages_in_english(client):
    imprint = client.get("/impressum?lang=en").get_data(as_text=True)
    assert "<h1>Legal notice</h1>" in imprint
    statement = client.get("/barrierefreiheit?lang=en").get_data(as_text=True)
    assert "<h1>Accessibility statement</h1>" in statement
    assert "[To be completed by the operator:" in statement
