"""The start page: a folium map whose assets the app serves itself."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from tests.conftest import TILE_URL


class UrlCollector(HTMLParser):
    """Collects every URL an element of the page would load or link to."""

    def __init__(self):
        super().__init__()
        self.urls = []
        self.scripts = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "action", "poster", "data") and value:
                self.urls.append(value)
            if name == "srcset" and value:
                self.urls.extend(part.split()[0] for part in value.split(","))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def page_urls(html):
    collector = UrlCollector()
    collector.feed(html)
    inline = re.findall(r"(?:https?:)?//[^\s\"'`)]+", " ".join(collector.scripts))
    return collector.urls + inline


def test_start_page_references_no_host_but_the_app_and_the_tile_server(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # the app's own host ("localhost" here) appears in the absolute canonical and hreflang links
    hosts = {urlsplit(url).netloc for url in page_urls(html)} - {"", "localhost"}
    assert hosts == {urlsplit(TILE_URL).netloc}


def test_start_page_loads_leaflet_and_our_module_from_static(client):
    html = client.get("/").get_data(as_text=True)
    # each under its content's hash (app/static_assets.py)
    urls = {url.split("?v=")[0]: url for url in page_urls(html)}
    assert "/static/vendor/leaflet/leaflet.js" in urls
    assert "/static/vendor/leaflet/leaflet.css" in urls
    assert "/static/js/atlas.js" in urls
    for path in ("/static/vendor/leaflet/leaflet.js", "/static/js/atlas.js"):
        with client.get(urls[path]) as response:
            assert response.status_code == 200, path


def test_start_page_is_a_folium_map_with_the_configured_tiles(client):
    html = client.get("/").get_data(as_text=True)
    assert 'class="folium-map"' in html
    assert "L.tileLayer(" in html
    assert TILE_URL in html
    assert "Test tiles" in html
    assert '<html lang="de" dir="ltr">' in html
