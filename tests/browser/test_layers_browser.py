"""Layer kinds on the map: off by default, switched on and off in the legend (also by
keyboard), their markers appear and vanish, popups show the kind's fields; axe finds nothing
and no request leaves the test server (tiles are answered locally)."""

import pytest

from app.extensions import db
from app.models import LayerFeature
from tests.browser.test_accessibility import axe_violations
from tests.browser.test_start_page_browser import loads, open_map, tab_to, wait_loaded
from tests.fixtures import EMPLOYERS, RE

pytestmark = pytest.mark.browser

LAYERS = {
    "childcare": ("Kita Testwiese", {"operator": "AWO", "opening_hours": "7–16 Uhr"}),
    "housing": ("Wohnung Test", {"rooms": 3, "rent": "700 €", "fictional": True}),
    "transit": ("Haltestelle Test", {"lines": "SB 20"}),
    "training": ("Berufskolleg Test", {"type": "Berufskolleg"}),
}


@pytest.fixture
def layered(app, make_company):
    for fields in EMPLOYERS.values():
        make_company(**fields)
    with app.app_context():
        for index, (kind, (name, properties)) in enumerate(LAYERS.items()):
            lon, lat = RE[0] + 0.01 * (index + 1), RE[1] - 0.01 * (index + 1)
            db.session.add(
                LayerFeature(
                    kind=kind,
                    name=name,
                    properties=properties,
                    location=f"SRID=4326;POINT({lon} {lat})",
                    source="test",
                )
            )
        db.session.commit()


def toggle(page, kind):
    before = loads(page)
    page.locator(f'.atlas-legend input[data-layer="{kind}"]').click()
    return before


def test_each_layer_switches_on_and_off(page, live_server, layered):
    open_map(page, f"{live_server}/#map=12/51.59/7.23")
    page.wait_for_timeout(400)
    wait_loaded(page, loads(page))
    for kind in LAYERS:
        assert page.locator(f".leaflet-marker-pane .layer-marker-{kind}").count() == 0
        assert not page.locator(f'.atlas-legend input[data-layer="{kind}"]').is_checked()
    assert not [url for url in page.requests if "/api/features/transit" in url]
    for kind, (name, properties) in LAYERS.items():
        before = toggle(page, kind)
        wait_loaded(page, before + 1)
        marker = page.locator(f".leaflet-marker-pane .layer-marker-{kind}")
        assert marker.count() == 1
        assert marker.get_attribute("title") == name
        colour = marker.locator("span").evaluate(
            "(node) => node.style.getPropertyValue('--layer-colour')"
        )
        assert colour.startswith("#")
        marker.click()
        popup = page.locator(".leaflet-popup-content .layer-popup").filter(has_text=name)
        assert popup.locator("h2").text_content() == name
        first_field = next(iter(k for k in properties if k != "fictional"))
        assert popup.locator(f'[data-field="{first_field}"] dd').text_content() == str(
            properties[first_field]
        )
        if properties.get("fictional"):
            assert "Fiktives Beispiel" in popup.text_content()
        toggle(page, kind)
        assert page.locator(f".leaflet-marker-pane .layer-marker-{kind}").count() == 0
        page.locator(".leaflet-popup-content .layer-popup").wait_for(state="detached")
    assert page.errors == []
    third_party = [u for u in page.requests if not u.startswith(live_server)]
    assert all(u.startswith("https://tiles.example.test/") for u in third_party), third_party


def test_legend_is_reachable_by_keyboard_and_has_no_axe_violations(page, live_server, layered):
    open_map(page, f"{live_server}/#map=12/51.59/7.23")
    page.wait_for_timeout(400)
    wait_loaded(page, loads(page))
    box = page.get_by_role("checkbox", name="Haltestellen")
    tab_to(
        page,
        lambda: box.evaluate("(node) => node === document.activeElement"),
        "the legend's checkbox",
    )
    before = loads(page)
    page.keyboard.press("Space")
    wait_loaded(page, before + 1)
    assert box.is_checked()
    assert page.locator(".leaflet-marker-pane .layer-marker-transit").count() == 1
    assert axe_violations(page) == []
