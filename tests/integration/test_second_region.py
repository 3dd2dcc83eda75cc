"""A second region by configuration alone: the app started with REGION=soest follows the Soest
region file in its pages, theme, municipality filter, questionnaire and map view."""

import json
import re

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import delete, select, text

from app.extensions import db
from app.models import Municipality, PostalCode
from app.services import demo
from app.services.reference_data import sync_region
from tests.conftest import temporary_app
from tests.integration.test_questionnaire import STEPS, post_step


@pytest.fixture
def soest(app, database_url):
    """The app with REGION=soest on the session database, with Soest's municipalities and
    postal codes synced in for the test and removed afterwards (the session database is
    synced for the default region). ``app`` is the default region's app on the same
    database (its clean-up empties the employer tables)."""
    with temporary_app(database_url, REGION="soest", WTF_CSRF_ENABLED=False) as soest_app:
        with soest_app.app_context():
            sync_region(soest_app.config["REGION"])
        try:
            yield soest_app
        finally:
            with soest_app.app_context():
                db.session.execute(
                    text(
                        "TRUNCATE companies, questionnaire_drafts, outbox_messages, layer_features"
                        " RESTART IDENTITY CASCADE"
                    )
                )
                soest_ags = select(Municipality.ags).where(Municipality.region_key == "soest")
                db.session.execute(
                    delete(PostalCode).where(PostalCode.municipality_ags.in_(soest_ags))
                )
                db.session.execute(delete(Municipality).where(Municipality.region_key == "soest"))
                db.session.commit()


def test_the_pages_carry_the_soest_name_theme_and_logo(soest, client):
    page = soest.test_client().get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<title>KMU-Atlas Kreis Soest</title>" in html
    assert "Arbeitgeber in Kreis Soest" in html
    assert "Emscher-Lippe" not in html
    assert "Wirtschaftsförderung Kreis Soest" in html  # the agency in the footer

    stylesheet = re.search(r'href="(/region/theme\.css\?v=\w+)"', html).group(1)
    css = soest.test_client().get(stylesheet)
    assert css.mimetype == "text/css"
    assert "--brand: #8c1d18;" in css.get_data(as_text=True)
    default_css = client.get("/region/theme.css").get_data(as_text=True)
    assert "--brand: #0b3d6b;" in default_css  # the default region keeps its colours

    logo_url = re.search(r'<img class="brand-logo" src="(/region/logo\.svg\?v=\w+)"', html).group(1)
    logo = soest.test_client().get(logo_url)
    assert logo.status_code == 200 and logo.mimetype == "image/svg+xml"
    assert b"#8c1d18" in logo.data
    assert "default-src 'none'" in logo.headers["Content-Security-Policy"]
    assert logo.data != client.get("/region/logo.svg").data

    events = soest.test_client().get("/veranstaltungen").get_data(as_text=True)
    assert "Veranstaltungen in Kreis Soest" in events


def test_the_municipality_filter_offers_and_filters_by_soest_municipalities(soest, make_company):
    lippstadt = make_company(
        "Betrieb Lippstadt",
        lon=8.339,
        lat=51.6896,
        postal_code="59555",
        municipality_ags="05974028",
    )
    make_company(
        "Betrieb Soest", lon=8.0849, lat=51.5681, postal_code="59494", municipality_ags="05974040"
    )
    client = soest.test_client()
    html = client.get("/").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="municipality".*?</select>', html, re.S).group(0)
    offered = dict(re.findall(r'<option value="(\d{8})"\s*>([^<]+)', select_html))
    assert len(offered) == 14
    assert offered["05974028"].strip() == "Lippstadt"
    assert "05562024" not in offered  # Marl is Emscher-Lippe's

    listed = client.get("/api/employers/list?municipality=05974028").get_json()
    assert [item["id"] for item in listed["items"]] == [lippstadt]
    page = client.get("/?municipality=05974028").get_data(as_text=True)
    assert "Betrieb Lippstadt" in page and "Betrieb Soest" not in page
    refused = client.get("/api/employers/list?municipality=05562024")
    assert refused.status_code == 400  # not a municipality of this region


def test_the_questionnaire_accepts_soest_postal_codes_only(soest):
    client = soest.test_client()
    assert client.post("/mitmachen/start").status_code == 302
    assert post_step(client, "business", STEPS["business"]).status_code == 302
    location = {
        "street": "Markt",
        "house_number": "1",
        "postal_code": "45879",  # Gelsenkirchen
        "town": "Gelsenkirchen",
    }
    refused = post_step(client, "location", location)
    assert refused.status_code == 422
    assert "Die Postleitzahl 45879 liegt nicht in unserer Region." in refused.get_data(as_text=True)
    accepted = post_step(
        client,
        "location",
        {**location, "postal_code": "59494", "town": "Soest", "location": "51.5711,8.1059"},
    )
    assert accepted.status_code == 302, accepted.get_data(as_text=True)[:2000]
    outside = post_step(
        client,
        "location",
        {**location, "postal_code": "59494", "town": "Soest", "location": "51.5177,7.0857"},
    )
    assert outside.status_code == 422  # a pin in Gelsenkirchen is outside Kreis Soest
    suggestion = client.get("/mitmachen/vorschlag?postal_code=59494").get_json()
    assert abs(suggestion["lat"] - 51.568) < 0.01


def test_the_map_view_and_outline_are_soest(soest):
    client = soest.test_client()
    region = soest.config["REGION"]
    html = client.get("/").get_data(as_text=True)
    lon, lat = region.center
    assert f"center: [{lat}, {lon}]" in html
    (west, south), (east, north) = region.bounds
    assert f"[[{south}, {west}], [{north}, {east}]]" in html
    config = json.loads(re.search(r'data-config="([^"]*)"', html).group(1).replace("&#34;", '"'))
    assert config["outlineUrl"] == "/api/region/outline"
    outline = client.get("/api/region/outline").get_json()
    geometry = shape(outline["features"][0]["geometry"])
    assert geometry.contains(Point(8.1059, 51.5711))  # Soest
    assert not geometry.contains(Point(7.0857, 51.5177))  # Gelsenkirchen


def test_the_demo_layers_follow_the_region(soest):
    with soest.app_context():
        added = demo.seed_demo_layers(soest.config["REGION"])
        rows = db.session.execute(
            text("SELECT kind, name, ST_X(location), ST_Y(location) FROM layer_features")
        ).all()
    region = soest.config["REGION"]
    assert added == len(rows) > 0
    kinds = {kind for kind, *_ in rows}
    assert kinds == {"childcare", "housing"}  # the shipped stations are Emscher-Lippe's
    assert all(region.contains(lon, lat) for _, _, lon, lat in rows)
    assert any("Lippstadt" in name for _, name, *_ in rows)
