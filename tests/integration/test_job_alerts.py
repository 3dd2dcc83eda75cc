"""Job alerts without an account (issue 15): subscribing (the search in the filter contract's
own serialisation, for every filter), double opt-in, the weekly digest on fixed fixtures (new
match, changed offer, nothing new, a second run, batches that commit on their own, two runs at
once), unsubscribing by the page and by RFC 8058 one-click, changing the search, expiry,
bounces at delivery and from delivery status notifications, 20 simultaneous subscriptions,
the limit per address, the form's errors, CSRF, honeypot, rate limit, and the privacy page."""

from __future__ import annotations

import mailbox
import re
import smtplib
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import inspect, select, text
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.features import pipeline
from app.features.employers import EMPLOYERS, PARAMETERS
from app.models import Company, CompanyStatus, JobAlert, LayerFeature, OutboxMessage
from app.services import alerts, entries, mail, tokens
from app.services.places import resolve_place
from tests.conftest import temporary_app, without_nonce
from tests.fixtures import EMPLOYERS as KNOWN

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CONFIRM_PATH = re.compile(r"https?://[^/\s]+(/suchauftrag/bestaetigen/[^\s?]+)")
UNSUBSCRIBE_PATH = re.compile(r"https?://[^/\s]+(/suchauftrag/abmelden/[^\s?]+)")
CHANGE_PATH = re.compile(r"https?://[^/\s]+(/suchauftrag/[^/\s]+/aendern)")
VERSION = alerts.ALERT_CONSENT_VERSION
#: A Monday noon (UTC) and the same ISO week's Friday, and the next week's Monday.
MONDAY = datetime(2027, 3, 1, 12, tzinfo=UTC)
FRIDAY = MONDAY + timedelta(days=4)
NEXT_MONDAY = MONDAY + timedelta(days=7)
RE = (7.1975, 51.6146)


@pytest.fixture(autouse=True)
def no_alerts_left(app):
    """The shared fixtures do not know the job_alerts table: empty it after each test."""
    yield
    with app.app_context():
        db.session.execute(text("TRUNCATE job_alerts RESTART IDENTITY"))
        db.session.commit()


# --- helpers ---------------------------------------------------------------------------------


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def stored(app) -> list[JobAlert]:
    with app.app_context():
        return list(db.session.scalars(select(JobAlert).order_by(JobAlert.id)))


def subscribe(app, address: str, query: str = "", language: str = "de") -> int | None:
    """Subscribe through the service; the alert's id (None when none was stored)."""
    with app.test_request_context():
        search = alerts.parse_search(MultiDict(parse_qsl(query)))
        result = alerts.subscribe(address, search, language, VERSION)
        # by its identity: a refused mail may have deleted the row since the commit
        return inspect(result.alert).identity[0] if result.alert is not None else None


def confirm(app, alert_id: int) -> None:
    with app.test_request_context():
        assert alerts.confirm(db.session.get(JobAlert, alert_id))


def confirmed(app, address: str, query: str = "") -> int:
    alert_id = subscribe(app, address, query)
    confirm(app, alert_id)
    return alert_id


def run(app, moment=MONDAY, batch_size: int = alerts.BATCH_SIZE) -> alerts.DigestReport:
    with app.test_request_context():
        return alerts.send_digests(moment, batch_size=batch_size)


def digests(app) -> list[OutboxMessage]:
    return [m for m in outbox(app) if m.purpose == alerts.DIGEST_PURPOSE]


def change_company(app, company_id: int, **values) -> None:
    with app.test_request_context():
        entries.apply(db.session.get(Company, company_id), values)
        db.session.commit()


def form_token(client, path: str = "/suchauftrag") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def post_subscribe(client, search: dict | list | None = None, **fields):
    """POST the subscription form (with a CSRF token) for ``search`` (query parameters)."""
    pairs = list(search.items()) if isinstance(search, dict) else list(search or [])
    data = {
        "csrf_token": form_token(client),
        "email": "alex@example.org",
        "consent": "y",
        "consent_version": VERSION,
        **fields,
    }
    return client.post("/suchauftrag", data=MultiDict([*pairs, *data.items()]))


@pytest.fixture
def known(make_company):
    """The known employers of tests/fixtures.py (G is pending); their ids by letter."""
    return {letter: make_company(**fields) for letter, fields in KNOWN.items()}


# --- subscribing -----------------------------------------------------------------------------


def test_the_form_stores_a_pending_alert_with_the_canonical_search_and_mails_the_link(app, client):
    search = [
        ("size", "small,micro"),
        ("near", "45657"),
        ("radius_km", "5"),
        ("sector", "F"),
        ("bbox", "6,51,8,52"),  # the map view is not part of the search
        ("zoom", "11"),
        ("sort", "name"),
    ]
    response = post_subscribe(client, search, email="  Alex@Example.org ")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/suchauftrag/gesendet?")
    (alert,) = stored(app)
    assert alert.email == "Alex@Example.org"
    assert alert.filter_query == "sector=F&near=45657&radius_km=5&size=small%2Cmicro"
    assert alert.confirmed_at is None and alert.language == "de"
    assert alert.consent_version == VERSION and alert.consent_at is not None
    (message,) = outbox(app)
    assert message.recipient == "Alex@Example.org"
    assert message.purpose == alerts.MAIL_PURPOSE
    assert message.subject == "Bitte bestätigen Sie Ihren Suchauftrag"
    assert "- Branche: Baugewerbe" in message.body
    assert "- Im Umkreis von: 5 km um 45657 Recklinghausen" in message.body
    assert CONFIRM_PATH.search(message.body)
    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bitte prüfen Sie Ihre E-Mails" in sent and "Baugewerbe" in sent


def test_the_page_shows_the_search_in_words_and_the_form(app, client):
    page = client.get("/suchauftrag?sector=F&family=part_time&q=B%C3%A4cker&zoom=12")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<dt>Branche</dt><dd>Baugewerbe</dd>" in html
    assert "<dt>Suchbegriff</dt><dd>„Bäcker“</dd>" in html
    assert "<dt>Familienfreundlich (alle gewählten)</dt>" in html
    form = html[html.index('id="a-form"') :]
    assert '<input type="hidden" name="sector" value="F">' in form
    assert 'name="zoom"' not in form
    assert '<label for="a-email">' in html and 'aria-describedby="a-consent-text"' in html
    assert 'href="/datenschutz"' in html
    nothing = client.get("/suchauftrag").get_data(as_text=True)
    assert "Alle Arbeitgeber der Region (kein Filter)" in nothing


def test_an_invalid_filter_gets_the_parsers_message_and_stores_nothing(app, client):
    response = post_subscribe(client, {"sector": "ZZ"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Unbekannter Wirtschaftszweig „ZZ“" in html
    assert 'data-parameter="sector"' in html
    shown = client.get("/suchauftrag?near=Nirgendwo")
    assert shown.status_code == 400
    assert "Den Ort „Nirgendwo“ kennen wir nicht" in shown.get_data(as_text=True)
    assert stored(app) == [] and outbox(app) == []


def test_bad_input_shows_the_form_again_with_the_values_and_errors(app, client):
    response = post_subscribe(client, {"sector": "F"}, email="keine-adresse", consent="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Bitte prüfen Sie 2 Angaben." in html
    assert 'value="keine-adresse"' in html
    assert "Das ist keine gültige E-Mail-Adresse." in html
    assert "Bitte stimmen Sie zu" in html
    assert html.count('aria-invalid="true"') == 2
    assert '<input type="hidden" name="sector" value="F">' in html  # the search is kept
    outdated = post_subscribe(client, consent_version="1999-01")
    assert outdated.status_code == 422
    assert stored(app) == [] and outbox(app) == []


def test_csrf_token_is_required(app, client):
    data = {"email": "a@example.org", "consent": "y", "consent_version": VERSION}
    assert client.post("/suchauftrag", data=data).status_code == 400
    assert stored(app) == []


def test_a_filled_honeypot_stores_and_mails_nothing(app, client):
    response = post_subscribe(client, {"sector": "F"}, webseite="http://spam.example")
    assert response.status_code == 303
    assert stored(app) == [] and outbox(app) == []


def test_subscribing_is_rate_limited_per_client(database_url, app):
    with temporary_app(database_url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=True) as limited:
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = "192.0.2.41"
        for _ in range(10):  # refused (no address), but each one counts
            assert client.post("/suchauftrag", data={}).status_code == 422
        data = {"email": "a@example.org", "consent": "y", "consent_version": VERSION}
        assert client.post("/suchauftrag", data=data).status_code == 429
        assert client.get("/suchauftrag").status_code == 200
    assert stored(app) == []


def test_the_same_address_and_search_gets_a_mail_and_the_same_page(app, client):
    first = post_subscribe(client, {"sector": "F", "size": "micro,small"})
    again = post_subscribe(client, {"sector": "F", "size": "micro,small"}, email="ALEX@example.org")
    assert first.status_code == again.status_code == 303
    reordered = post_subscribe(client, {"size": "small,micro", "sector": "F"})
    assert reordered.status_code == 303
    assert without_nonce(client.get(first.headers["Location"])) == without_nonce(
        client.get(again.headers["Location"])
    )
    assert len(stored(app)) == 1
    confirm_mail, repeated, _reordered = outbox(app)
    assert repeated.subject == confirm_mail.subject  # still pending: its link again
    confirm(app, stored(app)[0].id)
    post_subscribe(client, {"sector": "F", "size": "micro,small"})
    note = outbox(app)[-1]
    assert note.subject == "Diesen Suchauftrag haben Sie schon"
    assert UNSUBSCRIBE_PATH.search(note.body) and CHANGE_PATH.search(note.body)
    assert len(stored(app)) == 1
    other = post_subscribe(client, {"sector": "C"})  # another search: a second alert
    assert other.status_code == 303
    assert len(stored(app)) == 2


def test_an_address_keeps_at_most_ten_alerts_and_is_told_by_mail(app, client):
    for sector in ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"]:
        assert subscribe(app, "many@example.org", f"sector={sector}") is not None
        with app.app_context():  # not the limit of mails per address that is tested here
            db.session.execute(text("DELETE FROM outbox_messages"))
            db.session.commit()
    response = post_subscribe(client, {"sector": "K"}, email="many@example.org")
    assert response.status_code == 303  # the same page as ever
    assert len(stored(app)) == alerts.MAX_ALERTS_PER_ADDRESS
    (note,) = outbox(app)
    assert note.subject == "Kein weiterer Suchauftrag möglich"
    assert len(UNSUBSCRIBE_PATH.findall(note.body)) == alerts.MAX_ALERTS_PER_ADDRESS


def test_subscription_mails_to_one_address_are_limited(app, client):
    limit = alerts.ALERT_MAIL_LIMITS[0].count
    for sector in ["A", "B", "C", "D", "E", "F"][:limit]:
        subscribe(app, "busy@example.org", f"sector={sector}")
    response = post_subscribe(client, {"sector": "G"}, email="busy@example.org")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "mehrere Nachrichten zu Suchaufträgen" in html
    assert 'value="busy@example.org"' in html  # nothing entered is lost
    assert len(stored(app)) == limit  # the next one was not stored


def test_twenty_simultaneous_subscriptions_of_one_address_store_one_alert(app):
    barrier = threading.Barrier(20)
    created: list = []
    failures: list = []

    def attempt(number: int) -> None:
        try:
            barrier.wait(timeout=60)  # all start together (20 sessions, a pool of 15)
            address = "Same@Example.org" if number % 2 else "same@example.org"
            with app.test_request_context():
                search = alerts.parse_search(MultiDict([("sector", "F"), ("size", "micro")]))
                created.append(alerts.subscribe(address, search, "de", VERSION).created)
        except Exception as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert created.count(True) == 1 and len(created) == 20
    assert len(stored(app)) == 1
    limit = alerts.ALERT_MAIL_LIMITS[0].count
    assert len(outbox(app)) == limit  # the link, then again until the limit holds mails back


def test_subscribing_in_english_stores_the_language_and_links_keep_it(app, client):
    client.get("/?lang=en")
    assert post_subscribe(client, {"sector": "F"}).status_code == 303
    (alert,) = stored(app)
    assert alert.language == "en"
    assert re.search(r"/suchauftrag/bestaetigen/\S+\?lang=en", outbox(app)[0].body)


# --- the search, for every filter ------------------------------------------------------------

#: A value for each employer parameter that narrows the known employers to some of them.
SAMPLES = {
    "q": [("q", "Bäcker")],
    "sector": [("sector", "10,43")],
    "occupation": [("occupation", "2")],
    "municipality": [("municipality", "05562032")],
    "near": [("near", "45657")],
    "radius_km": [("near", "45657"), ("radius_km", "2")],
    "size": [("size", "micro")],
    "family": [("family", "part_time")],
    "offers": [("offers", "apprenticeship,jobs")],
    "apprenticeship": [("apprenticeship", "baecker")],
    "language": [("language", "tr")],
    "within": [("within", "transit:500")],
}


def sample(parameter) -> list[tuple[str, str]]:
    """The sample of a parameter; for a new one, a value made from its declaration."""
    if parameter.name in SAMPLES:
        return SAMPLES[parameter.name]
    if parameter.type == "text":
        return [(parameter.name, "a")]
    if parameter.type == "choice":
        return [(parameter.name, sorted(parameter.allowed(EMPLOYERS.vocabulary()))[0])]
    if parameter.type == "proximity":
        return [(parameter.name, parameter.options[-1])]
    if parameter.type == "within":
        kind = sorted(parameter.allowed(None))[0]
        return [(parameter.name, f"{kind}:{parameter.options[-1]}")]
    raise AssertionError(f"no sample for the new parameter {parameter.name!r}: add one")


@pytest.mark.parametrize("name", [parameter.name for parameter in PARAMETERS])
def test_an_alert_means_exactly_what_the_map_showed_for_every_filter(app, client, known, name):
    with app.app_context():
        near_a = LayerFeature(
            kind="transit",
            name="Haltestelle",
            properties={},
            location=f"SRID=4326;POINT({RE[0] + 0.003} {RE[1]})",
            source="test",
        )
        db.session.add(near_a)
        db.session.commit()
    change_company(app, known["A"], apprenticeships=[{"code": "baecker", "places": 2}])
    with app.test_request_context():
        parameter = next(p for p in PARAMETERS if p.name == name)
        pairs = sample(parameter)
    assert post_subscribe(client, pairs, email=f"every-{name}@example.org").status_code == 303
    (alert,) = stored(app)

    listed = client.get(f"/api/employers/list?{urlencode(pairs)}").get_json()
    shown = client.get(f"/api/employers?{urlencode(pairs)}").get_json()
    with app.test_request_context(f"/?{urlencode(pairs)}"):
        from flask import request

        mapped = pipeline.parse_filter(EMPLOYERS, request.args, resolve_place)
        search = alerts.search_of(db.session.get(JobAlert, alert.id))
        ids = set(
            db.session.scalars(
                pipeline.matching(EMPLOYERS, search, use_view=False).with_only_columns(Company.id)
            )
        )
        published = db.session.scalar(
            select(db.func.count(Company.id)).where(Company.status == CompanyStatus.PUBLISHED)
        )
    assert search.query_args() == mapped.query_args()
    assert search == mapped.without_view()
    assert ids == {item["id"] for item in listed["items"]}
    assert len(ids) == listed["total"] == shown["total"]
    assert 0 < len(ids) < published, "the sample should narrow the known employers"


# --- double opt-in ---------------------------------------------------------------------------


def test_a_pending_alert_gets_nothing_until_confirmed_by_post(app, client, make_company):
    make_company("Dachdeckerei Alt", sectors=("43",))
    subscribe(app, "alex@example.org", "sector=F")
    make_company("Dachdeckerei Neu", sectors=("43",))
    assert run(app).sent == 0
    assert digests(app) == []

    path = CONFIRM_PATH.search(outbox(app)[0].body).group(1)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Suchauftrag bestätigen" in html and "Baugewerbe" in html
    assert stored(app)[0].confirmed_at is None  # a GET changes nothing (mail scanners)

    done = client.post(path, data={"csrf_token": CSRF.search(html).group(1)})
    assert done.status_code == 200
    assert "Ihr Suchauftrag ist bestätigt" in done.get_data(as_text=True)
    (alert,) = stored(app)
    assert alert.confirmed_at is not None
    assert len(alert.snapshot) == 2  # both match now: the first digest lists only news
    again = client.post(path, data={"csrf_token": CSRF.search(html).group(1)})
    assert again.status_code == 200
    assert client.post(path).status_code == 400  # no CSRF token


def test_bad_and_expired_confirmation_links_get_a_clear_page(app, client, monkeypatch):
    subscribe(app, "alex@example.org", "sector=F")
    path = CONFIRM_PATH.search(outbox(app)[0].body).group(1)
    broken = client.get(path[:-3] + "xyz")
    assert broken.status_code == 404
    assert "nicht (mehr) gültig" in broken.get_data(as_text=True)
    monkeypatch.setitem(tokens.PURPOSES, "alert_confirm", -1)
    expired = client.get(path)
    assert expired.status_code == 410
    assert "Ein Link zum Bestätigen gilt 7 Tage." in expired.get_data(as_text=True)


# --- the weekly digest -----------------------------------------------------------------------


def test_a_new_match_is_mailed_with_links_and_unpublished_employers_never(app, make_company):
    make_company("Dachdeckerei Alt", sectors=("43",))
    alert_id = confirmed(app, "alex@example.org", "sector=F")
    new = make_company("Dachdeckerei Neu", sectors=("43",), open_positions=2, slug="neu")
    make_company("Bäckerei Anders", sectors=("10",))  # does not match
    make_company(
        "Dachdeckerei Geheim", sectors=("43",), status=CompanyStatus.PENDING, slug="geheim"
    )
    report = run(app)
    assert (report.sent, report.quiet) == (1, 0)
    (message,) = digests(app)
    assert message.recipient == "alex@example.org"
    assert message.subject == "1 Neuigkeit zu Ihrem Suchauftrag"
    body = message.body
    assert "Neu passende Arbeitgeber:" in body
    assert "* Dachdeckerei Neu, 45657 Recklinghausen" in body
    assert "2 offene Stellen" in body
    assert re.search(r"https?://[^/\s]+/arbeitgeber/neu\b", body)
    for absent in ("Dachdeckerei Alt", "Bäckerei Anders", "Geheim", "geheim"):
        assert absent not in body
    assert "- Branche: Baugewerbe" in body
    assert re.search(r"https?://[^/\s]+/\?sector=F\s", body)  # the map with the search
    unsubscribe = UNSUBSCRIBE_PATH.search(body).group(1)
    assert CHANGE_PATH.search(body)
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(
        r"<https?://[^/\s]+" + re.escape(unsubscribe) + ">", message.headers["List-Unsubscribe"]
    )
    alert = next(a for a in stored(app) if a.id == alert_id)
    assert str(new) in alert.snapshot
    assert alert.last_sent_week == "2027-W09" and alert.last_sent_at is not None


def test_a_long_digest_names_the_first_employers_and_how_many_more(app, make_company, monkeypatch):
    confirmed(app, "alex@example.org", "sector=F")
    for name in ("Dach C", "Dach A", "Dach B"):
        make_company(name, sectors=("43",))
    monkeypatch.setattr(alerts, "DIGEST_LIMIT", 1)
    run(app)
    (message,) = digests(app)
    assert message.subject == "3 Neuigkeiten zu Ihrem Suchauftrag"
    assert "* Dach A," in message.body and "Dach B" not in message.body
    assert "Und 2 weitere Arbeitgeber: alle stehen auf der Karte." in message.body
    assert len(stored(app)[0].snapshot) == 3  # all of them are known next week


def test_a_changed_offer_is_mailed_with_what_changed(app, make_company):
    bakery = make_company("Bäckerei Korn", sectors=("10",))
    builder = make_company("Bau Stein", sectors=("43",), open_positions=1)
    still = make_company("Bau Fels", sectors=("43",), open_positions=4)
    confirmed(app, "alex@example.org", "")
    change_company(app, bakery, apprenticeships=[{"code": "baecker", "places": 2}])
    change_company(app, builder, open_positions=3, offers_internships=True)
    change_company(app, still, open_positions=2)  # fewer positions are not news
    run(app)
    (message,) = digests(app)
    assert message.subject == "2 Neuigkeiten zu Ihrem Suchauftrag"
    body = message.body
    assert "Arbeitgeber mit neuen Angeboten:" in body
    assert "Neu passende Arbeitgeber:" not in body
    assert "Neue Ausbildungsplätze: Bäcker/in (2 Plätze)" in body
    assert "Jetzt 3 offene Stellen" in body and "Bietet jetzt Praktika an" in body
    assert "Bau Fels" not in body
    # more places in the same occupation count again the next week
    change_company(app, bakery, apprenticeships=[{"code": "baecker", "places": 3}])
    run(app, NEXT_MONDAY)
    assert "Neue Ausbildungsplätze: Bäcker/in (3 Plätze)" in digests(app)[-1].body


def test_nothing_new_sends_nothing_and_a_second_run_in_the_week_does_nothing(app, make_company):
    make_company("Dachdeckerei Alt", sectors=("43",))
    alert_id = confirmed(app, "alex@example.org", "sector=F")
    report = run(app)
    assert (report.sent, report.quiet) == (0, 1)
    assert digests(app) == []
    assert stored(app)[0].last_sent_week == "2027-W09"  # the week is recorded all the same

    make_company("Dachdeckerei Neu", sectors=("43",))
    assert run(app, FRIDAY).alerts == []  # done this week
    assert digests(app) == []
    report = run(app, NEXT_MONDAY)
    assert report.sent == 1 and report.alerts == [alert_id]
    assert run(app, NEXT_MONDAY + timedelta(hours=1)).alerts == []
    assert len(digests(app)) == 1


def test_batches_commit_on_their_own(app, make_company, monkeypatch):
    ids = [confirmed(app, f"person{n}@example.org", "sector=F") for n in range(5)]
    make_company("Dachdeckerei Neu", sectors=("43",))
    writers = app.extensions[mail.WRITERS]
    original = writers["alert_digest"]
    calls = []

    def failing(digest):
        calls.append(digest.alert.id)
        if len(calls) == 3:
            raise RuntimeError("the mail server's template broke")
        return original(digest)

    monkeypatch.setitem(writers, "alert_digest", failing)
    with pytest.raises(RuntimeError):
        run(app, batch_size=2)
    weeks = {alert.id: alert.last_sent_week for alert in stored(app)}
    assert [weeks[i] for i in ids] == ["2027-W09", "2027-W09", None, None, None]
    assert [m.recipient for m in digests(app)] == ["person0@example.org", "person1@example.org"]

    monkeypatch.setitem(writers, "alert_digest", original)
    report = run(app, batch_size=2)
    assert report.alerts == ids[2:] and report.batches == 2
    assert sorted(m.recipient for m in digests(app)) == [f"person{n}@example.org" for n in range(5)]


def test_two_runs_at_once_mail_every_alert_once(app, make_company):
    for n in range(12):
        confirmed(app, f"person{n}@example.org", "sector=F")
    make_company("Dachdeckerei Neu", sectors=("43",))
    barrier = threading.Barrier(2)
    reports, failures = [], []

    def attempt() -> None:
        try:
            barrier.wait(timeout=30)
            reports.append(run(app, batch_size=3))
        except Exception as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sum(report.sent for report in reports) == 12
    assert sorted(m.recipient for m in digests(app)) == sorted(
        f"person{n}@example.org" for n in range(12)
    )


def test_a_search_that_no_longer_parses_is_skipped_for_the_week(app):
    alert_id = confirmed(app, "alex@example.org", "sector=F")
    with app.app_context():
        db.session.execute(
            text("UPDATE job_alerts SET filter_query = 'sector=ZZ' WHERE id = :id"),
            {"id": alert_id},
        )
        db.session.commit()
    report = run(app)
    assert report.invalid == 1 and digests(app) == []
    assert stored(app)[0].last_sent_week == "2027-W09"


def test_the_cli_sends_digests_and_prints_what_it_did(app, runner, make_company):
    confirmed(app, "alex@example.org", "sector=F")
    make_company("Dachdeckerei Neu", sectors=("43",))
    result = runner.invoke(args=["alerts", "send-digests", "--batch-size", "5"])
    assert result.exit_code == 0, result.output
    assert "1 digest(s) sent" in result.output
    again = runner.invoke(args=["alerts", "send-digests"])
    assert "0 digest(s) sent, 0 without news" in again.output
    assert len(digests(app)) == 1


# --- unsubscribing and changing the search ---------------------------------------------------


def digest_mail(app, make_company, address="alex@example.org") -> OutboxMessage:
    confirmed(app, address, "sector=F")
    make_company("Dachdeckerei Neu", sectors=("43",))
    run(app)
    return digests(app)[-1]


def test_unsubscribing_by_the_page_takes_a_get_then_a_post(app, client, make_company):
    message = digest_mail(app, make_company)
    path = UNSUBSCRIBE_PATH.search(message.body).group(1)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Jetzt abbestellen" in html and "Baugewerbe" in html
    assert len(stored(app)) == 1  # a GET changes nothing
    assert client.post(path).status_code == 400  # a plain POST needs the CSRF token
    assert len(stored(app)) == 1

    done = client.post(path, data={"csrf_token": CSRF.search(html).group(1)})
    assert done.status_code == 200
    assert "Sie haben den Suchauftrag abbestellt" in done.get_data(as_text=True)
    assert stored(app) == []
    assert all(m.recipient == "" and m.body == "" for m in outbox(app))  # the copies emptied
    later = client.get(path)
    assert later.status_code == 200
    assert "Diesen Suchauftrag gibt es nicht mehr" in later.get_data(as_text=True)


def test_one_click_unsubscribing_by_rfc_8058(app, client, make_company):
    message = digest_mail(app, make_company)
    header = message.headers["List-Unsubscribe"]
    path = re.search(r"https?://[^/]+(/[^>]+)>", header).group(1)
    assert path == UNSUBSCRIBE_PATH.search(message.body).group(1)
    response = client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert stored(app) == []
    repeated = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert repeated.status_code == 200  # mail programs may retry
    forged = client.post(path[:-4] + "abcd", data={"List-Unsubscribe": "One-Click"})
    assert forged.status_code == 404


def test_bad_and_expired_unsubscribe_links_get_a_clear_page(app, client, make_company, monkeypatch):
    message = digest_mail(app, make_company)
    path = UNSUBSCRIBE_PATH.search(message.body).group(1)
    broken = client.get(path[:-3] + "xyz")
    assert broken.status_code == 404
    assert "nicht (mehr) gültig" in broken.get_data(as_text=True)
    monkeypatch.setitem(tokens.PURPOSES, "alert", -1)
    expired = client.get(path)
    assert expired.status_code == 410
    assert "Dieser Link ist abgelaufen" in expired.get_data(as_text=True)
    assert len(stored(app)) == 1


def test_changing_the_search_keeps_the_alert_and_takes_a_new_snapshot(app, client, make_company):
    message = digest_mail(app, make_company)
    path = CHANGE_PATH.search(message.body).group(1)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    token = path.split("/")[2]
    assert f'href="/?sector=F#suchauftrag={token}"' in html
    csrf = CSRF.search(client.get("/").get_data(as_text=True)).group(1)

    refused = client.post(path, data={"csrf_token": csrf, "sector": "ZZ"})
    assert refused.status_code == 422
    assert "Unbekannter Wirtschaftszweig „ZZ“" in refused.get_data(as_text=True)
    assert stored(app)[0].filter_query == "sector=F"

    make_company("Bäckerei Korn", sectors=("10",))
    done = client.post(path, data={"csrf_token": csrf, "sector": "C", "size": "micro"})
    assert done.status_code == 200
    assert "Ihr Suchauftrag hat jetzt diese Suche" in done.get_data(as_text=True)
    (alert,) = stored(app)
    assert alert.filter_query == "sector=C&size=micro"
    assert len(alert.snapshot) == 1  # the bakery: not news next week
    run(app, NEXT_MONDAY)
    assert len(digests(app)) == 1

    subscribe(app, "alex@example.org", "sector=Q")
    taken = client.post(path, data={"csrf_token": csrf, "sector": "Q"})
    assert taken.status_code == 409
    assert stored(app)[0].filter_query == "sector=C&size=micro"


# --- expiry and bounces ----------------------------------------------------------------------


def test_unconfirmed_alerts_go_after_seven_days(app, runner):
    old = subscribe(app, "old@example.org", "sector=F")
    recent = subscribe(app, "recent@example.org", "sector=F")
    kept = confirmed(app, "kept@example.org", "sector=F")
    with app.app_context():
        db.session.execute(
            text(
                "UPDATE job_alerts SET created_at = now() - interval '8 days' WHERE id = ANY(:ids)"
            ),
            {"ids": [old, kept]},
        )
        db.session.execute(
            text("UPDATE job_alerts SET created_at = now() - interval '6 days' WHERE id = :id"),
            {"id": recent},
        )
        db.session.commit()
    result = runner.invoke(args=["alerts", "expire"])
    assert result.exit_code == 0, result.output
    assert "Unconfirmed job alerts deleted: 1." in result.output
    assert {a.id for a in stored(app)} == {recent, kept}
    assert [m.recipient for m in outbox(app)] == ["", "recent@example.org", "kept@example.org"]
    assert "deleted: 0." in runner.invoke(args=["alerts", "expire"]).output


class FakeServer(list):
    """The messages a fake SMTP server took; ``replies`` (address -> code) it refuses."""

    def __init__(self):
        super().__init__()
        self.replies: dict[str, int] = {}


@pytest.fixture
def smtp(app, monkeypatch):
    """SMTP switched on with a fake server that refuses the addresses in ``smtp.replies``
    (address -> SMTP code); a list of the messages it took, with their headers."""
    app.config["MAIL_SMTP_HOST"] = "smtp.example.test"
    taken = FakeServer()

    def send(recipient, subject, body, headers=None):
        code = taken.replies.get(recipient)
        if code:
            raise smtplib.SMTPRecipientsRefused({recipient: (code, b"refused")})
        taken.append((recipient, subject, dict(headers or {})))

    monkeypatch.setattr(mail, "_smtp_send", send)
    return taken


def test_the_digest_goes_out_by_smtp_with_the_unsubscribe_headers(app, smtp, make_company):
    message = digest_mail(app, make_company)
    recipient, subject, headers = smtp[-1]
    assert (recipient, subject) == (message.recipient, message.subject)
    assert headers == message.headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_permanent_refusal_at_delivery_deletes_the_addresses_alerts(app, smtp):
    confirmed(app, "gone@example.org", "sector=F")
    confirmed(app, "fine@example.org", "sector=F")
    smtp.replies["gone@example.org"] = 550
    subscribe(app, "gone@example.org", "sector=C")  # its confirmation mail is refused for good
    assert [a.email for a in stored(app)] == ["fine@example.org"]
    refused = [m for m in outbox(app) if "refused" in m.error]
    assert len(refused) == 1 and refused[0].recipient == ""  # the copy emptied


def test_temporary_refusals_count_and_the_limit_deletes(app, smtp, make_company):
    alert_id = confirmed(app, "shaky@example.org", "")
    smtp.replies["shaky@example.org"] = 451
    for week in range(alerts.BOUNCE_LIMIT - 1):
        make_company(f"Neu {week}")
        run(app, MONDAY + timedelta(days=7 * week))
    (alert,) = stored(app)
    assert alert.bounce_count == alerts.BOUNCE_LIMIT - 1 and alert.last_bounce_at is not None
    del smtp.replies["shaky@example.org"]
    make_company("Neu danach")
    run(app, MONDAY + timedelta(days=7 * alerts.BOUNCE_LIMIT))
    assert stored(app)[0].bounce_count == 0  # a delivery resets the count
    smtp.replies["shaky@example.org"] = 452
    for week in range(alerts.BOUNCE_LIMIT):
        make_company(f"Später {week}")
        run(app, MONDAY + timedelta(days=7 * (alerts.BOUNCE_LIMIT + 1 + week)))
    assert alert_id not in {a.id for a in stored(app)}


DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mail.example.org>
To: atlas@example.org
Subject: Undelivered Mail Returned to Sender
Date: Mon, 01 Mar 2027 12:00:00 +0100
Message-ID: <dsn-{n}@mail.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.example.org. Your message could not be delivered.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.org
Arrival-Date: Mon, 01 Mar 2027 11:59:58 +0100

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{failed}>: Recipient address rejected: User unknown

Final-Recipient: rfc822; {delayed}
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.net: Connection timed out

--BOUNDARY
Content-Type: text/rfc822-headers

From: KMU-Atlas <atlas@example.org>
To: {failed}
Subject: 1 Neuigkeit zu Ihrem Suchauftrag

--BOUNDARY--
"""


def dsn(n: int, failed: str, delayed: str) -> bytes:
    return DSN.format(n=n, failed=failed, delayed=delayed).replace("\n", "\r\n").encode()


def test_delivery_status_notifications_in_an_mbox_delete_failed_addresses(app, runner, tmp_path):
    confirmed(app, "Unknown@Example.org", "sector=F")
    subscribe(app, "unknown@example.org", "sector=C")
    confirmed(app, "slow@example.org", "sector=F")
    confirmed(app, "fine@example.org", "sector=F")
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    box.add(message_from_bytes(dsn(1, "unknown@example.org", "slow@example.org")))
    box.add(message_from_bytes(b"From: someone@example.org\r\nSubject: not a DSN\r\n\r\nHello"))
    box.flush()
    box.close()
    result = runner.invoke(args=["alerts", "process-bounces", str(path)])
    assert result.exit_code == 0, result.output
    assert "Failed recipients found: 1; job alerts deleted: 2." in result.output
    assert "unknown@example.org" not in result.output  # no address in the output
    assert sorted(a.email for a in stored(app)) == ["fine@example.org", "slow@example.org"]
    again = runner.invoke(args=["alerts", "process-bounces", str(path)])
    assert "job alerts deleted: 0." in again.output


def test_delivery_status_notifications_in_a_maildir(app, runner, tmp_path):
    confirmed(app, "gone@example.org", "sector=F")
    confirmed(app, "slow@example.org", "sector=F")
    box = mailbox.Maildir(tmp_path / "Maildir")
    box.add(dsn(2, "gone@example.org", "slow@example.org"))
    box.close()
    result = runner.invoke(args=["alerts", "process-bounces", str(tmp_path / "Maildir")])
    assert result.exit_code == 0, result.output
    assert [a.email for a in stored(app)] == ["slow@example.org"]
    missing = runner.invoke(args=["alerts", "process-bounces", str(tmp_path / "nothing")])
    assert missing.exit_code != 0


# --- the start page and the privacy page -----------------------------------------------------


def test_the_start_page_carries_the_search_in_its_alert_form(app, client):
    html = client.get("/?size=small,micro&sector=F&zoom=9&page=1").get_data(as_text=True)
    form = html[html.index('id="job-alert"') :]
    assert '<form method="post" action="/suchauftrag" id="alert-form"' in form
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)
    assert [pair for pair in hidden if pair[0] not in ("consent_version", "csrf_token")] == [
        ("sector", "F"),
        ("size", "small,micro"),
    ]
    broken = client.get("/?sector=ZZ").get_data(as_text=True)
    form = broken[broken.index('id="job-alert"') :]
    assert '<input type="hidden" name="sector" value="ZZ">' in form  # POST shows the message


def test_the_privacy_page_says_what_is_stored_and_is_linked_from_every_page(app, client):
    page = client.get("/datenschutz")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text_ in (
        "Suchaufträge per E-Mail",
        "wenn Sie ihn nicht innerhalb von 7 Tagen bestätigen",
        "wenn E-Mails an Ihre Adresse dauerhaft nicht zugestellt werden können",
        "30 Tage nach der Veranstaltung gelöscht",
        "nur auf Ihrem Gerät",
        "„lang“",
        "CSRF",
        "Ansprechperson werden nie veröffentlicht",
        "keine Analyse-, Tracking- oder Werbedienste",
        "von tiles.example.test",
    ):
        assert text_ in html, text_
    assert 'class="placeholder"' in html  # what the operator completes is marked
    for path in ("/", "/veranstaltungen", "/suchauftrag"):
        assert 'href="/datenschutz"' in client.get(path).get_data(as_text=True)
    assert "Disallow: /suchauftrag/" in client.get("/robots.txt").get_data(as_text=True)
