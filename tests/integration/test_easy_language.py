"""The page in Leichte Sprache (/leichte-sprache): German in every interface language, linked
from every page, in the sitemap once, with its German address as the canonical one."""

from __future__ import annotations

from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest

from tests.conftest import temporary_app

BASE = "https://atlas.example.test"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
PATH = "/leichte-sprache"


class Outline(HTMLParser):
    """The elements' attributes by id or class, the links, the head's links and the text."""

    def __init__(self, html: str):
        super().__init__()
        self.html_lang = None
        self.article: dict | None = None
        self.note = False
        self.links: list[str] = []
        self.article_links: list[str] = []
        self._in_article = False
        self.head_links: list[dict] = []
        self.text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = attrs.get("lang")
        if tag == "article" and "easy-language" in attrs.get("class", ""):
            self.article = attrs
            self._in_article = True
        if "easy-language-note" in attrs.get("class", ""):
            self.note = True
        if tag == "a":
            self.links.append(attrs.get("href", ""))
            if self._in_article:
                self.article_links.append(attrs.get("href", ""))
        if tag == "link":
            self.head_links.append(attrs)

    def handle_endtag(self, tag):
        if tag == "article":
            self._in_article = False

    def handle_data(self, data):
        self.text += data


@pytest.fixture
def base_app(app, database_url):
    """The app with a BASE_URL (on the same database as ``app``, which empties it)."""
    with temporary_app(database_url, BASE_URL=BASE) as app:
        yield app


def test_the_page_explains_the_atlas_in_easy_german(client):
    response = client.get(PATH)
    assert response.status_code == 200
    page = Outline(response.get_data(as_text=True))
    assert page.html_lang == "de"
    assert page.article["lang"] == "de" and page.article["dir"] == "ltr"
    assert not page.note  # no note in German
    text = " ".join(page.text.split())
    assert "Der KMU-Atlas in Leichter Sprache" in text
    for topic in ("Die Karte", "Die Filter", "Die Liste", "Die Veranstaltungen", "Die Merk-Liste"):
        assert topic in text
    assert "Der Such-Auftrag per E-Mail" in text and "Ihre Firma auf der Karte" in text
    # the agency of the region file is the contact
    region = client.application.config["REGION"]
    agency = region.theme.agency
    assert agency.name in text and agency.phone in text
    assert f"tel:{agency.phone.replace(' ', '')}" in page.article_links
    assert f"mailto:{agency.email}" in page.article_links
    # the places it explains are linked from the text
    assert {"/", "/veranstaltungen", "/mitmachen/"} <= set(page.article_links)


def test_in_another_language_the_page_stays_german_below_a_note(client):
    page = Outline(client.get(f"{PATH}?lang=en").get_data(as_text=True))
    assert page.html_lang == "en"
    assert page.note
    assert page.article["lang"] == "de"
    assert "Der KMU-Atlas in Leichter Sprache" in page.text


@pytest.mark.parametrize("where", ["start", "employer", "events", "about", "easy"])
def test_every_page_links_the_easy_language_page(client, make_company, where):
    company_id = make_company("Bäckerei Schulte", slug="baeckerei-schulte")
    assert company_id
    url = {
        "start": "/",
        "employer": "/arbeitgeber/baeckerei-schulte",
        "events": "/veranstaltungen",
        "about": "/ueber",
        "easy": PATH,
    }[where]
    response = client.get(url)
    assert response.status_code == 200
    page = Outline(response.get_data(as_text=True))
    assert page.links.count(PATH) >= 2  # in the header and in the footer


@pytest.mark.parametrize("language", ["", "?lang=en"])
def test_the_german_address_is_canonical_in_every_language(base_app, language):
    page = Outline(base_app.test_client().get(f"{PATH}{language}").get_data(as_text=True))
    canonical = [link["href"] for link in page.head_links if link.get("rel") == "canonical"]
    alternates = {
        link["hreflang"]: link["href"]
        for link in page.head_links
        if link.get("rel") == "alternate" and "hreflang" in link
    }
    assert canonical == [f"{BASE}{PATH}"]
    assert alternates == {"de": f"{BASE}{PATH}", "x-default": f"{BASE}{PATH}"}


def test_the_sitemap_lists_the_page_once(base_app):
    root = ElementTree.fromstring(base_app.test_client().get("/sitemap.xml").data)  # noqa: S314
    entries = [
        url for url in root.findall(f"{SITEMAP}url") if PATH in url.findtext(f"{SITEMAP}loc")
    ]
    assert [url.findtext(f"{SITEMAP}loc") for url in entries] == [f"{BASE}{PATH}"]
    alternates = {
        link.get("hreflang"): link.get("href") for link in entries[0].findall(f"{XHTML}link")
    }
    assert alternates == {"de": f"{BASE}{PATH}", "x-default": f"{BASE}{PATH}"}
