"""The agency's dashboard: counts for a known set of entries, and the coverage map (circles
without boundaries, a GeoJSON choropleth with them; no third-party scripts, no raw names)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models import CompanyStatus
from app.services import coverage

RECKLINGHAUSEN, BOTTROP, GELSENKIRCHEN = "05562032", "05512000", "05513000"


@pytest.fixture
def known_set(app, make_company):
    """Six entries in three municipalities; four published, one pending, one archived."""
    make_company(
        "Bau Eins",
        sectors=("41", "43"),  # two divisions of section F: counts once there
        employees=5,
        family=("flexible_hours",),
    )
    make_company("Handel Zwei", sectors=("43", "47"), employees=20, municipality_ags=BOTTROP)
    make_company(
        "Praxis Drei",
        sectors=("86",),
        employees=100,
        family=("part_time", "home_office"),
    )
    make_company("Ohne Angaben", sectors=(), employees=None, municipality_ags=GELSENKIRCHEN)
    make_company("Eingereicht", status=CompanyStatus.PENDING, family=("part_time",))
    old = make_company("Archiviert", status=CompanyStatus.ARCHIVED, employees=300)
    overdue = make_company("Überfällig", sectors=("10",), employees=60, municipality_ags=BOTTROP)
    with app.app_context():
        db.session.execute(
            text("UPDATE companies SET confirmed_at = now() - interval '13 months' WHERE id = :id"),
            {"id": overdue},
        )
        db.session.commit()
    return old


@pytest.fixture
def boundaries(app):
    """Give every municipality a (made-up) boundary for the test; remove them afterwards."""
    with app.app_context():
        db.session.execute(
            text("UPDATE municipalities SET boundary = ST_Multi(ST_Buffer(centroid, 0.02))")
        )
        db.session.commit()
    yield
    with app.app_context():
        db.session.execute(text("UPDATE municipalities SET boundary = NULL"))
        db.session.commit()


def numbers(app):
    with app.test_request_context():
        return coverage.overview("de")


def by_code(rows) -> dict:
    return {row.code: row.count for row in rows}


def test_counts_of_a_known_set(app, known_set):
    result = numbers(app)
    assert by_code(result.statuses) == {
        "draft": 0,
        "pending": 1,
        "published": 5,
        "rejected": 0,
        "archived": 1,
    }
    assert result.total == 7
    assert result.published == 5
    sections = by_code(result.sections)
    assert len(sections) == 22  # sections A to U and "none"
    assert {code: n for code, n in sections.items() if n} == {
        "C": 1,
        "F": 2,
        "G": 1,
        "Q": 1,
        None: 1,
    }
    assert by_code(result.sizes) == {"micro": 1, "small": 1, "medium": 2, "large": 0, None: 1}
    municipalities = {m.ags: m for m in result.municipalities}
    assert len(municipalities) == 12
    assert (
        municipalities[RECKLINGHAUSEN].published,
        municipalities[RECKLINGHAUSEN].family_friendly,
    ) == (2, 2)
    assert municipalities[RECKLINGHAUSEN].family_share == 1
    assert (municipalities[BOTTROP].published, municipalities[BOTTROP].family_share) == (2, 0)
    assert municipalities[GELSENKIRCHEN].published == 1
    assert municipalities["05562008"].published == 0  # Datteln
    assert municipalities["05562008"].family_share is None
    assert (result.pending_entries, result.pending_changes, result.awaiting_review) == (1, 0, 1)
    assert result.freshness.overdue == 1


def test_family_share_is_a_share(app, make_company):
    make_company("Eins", family=("part_time",))
    make_company("Zwei")
    make_company("Drei")
    (recklinghausen,) = [m for m in numbers(app).municipalities if m.ags == RECKLINGHAUSEN]
    assert recklinghausen.family_share == pytest.approx(1 / 3)


def test_colour_scale():
    assert coverage.colour_scale(0) == [coverage.Step(0, 0, coverage.NONE_COLOUR)]
    steps = coverage.colour_scale(7)
    assert [(s.low, s.high) for s in steps] == [(0, 0), (1, 1), (2, 2), (3, 4), (5, 5), (6, 7)]
    assert len({s.colour for s in steps}) == 6
    assert [(s.low, s.high) for s in coverage.colour_scale(2)] == [(0, 0), (1, 1), (2, 2)]
    assert coverage.colour_for(4, steps) == steps[3].colour
    assert coverage.colour_for(0, steps) == coverage.NONE_COLOUR


def test_dashboard_is_for_staff_only(client, auth):
    assert client.get("/agentur/").status_code == 403


def cell_row(html: str, name: str) -> list[str]:
    """The cells of the table row headed ``name``."""
    row = re.search(rf"<th scope=\"row\">{re.escape(name)}</th>(.*?)</tr>", html, re.S)
    return re.findall(r"<td>(.*?)</td>", row.group(1))


def test_dashboard_shows_the_numbers(app, client, auth, known_set):
    auth.login("curator")
    page = client.get("/agentur/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert cell_row(html, "Recklinghausen") == ["2", "2", "100\u00a0%"]
    assert cell_row(html, "Bottrop") == ["2", "0", "0\u00a0%"]
    assert cell_row(html, "Datteln") == ["0", "0", "–"]
    assert cell_row(html, "veröffentlicht") == ["5"]
    assert cell_row(html, "F – Baugewerbe") == ["2"]
    assert "1 Eintrag wartet auf Prüfung" in html
    assert "1 Eintrag ist überfällig für eine Bestätigung" in html
    assert html.count("<caption>") == 4


def script_sources(html: str) -> list[str]:
    return re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", html) + re.findall(
        r"<link[^>]*\shref=\"([^\"]+)\"", html
    )


def third_party_urls(html: str) -> set[str]:
    """Absolute URLs in the page other than the configured (test) tile server's."""
    urls = set(re.findall(r"https?://[^\s\"'<>`)]+", html))
    return {url for url in urls if not url.startswith("https://tiles.example.test/")}


def test_map_has_circles_without_boundaries(app, client, auth, known_set):
    auth.login("curator")
    html = client.get("/agentur/").get_data(as_text=True)
    assert html.count("L.circleMarker(") == 12
    assert "L.geoJson(" not in html
    assert all(
        url.startswith(("/static/", "/region/", "/manifest.webmanifest"))
        for url in script_sources(html)
    )
    assert "d3.min.js" not in html
    assert third_party_urls(html) == set()


def test_map_is_a_choropleth_with_boundaries(app, client, auth, known_set, boundaries):
    auth.login("curator")
    html = client.get("/agentur/").get_data(as_text=True)
    assert "L.geoJson(" in html
    assert "L.circleMarker(" not in html
    assert '"id": "05562032"' in html or '"id":"05562032"' in html
    assert all(
        url.startswith(("/static/", "/region/", "/manifest.webmanifest"))
        for url in script_sources(html)
    )
    assert third_party_urls(html) == set()


@pytest.mark.parametrize("with_boundaries", [False, True])
def test_map_tooltips_escape_names(app, client, auth, make_company, request, with_boundaries):
    if with_boundaries:
        request.getfixturevalue("boundaries")
    evil = "<img src=x onerror=alert(1)>${alert(2)}`\\"
    with app.app_context():
        db.session.execute(
            text("UPDATE municipalities SET name = :name WHERE ags = :ags"),
            {"name": evil, "ags": RECKLINGHAUSEN},
        )
        db.session.commit()
    try:
        auth.login("curator")
        html = client.get("/agentur/").get_data(as_text=True)
        script = html[html.rindex("<script nonce=") :]
        assert "<img" not in script
        assert "${alert" not in script
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the table, escaped
    finally:
        with app.app_context():
            db.session.execute(
                text("UPDATE municipalities SET name = 'Recklinghausen' WHERE ags = :ags"),
                {"ags": RECKLINGHAUSEN},
            )
            db.session.commit()
