"""What search engines may find: the public pages for ``/sitemap.xml`` and its XML.

The pages are the published employers (the employer source's query without a filter) and the
public events that are not over (the events' page scope: published, cancelled ones included,
as their pages say so); each with the time of its last change. The XML is written with
ElementTree (sitemaps.org 0.9 with ``xhtml:link`` language alternates); the URLs come from
the caller, as services build none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree import ElementTree

from app.extensions import db
from app.features import events as event_features
from app.features.employers import EMPLOYERS
from app.models import Company, Event

SITEMAP_NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NAMESPACE = "http://www.w3.org/1999/xhtml"


@dataclass(frozen=True)
class PublicPage:
    """A public entry's page: its slug and when it last changed."""

    slug: str
    changed_at: datetime | None


@dataclass(frozen=True)
class SitemapUrl:
    """One ``<url>``: its address, last change and the language versions (hreflang -> URL)."""

    loc: str
    lastmod: datetime | None = None
    alternates: dict[str, str] = field(default_factory=dict)


def published_employers() -> list[PublicPage]:
    """Every published employer's slug and last change, by slug."""
    query = (
        EMPLOYERS.query(EMPLOYERS.empty_filter())
        .with_only_columns(Company.slug, Company.updated_at)
        .order_by(Company.slug)
    )
    return [PublicPage(slug, changed) for slug, changed in db.session.execute(query)]


def upcoming_events() -> list[PublicPage]:
    """Every public event that is not over (published; cancelled ones too), by slug."""
    source = event_features.scoped(cancelled=True)
    query = (
        source.query(source.empty_filter())
        .with_only_columns(Event.slug, Event.updated_at)
        .order_by(Event.slug)
    )
    return [PublicPage(slug, changed) for slug, changed in db.session.execute(query)]


def latest(pages: Iterable[PublicPage]) -> datetime | None:
    """The latest change among ``pages`` (None if there is none)."""
    times = [page.changed_at for page in pages if page.changed_at is not None]
    return max(times) if times else None


def sitemap_xml(urls: Iterable[SitemapUrl]) -> bytes:
    """A sitemaps.org ``<urlset>`` of ``urls`` (lastmod as W3C date-time, alternates as
    ``xhtml:link rel="alternate"``), UTF-8 with an XML declaration."""
    ElementTree.register_namespace("", SITEMAP_NAMESPACE)
    ElementTree.register_namespace("xhtml", XHTML_NAMESPACE)
    urlset = ElementTree.Element(f"{{{SITEMAP_NAMESPACE}}}urlset")
    for url in urls:
        entry = ElementTree.SubElement(urlset, f"{{{SITEMAP_NAMESPACE}}}url")
        ElementTree.SubElement(entry, f"{{{SITEMAP_NAMESPACE}}}loc").text = url.loc
        if url.lastmod is not None:
            lastmod = ElementTree.SubElement(entry, f"{{{SITEMAP_NAMESPACE}}}lastmod")
            lastmod.text = url.lastmod.replace(microsecond=0).isoformat()
        for language, href in url.alternates.items():
            ElementTree.SubElement(
                entry,
                f"{{{XHTML_NAMESPACE}}}link",
                {"rel": "alternate", "hreflang": language, "href": href},
            )
    return ElementTree.tostring(urlset, encoding="utf-8", xml_declaration=True)
