"""The map page in a real browser: filters, markers and clusters, list, permalink, language,
hostile text and third-party requests."""

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models import CompanyStatus
from tests.browser.navigation import new_document
from tests.conftest import TILE_URL
from tests.fixtures import EMPLOYERS

pytestmark = pytest.mark.browser

RECKLINGHAUSEN = (7.1975, 51.6146)


def wait_loaded(page, loads):
    """Wait until the page has finished its ``loads``-th data load."""
    page.wait_for_function(
        "(loads) => { const atlas = document.getElementById('atlas');"
        " return atlas && Number(atlas.dataset.loads) >= loads"
        " && atlas.dataset.loaded === 'true'; }",
        arg=loads,
        timeout=15_000,
    )


def open_map(page, url):
    page.goto(url)
    wait_loaded(page, 1)


def map_zoom(page):
    return page.evaluate(
        "() => window[JSON.parse(document.getElementById('atlas').dataset.config).mapName]"
        ".getZoom()"
    )


def tab_to(page, is_focused, what: str, tries: int = 200) -> None:
    """Press Tab until ``is_focused()`` holds; fail naming ``what`` when it never does."""
    for _ in range(tries):
        page.keyboard.press("Tab")
        if is_focused():
            return
    pytest.fail(f"{what} cannot be reached with Tab")


def loads(page):
    return int(page.locator("#atlas").get_attribute("data-loads"))


@pytest.fixture
def known(make_company):
    return {letter: make_company(**fields) for letter, fields in EMPLOYERS.items()}


def test_map_shows_the_published_employers_and_their_count(page, live_server, make_company):
    lon, lat = RECKLINGHAUSEN
    for offset in range(3):
        make_company(f"Betrieb {offset}", lon=lon + offset * 0.08, lat=lat)
    make_company("Noch nicht freigegeben", lon=lon, lat=lat - 0.08, status=CompanyStatus.PENDING)
    open_map(page, live_server)
    assert page.locator("#employer-count").text_content() == "3 Arbeitgeber gefunden"
    assert page.locator("#atlas").get_attribute("data-markers") == "3"
    assert page.locator(".atlas-marker").count() == 3
    assert page.locator("#employer-list li").count() == 3
    assert "Noch nicht freigegeben" not in page.content()
    assert page.errors == []


def test_two_filters_update_map_count_list_and_url_without_reload(page, live_server, client, known):
    open_map(page, live_server)
    page.evaluate("window.__sameDocument = true")
    page.select_option("#f-sector", "F")
    wait_loaded(page, 2)
    page.check("#filter-form input[name=size][value=small]")
    wait_loaded(page, 3)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened

    api_list = client.get("/api/employers/list?sector=F&size=small").get_json()
    api_map = client.get("/api/employers?sector=F&size=small").get_json()
    assert api_list["total"] == api_map["total"] == 1
    assert page.locator("#employer-count").text_content() == "1 Arbeitgeber gefunden"
    assert page.locator("#employer-list .employer-link").all_text_contents() == [
        item["name"] for item in api_list["items"]
    ]
    assert page.locator("#atlas").get_attribute("data-cluster-sum") == str(api_map["total"])
    assert page.locator(".atlas-marker").count() == 1
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"sector": ["F"], "size": ["small"]}
    assert urlsplit(page.url).fragment.startswith("map=")
    assert page.locator("#filters .badge").text_content() == "2 aktiv"


def test_clusters_count_up_to_the_total_and_zoom_in_on_click(app, page, live_server, known):
    app.config["CLUSTER_THRESHOLD"] = 3
    open_map(page, live_server)
    atlas = page.locator("#atlas")
    assert int(atlas.get_attribute("data-clusters")) >= 1
    assert atlas.get_attribute("data-cluster-sum") == atlas.get_attribute("data-total") == "7"
    zoom_before = map_zoom(page)
    page.locator(".atlas-cluster").first.click()
    # The zoom animates, then the new view's data load: wait until the address shows the
    # deeper zoom (written as that load starts) and nothing is in flight any more.
    page.wait_for_function(
        "(before) => Number(location.hash.split('=')[1].split('/')[0]) > before"
        " && document.getElementById('atlas').dataset.loaded === 'true'",
        arg=zoom_before,
        timeout=10_000,
    )
    assert int(atlas.get_attribute("data-total")) < 7  # the view now holds fewer employers


def test_permalink_reopens_the_same_result_and_view(page, live_server, known):
    open_map(page, live_server)
    page.check("#filter-form input[name=family][value=part_time]")
    wait_loaded(page, 2)
    page.fill("#f-near", "Recklinghausen")
    page.locator("#f-near").press("Enter")
    wait_loaded(page, 3)
    count = page.locator("#employer-count").text_content()
    names = page.locator("#employer-list .employer-link").all_text_contents()
    permalink = page.url
    assert "near=Recklinghausen" in permalink and "#map=" in permalink

    fresh = page.context.new_page()
    fresh.goto(permalink)
    wait_loaded(fresh, 1)
    assert fresh.locator("#employer-count").text_content() == count
    assert fresh.locator("#employer-list .employer-link").all_text_contents() == names
    assert fresh.locator("#filter-form input[name=family][value=part_time]").is_checked()
    assert fresh.locator("#f-near").input_value() == "Recklinghausen"
    zoom = urlsplit(permalink).fragment.split("=")[1].split("/")[0]
    assert str(map_zoom(fresh)) == zoom
    fresh.close()


def test_detail_page_and_back_to_the_search(page, live_server, known):
    open_map(page, live_server)
    page.select_option("#f-sector", "F")
    wait_loaded(page, 2)
    page.locator("#employer-list .employer-link", has_text="Elektro Kaya").click()
    page.wait_for_url("**/arbeitgeber/**")
    assert page.locator("h1").text_content() == "Elektro Kaya"
    assert page.locator(".employer-map .leaflet-container").count() == 1
    page.locator(".back-link").click()
    page.wait_for_url(f"{live_server}/?sector=F")
    wait_loaded(page, 1)
    assert page.locator("#f-sector").input_value() == "F"
    assert page.locator("#employer-count").text_content() == "2 Arbeitgeber gefunden"


def test_switch_to_english(page, live_server, known):
    open_map(page, live_server)
    page.select_option("#site-language", "en")
    with new_document(page):
        page.locator(".language-submit").click()
    wait_loaded(page, 1)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").text_content() == "Employers in Emscher-Lippe"
    assert page.locator("#employer-count").text_content() == "7 employers found"
    page.check("#filter-form input[name=offers][value=jobs]")
    wait_loaded(page, 2)
    assert page.locator("#employer-count").text_content() == "2 employers found"


def test_bad_input_shows_a_message_not_an_error_page(page, live_server, known):
    open_map(page, live_server)
    page.fill("#f-near", "Atlantis")
    page.locator("#f-near").press("Enter")
    wait_loaded(page, 2)
    alert = page.locator("#filter-error")
    assert alert.is_visible()
    assert "Atlantis" in alert.text_content()
    assert page.errors == []


def test_browser_contacts_no_host_but_the_app_and_the_tile_server(page, live_server, known):
    open_map(page, live_server)
    page.locator(".atlas-marker").first.click(force=True)
    page.locator(".leaflet-popup-content").wait_for()
    page.locator("#employer-list .employer-link").first.click()
    page.wait_for_load_state("networkidle")
    hosts = {urlsplit(url).netloc for url in page.requests}
    assert hosts == {urlsplit(live_server).netloc, urlsplit(TILE_URL).netloc}


def test_hostile_text_stays_plain_text(page, live_server, make_company):
    lon, lat = RECKLINGHAUSEN
    names = ["<img src=x onerror=alert(1)>", "${alert(1)}", "Backslash GmbH"]
    for index, name in enumerate(names):
        make_company(
            name,
            lon=lon + index * 0.08,
            lat=lat,
            description="Pfad C:\\neu" if index == 2 else "",
            website="javascript:alert(1)" if index == 1 else "",
        )
    open_map(page, live_server)
    shown = {}
    markers = page.locator(".atlas-marker")
    assert markers.count() == 3
    for index in range(3):
        markers.nth(index).click()
        popup = page.locator(".leaflet-popup-content")
        popup.locator(".employer-popup").wait_for()  # the details come when it opens
        shown[popup.locator("h2").text_content()] = popup.inner_text()
        assert popup.locator("img").count() == 0
        assert popup.locator("a[href^='javascript:']").count() == 0
        page.locator(".leaflet-popup-close-button").click()
        page.locator(".leaflet-popup").wait_for(state="detached")
    assert set(shown) == set(names)
    assert "Pfad C:\\neu" in shown["Backslash GmbH"]
    assert sorted(page.locator("#employer-list .employer-link").all_text_contents()) == sorted(
        names
    )
    # A filter change re-renders the list from JSON: still plain text.
    before = loads(page)
    page.fill("#f-q", "alert")
    page.locator("#f-q").press("Enter")
    wait_loaded(page, before + 1)
    assert page.locator("#employer-count").text_content() == "2 Arbeitgeber gefunden"
    assert page.locator("#employer-list img").count() == 0
    assert page.dialogs == []
    assert page.errors == []


def test_pick_a_point_on_the_map_as_the_centre(page, live_server, known):
    open_map(page, live_server)
    before = loads(page)
    page.locator("#pick-point").click()
    assert "Mittelpunkt" in page.locator("#employer-count").text_content()
    box = page.locator("#atlas .folium-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_loaded(page, before + 1)
    near = page.locator("#f-near").input_value()
    lat, lon = (float(part) for part in near.split(","))
    assert 51.4 < lat < 51.9 and 6.7 < lon < 7.6
    assert "near=" in page.url
    assert page.locator("#f-sort").input_value() == "distance"
    distances = page.locator("#employer-list .employer-meta").all_text_contents()
    assert all("km entfernt" in text for text in distances)
    assert page.locator("#employer-count").text_content().endswith("Arbeitgeber gefunden")


def test_reset_clears_every_filter(page, live_server, known):
    open_map(page, f"{live_server}/?sector=F&size=small&near=Marl&radius_km=25")
    assert page.locator("#employer-count").text_content() == "1 Arbeitgeber gefunden"
    before = loads(page)
    page.locator("#reset-filters").click()
    wait_loaded(page, before + 1)
    assert page.locator("#employer-count").text_content() == "7 Arbeitgeber gefunden"
    assert urlsplit(page.url).query == ""
    assert page.locator("#f-sector").input_value() == ""
    assert page.locator("#f-near").input_value() == ""
    assert page.locator("#f-sort").input_value() == "name"
    assert page.locator("#filters .badge").count() == 0


def test_every_module_the_map_page_loads_is_announced_up_front(page, live_server, known):
    """The page lists each module its scripts import as a modulepreload in the head, so the
    browser fetches them at once instead of one import level per round trip."""
    open_map(page, live_server)
    announced = set(
        page.eval_on_selector_all(
            "head link[rel=modulepreload]", "links => links.map(l => new URL(l.href).pathname)"
        )
    )
    entries = set(
        page.eval_on_selector_all(
            "script[src]", "scripts => scripts.map(s => new URL(s.src).pathname)"
        )
    )
    loaded = set(
        page.evaluate(
            "() => performance.getEntriesByType('resource').map(r => new URL(r.name))"
            ".filter(u => u.origin === location.origin && u.pathname.endsWith('.js'))"
            ".map(u => u.pathname)"
        )
    )
    imported = loaded - entries
    assert "/static/js/atlas/state.js" in imported and "/static/js/shortlist/store.js" in imported
    assert imported <= announced, f"not announced: {sorted(imported - announced)}"
    assert announced <= loaded, f"announced but never used: {sorted(announced - loaded)}"


def _copies(app, template: int, number: int) -> None:
    """``number`` published copies of the employer ``template`` (one statement)."""
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO companies (slug, name, description, street, house_number,"
                " postal_code, town, municipality_ags, location, website, phone, email,"
                " contact_name, contact_email, employees, offers_apprenticeships,"
                " offers_internships, open_positions, languages, status, source, version)"
                " SELECT 'copy-' || g, name || ' ' || g, description, street, house_number,"
                " postal_code, town, municipality_ags, location, website, phone, email,"
                " contact_name, contact_email, employees, offers_apprenticeships,"
                " offers_internships, open_positions, languages, status, source, 1"
                " FROM companies CROSS JOIN generate_series(1, :number) AS g WHERE id = :id"
            ),
            {"id": template, "number": number},
        )
        db.session.commit()


def test_large_counts_are_grouped_as_the_language_writes_them(app, page, live_server, make_company):
    _copies(app, make_company("Bäckerei Vorlage", employees=4), 1233)
    open_map(page, live_server)
    assert page.locator("#employer-count").text_content() == "1.234 Arbeitgeber gefunden"
    page.check("#filter-form input[name=size][value=micro]")
    wait_loaded(page, 2)
    assert page.locator("#employer-count").text_content() == "1.234 Arbeitgeber gefunden"
    cluster_titles = page.eval_on_selector_all(
        "#atlas .leaflet-marker-icon[title]", "icons => icons.map(icon => icon.title)"
    )
    assert any("1.234" in title for title in cluster_titles), cluster_titles
    open_map(page, live_server + "/?lang=en&size=micro")
    assert page.locator("#employer-count").text_content() == "1,234 employers found"
