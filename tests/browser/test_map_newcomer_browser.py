"""The map as a newcomer meets it (issue 11, part 2): errors from a link stay visible, the map
goes to the searched circle, "Zurück zur Suche" returns to the same view (on phones too), the
results come into view on a phone, tap targets are large enough, clusters never cover each
other, and the family-friendliness criteria show as badges."""

import itertools
from urllib.parse import urlsplit

import pytest

from tests.browser.test_start_page_browser import (
    loads,
    map_zoom,
    open_map,
    tab_to,
    wait_loaded,
)
from tests.conftest import TILE_URL
from tests.fixtures import EMPLOYERS, RE

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def known(make_company):
    return {letter: make_company(**fields) for letter, fields in EMPLOYERS.items()}


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport=PHONE, has_touch=True, is_mobile=True, locale="de-DE", device_scale_factor=2
    )
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    tile_host = TILE_URL.split("/{z}")[0]
    page.route(f"{tile_host}/**", lambda route: route.fulfill(status=204))
    yield page
    context.close()


def map_view(page):
    return page.evaluate(
        "() => { const m = window[JSON.parse(document.getElementById('atlas').dataset.config)"
        ".mapName]; const c = m.getCenter(); return [m.getZoom(), c.lat, c.lng]; }"
    )


def settle(page):
    """Wait until a move's delayed reload (if any) has finished."""
    page.wait_for_timeout(400)
    wait_loaded(page, loads(page))


def shown_on_map(page):
    return page.locator("#atlas .leaflet-marker-icon").count()


# --- errors that show ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter", "field", "words"),
    [
        ("?sector=ZZ&size=small", "sector", "#f-sector", "ZZ"),
        ("?near=Marl&radius_km=-1&size=small", "radius_km", "#f-radius", "Umkreis"),
        ("?bbox=1,2&size=small", "bbox", None, "Kartenausschnitt"),
    ],
)
def test_a_bad_link_shows_its_error_and_no_unfiltered_data(
    page, live_server, known, query, parameter, field, words
):
    open_map(page, f"{live_server}/{query}")
    settle(page)
    alert = page.locator("#filter-error")
    assert alert.is_visible()
    assert words in alert.text_content()
    # Nothing is shown as if it were filtered: no markers, no list, no count.
    assert shown_on_map(page) == 0
    assert page.locator("#employer-list li").count() == 0
    assert page.locator("#employer-count").text_content() == ""
    # The valid filters stay as they were.
    assert page.locator("#filter-form input[name=size][value=small]").is_checked()
    if field:
        # The message is next to the field, which keeps the value the link gave.
        note = page.locator(f".field-error[data-parameter={parameter}]")
        assert note.is_visible()
        assert page.locator(field).get_attribute("aria-invalid") == "true"
        assert note.get_attribute("id") in page.locator(field).get_attribute("aria-describedby")
        value = "ZZ" if parameter == "sector" else "-1"
        assert page.locator(field).input_value() == value
    # Moving the map loads nothing while the filter is invalid.
    page.evaluate(
        "() => window[JSON.parse(document.getElementById('atlas').dataset.config).mapName]"
        ".zoomIn(1, {animate: false})"
    )
    page.wait_for_timeout(500)
    assert shown_on_map(page) == 0 and alert.is_visible()
    assert page.errors == []


def test_correcting_the_field_clears_the_error_and_loads(page, live_server, known):
    open_map(page, f"{live_server}/?sector=ZZ")
    before = loads(page)
    page.select_option("#f-sector", "F")
    wait_loaded(page, before + 1)
    assert page.locator("#filter-error").is_hidden()
    assert page.locator(".field-error").count() == 0
    assert page.locator("#f-sector").get_attribute("aria-invalid") is None
    assert page.locator("#employer-count").text_content() == "2 Arbeitgeber gefunden"
    assert shown_on_map(page) == 2


# --- the map goes where you search -----------------------------------------------------------


def test_a_place_search_draws_and_fits_the_circle_and_keeps_it(page, live_server, known):
    open_map(page, live_server)
    settle(page)
    page.fill("#f-near", f"{RE[1]},{RE[0]}")
    page.select_option("#f-radius", "5")
    before = loads(page)
    page.locator("#f-near").press("Enter")
    wait_loaded(page, before + 1)
    settle(page)
    circle = page.locator("#atlas path.atlas-search-area")
    assert circle.count() == 1 and page.locator("#atlas path.atlas-search-centre").count() == 1
    box, frame = circle.bounding_box(), page.locator("#atlas .folium-map").bounding_box()
    # Fitted: the whole circle is in view and fills most of the map's height or width.
    assert box["x"] >= frame["x"] - 1 and box["y"] >= frame["y"] - 1
    assert box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
    assert box["y"] + box["height"] <= frame["y"] + frame["height"] + 1
    assert max(box["width"] / frame["width"], box["height"] / frame["height"]) > 0.6
    status = page.locator("#search-area-status")
    assert status.is_visible() and "5,0 km" in status.text_content()
    assert status.get_attribute("role") == "status"
    # The shapes take no clicks (markers below stay reachable) and stay when zooming.
    assert "leaflet-interactive" not in (circle.get_attribute("class") or "")
    zoom = map_zoom(page)
    page.locator(".leaflet-control-zoom-in").click()
    page.wait_for_function(f"() => location.hash.startsWith('#map={zoom + 1}/')")
    settle(page)
    assert page.locator("#atlas path.atlas-search-area").count() == 1
    # Clearing the place takes them away.
    before = loads(page)
    page.fill("#f-near", "")
    page.locator("#f-near").press("Enter")
    wait_loaded(page, before + 1)
    assert page.locator("#atlas path.atlas-search-area").count() == 0
    assert page.locator("#atlas path.atlas-search-centre").count() == 0
    assert status.is_hidden()


def test_a_permalink_with_a_view_keeps_that_view(page, live_server, known):
    open_map(page, f"{live_server}/?near=Marl&radius_km=25#map=14/51.61/7.2")
    settle(page)
    assert map_zoom(page) == 14
    assert page.locator("#atlas path.atlas-search-area").count() == 1


@pytest.mark.parametrize("key", ["Enter", " "])
def test_a_cluster_opens_from_the_keyboard(page, live_server, known, key):
    """Tab to a cluster, press Enter or Space: the map zooms into it as a click does."""
    open_map(page, live_server)
    settle(page)
    assert page.locator(".atlas-cluster").count()
    tab_to(
        page,
        lambda: page.evaluate("() => document.activeElement.classList.contains('atlas-cluster')"),
        "a cluster",
    )
    zoom = map_zoom(page)
    scroll = page.evaluate("() => window.scrollY")
    page.keyboard.press(key)
    page.wait_for_function(
        "(before) => Number(location.hash.split('=')[1].split('/')[0]) > before", arg=zoom
    )
    assert page.evaluate("() => window.scrollY") == scroll  # Space did not scroll the page
    assert page.errors == []


# --- phones: the whole flow ----------------------------------------------------------------


def test_phone_flow_filter_results_marker_detail_and_back_to_the_same_view(
    phone, live_server, known
):
    page = phone
    open_map(page, live_server)
    assert page.locator("#filters").get_attribute("open") is None
    page.locator("#filters summary").tap()
    page.select_option("#f-sector", "F")
    before = loads(page)
    page.locator("#filter-form button[type=submit]").tap()
    wait_loaded(page, before + 1)
    settle(page)
    # The panel folds and the results are in view (not some 1,900 px below).
    assert page.locator("#filters").get_attribute("open") is None
    count = page.locator("#employer-count")
    assert count.text_content() == "2 Arbeitgeber gefunden"
    count_box = count.bounding_box()
    assert 0 <= count_box["y"] < PHONE["height"] / 2
    map_box = page.locator("#atlas").bounding_box()
    assert map_box["y"] < PHONE["height"] and map_box["y"] + 200 < PHONE["height"]
    # Tap a cluster until it opens up into markers, tap a marker, open its page.
    for _ in range(4):
        if page.locator(".atlas-marker").count():
            break
        zoom = map_zoom(page)
        page.locator(".atlas-cluster").first.tap()
        page.wait_for_function(
            "(before) => Number(location.hash.split('=')[1].split('/')[0]) > before", arg=zoom
        )
        settle(page)
    page.locator(".atlas-marker").first.tap()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    name = popup.locator("h2").text_content()
    settle(page)  # the popup pans the map into view
    # The popup leaves the zoom buttons free.
    popup_box = page.locator(".leaflet-popup-content-wrapper").bounding_box()
    zoom_box = page.locator(".leaflet-control-zoom").bounding_box()
    assert popup_box["x"] >= zoom_box["x"] + zoom_box["width"] or (
        popup_box["y"] >= zoom_box["y"] + zoom_box["height"]
    )
    view = map_view(page)
    popup.locator(".details-link").tap()
    page.wait_for_url("**/arbeitgeber/**")
    assert page.locator("h1").text_content() == name
    page.locator(".back-link").tap()
    page.wait_for_url(f"{live_server}/?sector=F**")
    wait_loaded(page, 1)
    settle(page)
    assert page.locator("#f-sector").input_value() == "F"
    zoom, lat, lon = map_view(page)
    assert zoom == view[0]
    assert lat == pytest.approx(view[1], abs=1e-4) and lon == pytest.approx(view[2], abs=1e-4)
    assert page.errors == []


def test_a_view_in_the_address_is_honoured_on_a_phone(phone, live_server, known):
    for _ in range(3):  # the region's first zoom used to undo it, now and then
        open_map(phone, f"{live_server}/?near=Marl#map=14/51.61/7.2")
        settle(phone)
        zoom, lat, lon = map_view(phone)
        assert zoom == 14
        assert lat == pytest.approx(51.61, abs=1e-4) and lon == pytest.approx(7.2, abs=1e-4)
        assert urlsplit(phone.url).fragment.startswith("map=14/")


# --- tap targets and clusters ------------------------------------------------------------------


def _boxes(page, selector):
    return [
        page.locator(selector).nth(i).bounding_box() for i in range(page.locator(selector).count())
    ]


@pytest.mark.parametrize("on_phone", [False, True])
def test_tap_targets_are_at_least_44_px(page, phone, live_server, known, on_phone):
    page = phone if on_phone else page
    open_map(page, live_server)
    settle(page)
    markers = _boxes(page, "#atlas .leaflet-marker-icon")
    assert markers
    zoom_buttons = _boxes(page, "#atlas .leaflet-control-zoom a")
    assert len(zoom_buttons) == 2
    links = _boxes(page, "#employer-list .employer-link")
    assert links
    for box in markers + zoom_buttons + links:
        assert box["width"] >= 44 and box["height"] >= 44, box


def _overlap(a, b):
    return (
        a["x"] < b["x"] + b["width"] - 0.5
        and b["x"] < a["x"] + a["width"] - 0.5
        and a["y"] < b["y"] + b["height"] - 0.5
        and b["y"] < a["y"] + a["height"] - 0.5
    )


def test_clusters_and_markers_do_not_overlap_in_a_dense_view(app, page, live_server, make_company):
    app.config["CLUSTER_THRESHOLD"] = 3
    for row in range(6):
        for column in range(8):
            make_company(
                f"Dicht {row}-{column}", lon=RE[0] + column * 0.004, lat=RE[1] + row * 0.004
            )
    for zoom in (11, 12, 13):
        open_map(page, f"{live_server}/#map={zoom}/{RE[1] + 0.01}/{RE[0] + 0.014}")
        settle(page)
        atlas = page.locator("#atlas")
        assert atlas.get_attribute("data-cluster-sum") == atlas.get_attribute("data-total") == "48"
        assert int(atlas.get_attribute("data-clusters")) >= 1
        boxes = _boxes(page, "#atlas .leaflet-marker-icon")
        for a, b in itertools.combinations(boxes, 2):
            assert not _overlap(a, b), (zoom, a, b)
        # Every cluster's count can be read: its text is not covered by another marker.
        for label in page.locator("#atlas .atlas-cluster span").all():
            box = label.bounding_box()
            hit = page.evaluate(
                "([x, y]) => document.elementFromPoint(x, y).closest('.leaflet-marker-icon')"
                " ?.textContent",
                [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
            )
            assert hit == label.text_content()


# --- family-friendliness as badges -----------------------------------------------------------


def _criterion_label(page, key):
    return page.locator(f"#filter-form input[name=family][value={key}]").evaluate(
        "(input) => input.closest('label').textContent.trim()"
    )


def test_family_criteria_show_as_badges_in_list_popup_and_page(page, live_server, known):
    open_map(page, f"{live_server}/?q=Müller")
    expected = [_criterion_label(page, key) for key in EMPLOYERS["A"]["family"]]
    item = page.locator("#employer-list .employer-item").first
    badges = item.locator("ul.family-badges")
    assert badges.get_attribute("aria-label") == "Familienfreundlich"
    assert sorted(badges.locator("li").all_text_contents()) == sorted(expected)
    # The list the script renders after a change shows the same badges.
    before = loads(page)
    page.check("#filter-form input[name=family][value=part_time]")
    wait_loaded(page, before + 1)
    item = page.locator("#employer-list .employer-item", has_text="Bäckereien Müller")
    assert sorted(item.locator(".family-badge").all_text_contents()) == sorted(expected)
    # In the popup.
    page.locator(".atlas-marker").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.locator(".employer-popup").wait_for()  # the details come when the popup opens
    assert sorted(popup.locator(".family-badge").all_text_contents()) == sorted(expected)
    # On the employer's page.
    page.goto(f"{live_server}/arbeitgeber/test-{known['A']}")
    assert sorted(page.locator(".facts .family-badge").all_text_contents()) == sorted(expected)
    # In English too.
    page.goto(f"{live_server}/?q=Müller&lang=en")
    wait_loaded(page, 1)
    english = [_criterion_label(page, key) for key in EMPLOYERS["A"]["family"]]
    assert english != expected
    assert sorted(page.locator("#employer-list .family-badge").all_text_contents()) == sorted(
        english
    )


def test_markers_do_not_overlap_in_a_sparse_view(page, live_server, known):
    # Seven employers, fewer than the cluster threshold: shown one by one, except where their
    # markers would overlap (three lie within 150 m in Recklinghausen).
    open_map(page, live_server)
    settle(page)
    atlas = page.locator("#atlas")
    assert atlas.get_attribute("data-cluster-sum") == atlas.get_attribute("data-total") == "7"
    boxes = _boxes(page, "#atlas .leaflet-marker-icon")
    for a, b in itertools.combinations(boxes, 2):
        assert not _overlap(a, b), (a, b)
    # Each marker can be tapped where it is drawn.
    for marker in page.locator("#atlas .leaflet-marker-icon").all():
        box = marker.bounding_box()
        title = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('.leaflet-marker-icon')?.title",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert title == marker.get_attribute("title")


def test_the_legend_starts_folded_on_a_phone_and_opens_on_tap(phone, live_server, known):
    phone.goto(f"{live_server}/")
    phone.wait_for_selector("#atlas[data-loaded=true]")
    title = phone.locator(".atlas-legend-title")
    assert title.get_attribute("aria-expanded") == "false"
    assert phone.locator(".atlas-legend-list").is_hidden()
    assert title.bounding_box()["height"] >= 44
    title.tap()
    assert title.get_attribute("aria-expanded") == "true"
    assert phone.get_by_role("list", name="Legende", exact=True).is_visible()
    transit = phone.locator('.atlas-legend input[data-layer="transit"]')
    transit.tap()
    assert transit.is_checked()
    title.tap()
    assert phone.locator(".atlas-legend-list").is_hidden()
    assert phone.errors == []
