"""Build the folium map and split it into parts our own templates embed.

folium renders the Leaflet map, its tiles and controls. Its default assets point at CDNs; here
they point at the copies the app serves itself (``static/vendor``, filled from the npm registry
at set-up). No employer data goes into folium: the page's own JavaScript fetches it as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import folium
from flask import current_app, url_for
from folium.map import FitBounds
from markupsafe import Markup

from app.config import DEFAULT_TILE_ATTRIBUTION, DEFAULT_TILE_ATTRIBUTIONS
from app.i18n import current_language
from geodata.regions import Region


@dataclass(frozen=True)
class MapParts:
    """The pieces of a rendered folium map: for <head>, for <body>, and its script."""

    name: str
    header: Markup
    html: Markup
    script: Markup


class AtlasMap(folium.Map):
    """A folium map whose Leaflet assets are served by the app, not by a CDN."""

    def __init__(self, *args, static_url: Callable[[str], str], **kwargs):
        super().__init__(*args, **kwargs)
        self.default_js = [("leaflet", static_url("vendor/leaflet/leaflet.js"))]
        self.default_css = [("leaflet_css", static_url("vendor/leaflet/leaflet.css"))]


def build_map(
    region: Region,
    *,
    tile_url: str,
    attribution: str,
    static_url: Callable[[str], str],
    focus: tuple[float, float] | None = None,
    marker: bool = True,
    layers: Callable[[folium.Map], None] | None = None,
) -> MapParts:
    """The region's base map: configured tiles, scale bar, initial view on the region.

    With ``focus`` (lon, lat) the map centres on that point and, if ``marker``, marks it
    (without any text). ``layers`` may add further layers before the map is rendered; they
    must hold only configuration and escaped text (see DESIGN.md on folium popups).
    """
    lon, lat = focus or region.center
    atlas_map = AtlasMap(
        location=[lat, lon],
        zoom_start=15 if focus else region.zoom,
        tiles=None,
        control_scale=True,
        static_url=static_url,
    )
    folium.TileLayer(tiles=tile_url, attr=attribution, name="Karte", max_zoom=19).add_to(atlas_map)
    if focus and marker:
        folium.Marker([lat, lon], keyboard=False).add_to(atlas_map)
    else:
        (west, south), (east, north) = region.bounds
        # Without animation: an animated first zoom would end after the page's script has
        # applied a view from the address (#map=z/lat/lon) and undo it (on narrow screens the
        # region fits one zoom level out, so the zoom animates there).
        fit = FitBounds([[south, west], [north, east]])
        fit.options["animate"] = False
        atlas_map.add_child(fit)
    if layers is not None:
        layers(atlas_map)

    root = atlas_map.get_root()
    root.render()
    # Keep only the asset links in the header. folium's map header is for a standalone page:
    # full-page styles, and a viewport that forbids zooming (a WCAG 1.4.4 failure). Our
    # templates bring their own.
    assets = {name for name, _ in atlas_map.default_js + atlas_map.default_css}
    for name in list(root.header._children):
        if name not in assets:
            del root.header._children[name]
    header = root.header.render()
    # folium's output holds only our configuration (region, tile settings), never user text.
    return MapParts(
        name=atlas_map.get_name(),
        header=Markup(header),  # noqa: S704
        html=Markup(root.html.render()),  # noqa: S704
        script=Markup(root.script.render()),  # noqa: S704
    )


def tile_attribution(language: str) -> str:
    """The tile credit: TILE_ATTRIBUTION as configured, or the OpenStreetMap credit in the
    interface language when it is left at its default."""
    attribution = current_app.config["TILE_ATTRIBUTION"]
    if attribution == DEFAULT_TILE_ATTRIBUTION:
        return DEFAULT_TILE_ATTRIBUTIONS.get(language, attribution)
    return attribution


def configured_map(**kwargs) -> MapParts:
    """The app's region map with the configured tiles and self-hosted assets (see build_map)."""
    return build_map(
        current_app.config["REGION"],
        tile_url=current_app.config["TILE_URL"],
        attribution=tile_attribution(current_language()),
        static_url=lambda path: url_for("static", filename=path),
        **kwargs,
    )
