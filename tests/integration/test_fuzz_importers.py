"""Fuzzing the importers on PostGIS (issue 17): the employer import (through the staff upload,
check and import pages), the layer import and the iCalendar feed import.

Each either imports or reports why not, with a message; never an uncaught exception, never a
500, and never a partial import: the employer and layer imports store all valid rows or none.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.models import Company, Event, LayerFeature, Organisation
from app.services import event_feeds, importer, layer_import
from geodata.tables import read_table
from tests.conftest import csrf_token
from tests.integration.test_import import selected_mapping
from tests.unit.test_fuzz_files import CELLS, csv_files, geojson_files, xlsx_files

FUZZ = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Values a column of an employer file might hold: valid ones of the region and broken ones.
EMPLOYER_VALUES = {
    "Firma": st.one_of(st.sampled_from(["Bäckerei Korn", "Malerei Nowak", "", " "]), CELLS),
    "PLZ": st.one_of(st.sampled_from(["45768", "45657", "10115", "4576", "٤٥٧٦٨"]), CELLS),
    "Ort": st.one_of(st.sampled_from(["Marl", "Recklinghausen", ""]), CELLS),
    "Beschäftigte": st.one_of(st.sampled_from(["12", "0", "-3", "1e9", "viele"]), CELLS),
    "WZ": st.one_of(st.sampled_from(["43", "10, 47", "A", "04", "43.21"]), CELLS),
    "E-Mail": st.one_of(st.sampled_from(["info@korn.example", "x@", "a@b"]), CELLS),
    "Breite": st.one_of(st.sampled_from(["51,61", "51.6", "91", "nan", "1e400"]), CELLS),
    "Länge": st.one_of(st.sampled_from(["7,19", "7.1", "181", "-inf"]), CELLS),
    "Ausbildung": st.one_of(st.sampled_from(["ja", "nein", "vielleicht"]), CELLS),
    "ID": st.one_of(st.sampled_from(["A-1", "A-2", ""]), CELLS, st.just("x" * 300)),
    "Website": st.one_of(st.sampled_from(["https://korn.example", "javascript:1"]), CELLS),
}


@st.composite
def employer_files(draw) -> bytes:
    """A semicolon CSV with the usual headers (some of them) and valid or broken values."""
    header = draw(st.lists(st.sampled_from(sorted(EMPLOYER_VALUES)), min_size=1, unique=True))
    if "Firma" not in header:
        header.insert(0, "Firma")
    rows = draw(
        st.lists(st.tuples(*(EMPLOYER_VALUES[name] for name in header)), min_size=1, max_size=5)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


ANY_FILE = st.one_of(employer_files(), csv_files(), xlsx_files(), geojson_files(), st.binary())


def _imported(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Company).where(Company.source == "import")
        )


def _valid_rows(app, content: bytes) -> int:
    """How many rows of the file the importer's check finds valid (with its mapping)."""
    table = read_table(content)
    with app.test_request_context():
        mapping = importer.suggest_mapping(table.columns)
        try:
            report = importer.validate(table.rows, mapping, "de", find_duplicates=False)
        except importer.MappingError:  # no name column, or latitude without longitude
            return 0
    for row in report.invalid:
        assert all(problem.message for problem in row.errors), row
    return len(report.valid)


@pytest.fixture
def curator(auth):
    assert auth.login("curator").status_code == 302
    return auth


@FUZZ
@given(content=ANY_FILE, name=st.sampled_from(["firmen.csv", "firmen.xlsx", "a.geojson", ""]))
@example(content=b"Firma;PLZ\nB\xe4ckerei;45768\n", name="firmen.csv")
@example(content=b"Firma;PLZ;ID\nA;45768;A-1\nB;45768;A-1\n", name="firmen.csv")
def test_the_staff_import_never_fails_and_imports_all_valid_rows_or_none(
    app, curator, content, name
):
    response = curator._client.post(
        "/agentur/import",
        data={"file": (io.BytesIO(content), name), "csrf_token": _token(curator)},
        content_type="multipart/form-data",
    )
    assert response.status_code in (303, 422), response.status_code
    if response.status_code == 422:
        assert 'role="alert"' in response.get_data(as_text=True) or name == ""
        return
    url = response.headers["Location"]
    preview = curator._client.get(url)
    assert preview.status_code == 200
    mapping = selected_mapping(preview.get_data(as_text=True))
    form = {**{f"map-{key}": column for key, column in mapping.items()}, "status": "pending"}
    checked = curator.post(f"{url}/pruefen", form)
    assert checked.status_code in (200, 422), checked.status_code
    before, valid = _imported(app), _valid_rows(app, content)
    done = curator.post(f"{url}/importieren", form)
    assert done.status_code in (303, 409, 422), done.status_code
    added = _imported(app) - before
    if done.status_code == 303:  # queued (and run, inline in tests): its progress page
        progress = curator._client.get(done.headers["Location"])
        assert progress.status_code == 200
        page = progress.get_data(as_text=True)
        if "Import fehlgeschlagen" in page:
            assert 'role="alert"' in page
            assert added == valid == 0
        else:
            assert added == valid > 0
    else:
        assert added == 0


def _token(auth) -> str:
    return csrf_token(auth._client)


# --- layers ------------------------------------------------------------------------------------


@st.composite
def layer_csvs(draw) -> bytes:
    """A CSV of childcare places with names and coordinates, valid, outside or broken."""
    coordinate = st.one_of(
        st.floats(min_value=51.5, max_value=51.7).map(str),
        st.floats(min_value=7.0, max_value=7.3).map(str),
        st.sampled_from(["", "nan", "1e400", "٣", "91", "-181"]),
        CELLS,
    )
    rows = draw(
        st.lists(
            st.tuples(
                st.one_of(st.sampled_from(["Kita Sonne", ""]), CELLS), coordinate, coordinate
            ),
            min_size=1,
            max_size=5,
        )
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["name", draw(st.sampled_from(["lat", "lon", "y"])), "lon"])
    writer.writerows(rows)
    return buffer.getvalue().encode(draw(st.sampled_from(["utf-8", "cp1252"])), "replace")


def _features(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(LayerFeature).where(LayerFeature.kind == "childcare")
        )


@FUZZ
@given(
    content=st.one_of(layer_csvs(), geojson_files(), csv_files(), st.binary(max_size=200)),
    mode=st.sampled_from(["append", "replace"]),
)
def test_a_layer_file_is_imported_whole_or_refused_with_a_message(app, content, mode):
    before = _features(app)
    with app.test_request_context():
        try:
            result = layer_import.import_layer(
                content, "childcare", filename="kitas.csv", mode=mode, actor=None
            )
        except layer_import.LayerImportError as error:
            assert str(error).strip()
            result = None
    after = _features(app)
    if result is None:
        assert after == before
    else:
        assert result.added == len(result.report.rows_for(mode)) > 0
        assert after == (before - result.removed + result.added)
        for problem in result.report.listed_problems():
            assert problem.code


# --- iCalendar feeds ---------------------------------------------------------------------------

DATES = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(lambda d: f"{d:%Y%m%d}"),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: f"{d:%Y%m%dT%H%M%S}"
    ),
    st.just((date.today() + timedelta(days=10)).strftime("%Y%m%dT100000")),
    st.sampled_from(["20261340T250000", "0", "", "2026-12-01", "99999999T999999Z"]),
    st.text(max_size=10).map(lambda t: t.replace("\r", "").replace("\n", "")),
)
LINE_TEXT = st.text(max_size=30).map(lambda t: t.replace("\r", " ").replace("\n", " "))
PROPERTIES = st.lists(
    st.one_of(
        DATES.map(lambda v: f"DTSTART:{v}"),
        DATES.map(lambda v: f"DTSTART;VALUE=DATE:{v}"),
        DATES.map(lambda v: f"DTSTART;TZID=Europe/Berlin:{v}"),
        DATES.map(lambda v: f"DTSTART;TZID=Mars/Olympus:{v}"),
        DATES.map(lambda v: f"DTEND:{v}"),
        DATES.map(lambda v: f"RECURRENCE-ID:{v}"),
        st.sampled_from(["P1D", "PT2H", "-PT1H", "P99999W", "X"]).map(lambda v: f"DURATION:{v}"),
        st.sampled_from(["FREQ=WEEKLY;COUNT=3", "FREQ=DAILY", "FREQ=NONE", "COUNT=-1", "x"]).map(
            lambda v: f"RRULE:{v}"
        ),
        st.sampled_from(["51.6;7.1", "91;181", "x;y", "nan;nan", "1e400;0"]).map(
            lambda v: f"GEO:{v}"
        ),
        LINE_TEXT.map(lambda v: f"SUMMARY:{v}"),
        LINE_TEXT.map(lambda v: f"DESCRIPTION:{v}"),
        LINE_TEXT.map(lambda v: f"LOCATION:{v}"),
        st.sampled_from(["45768 Marl", "Hauptstr. 1, 45657 Recklinghausen", ""]).map(
            lambda v: f"LOCATION:{v}"
        ),
        LINE_TEXT.map(lambda v: f"URL:{v}"),
        LINE_TEXT.map(lambda v: f"CATEGORIES:{v}"),
        st.sampled_from(["CANCELLED", "CONFIRMED", "x"]).map(lambda v: f"STATUS:{v}"),
        LINE_TEXT.map(lambda v: f"X-{v.upper()[:5] or 'A'}:{v}"),
    ),
    max_size=8,
)
EVENTS = st.lists(
    st.tuples(st.one_of(st.sampled_from(["a", "b", "", "x" * 600]), LINE_TEXT), PROPERTIES),
    max_size=4,
)


def _calendar(events) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fuzz//"]
    for uid, properties in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", *properties, "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines).encode()


def _feed_events(app, organisation_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Event).where(Event.organisation_id == organisation_id)
        )


@FUZZ
@given(events=EVENTS, raw=st.one_of(st.none(), st.binary(max_size=200)))
@example(events=[("a", ["DTSTART:99991231T235959", "SUMMARY:Spät"])], raw=None)
@example(events=[("a", ["DTSTART;VALUE=DATE:00010101", "SUMMARY:Früh"])], raw=None)
def test_a_feed_is_imported_event_by_event_or_reported(app, make_organisation, events, raw):
    organisation_id = make_organisation("Jobcenter Fuzz", feed_url="https://feed.example/a.ics")
    content = raw if raw is not None else _calendar(events)
    before = _feed_events(app, organisation_id)
    with app.test_request_context():
        organisation = db.session.get(Organisation, organisation_id)
        report = event_feeds.FeedReport(organisation.id, organisation.name)
        try:
            calendar = event_feeds._parse(content)
        except event_feeds._Skip as reason:
            assert str(reason).strip()
            return
        event_feeds._import_calendar(organisation, calendar, report)  # no exception escapes
        db.session.commit()
        for skipped in report.skipped:
            assert skipped.reason.strip()
    assert _feed_events(app, organisation_id) - before == report.new
