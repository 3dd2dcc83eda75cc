"""The map tiles' credit as plain text and links, for pages that show it outside the map.

``TILE_ATTRIBUTION`` is configured as a small piece of HTML for Leaflet (``&copy; <a
href="…">OpenStreetMap</a> contributors``). Pages never insert configured HTML as markup:
this splits it into text parts and links (http and https only), which templates escape.
"""

from __future__ import annotations

from html.parser import HTMLParser


class _CreditParser(HTMLParser):
    """Collects (text, href or None) parts; every tag but ``<a>`` is dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[tuple[str, str | None]] = []
        self._href: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            self._href = href if href.startswith(("https://", "http://")) else None

    def handle_endtag(self, tag):
        if tag == "a":
            self._href = None

    def handle_data(self, data):
        if not data:
            return
        if self.parts and self.parts[-1][1] == self._href:
            text, href = self.parts[-1]
            self.parts[-1] = (text + data, href)
        else:
            self.parts.append((data, self._href))


def credit_parts(attribution: str) -> list[tuple[str, str | None]]:
    """``attribution`` (HTML) as (text, link or None) parts, entities decoded, in order."""
    parser = _CreditParser()
    parser.feed(attribution or "")
    parser.close()
    return [(text, href) for text, href in parser.parts if text]
