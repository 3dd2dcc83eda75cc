import re

from app.map import build_map
from geodata.regions import load_region


def parts():
    return build_map(
        load_region("emscher-lippe"),
        tile_url="https://tiles.example.test/{z}/{x}/{y}.png",
        attribution="Test tiles",
        static_url=lambda path: f"/static/{path}",
    )


def test_leaflet_comes_from_our_static_folder_not_a_cdn():
    header = str(parts().header)
    assert re.findall(r'(?:src|href)="([^"]+)"', header) == [
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet/leaflet.css",
    ]


def test_no_zoom_blocking_viewport_and_no_full_page_styles():
    header = str(parts().header)
    assert "user-scalable" not in header
    assert "html, body" not in header


def test_script_creates_the_named_map_with_the_configured_tiles():
    map_parts = parts()
    assert f"var {map_parts.name} = L.map(" in map_parts.script
    assert "https://tiles.example.test/{z}/{x}/{y}.png" in map_parts.script
    assert f'id="{map_parts.name}"' in map_parts.html
