"""The jobseeker side in the languages of the region (issue 15), on real PostGIS.

- Every jobseeker page, rendered in Turkish, Arabic and Ukrainian while every message looked
  up is recorded, asks only for messages that the language's catalogue translates (not empty,
  not fuzzy): nothing on these pages falls back to German. The pages are listed once in
  :data:`JOBSEEKER_PAGES` (extend it with every new jobseeker page).
- ``lang`` and ``dir`` on the pages, the switch as a form, English on the pages for businesses
  and staff, the taxonomy labels and layer names in the language, German apprenticeship names,
  employers' and organisers' texts marked ``lang="de"``, dates following the language (Latin
  digits in Arabic), and registration mails in the registrant's language.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import flask_babel
import pytest
from babel.dates import format_date
from babel.messages.pofile import read_po
from flask_babel import get_locale
from sqlalchemy import select

from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import Event, EventRegistration, LayerFeature, OutboxMessage
from app.notifications import REGISTRATION_SUBJECTS, registration_mail
from app.services import registrations
from tests.conftest import default_start

LANGUAGES = ("tr", "ar", "uk")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CATALOGUES = PROJECT_ROOT / "app" / "translations"

#: Every jobseeker page (path, with the fixtures' slugs as {employer}, {event}), as a visitor
#: sees it: the start page with and without filters and with a filter error, the list and map
#: data and the labels the map's script gets, the employer page, the event list, calendar and
#: page, the registration pages, the embeds, the "about" page and error pages.
JOBSEEKER_PAGES = (
    "/",
    "/?sector=C&occupation=2&family=part_time&offers=apprenticeship&near=45657&radius_km=10"
    "&within=childcare:1000&size=small",
    "/?near=Atlantis",
    "/?radius_km=abc&sector=ZZ",
    "/api/employers/list?near=45657&radius_km=25&sort=distance",
    "/api/employers?zoom=12",
    "/api/employers/list?sector=ZZ",
    "/api/taxonomies",
    "/api/taxonomies/search?q=Bäcker",
    "/api/layers",
    "/api/events",
    "/api/events/list",
    "/arbeitgeber/{employer}",
    "/arbeitgeber/{employer}?sector=C&near=Marl",
    "/veranstaltungen",
    "/veranstaltungen?kind=info_event&target_group=newcomers&free=yes&attendance=on_site",
    "/veranstaltungen?kind=party",
    "/veranstaltungen/kalender",
    "/veranstaltungen/kalender?monat=1999-99",
    "/veranstaltungen/{event}",
    "/veranstaltungen/{event}/anmelden",
    "/veranstaltungen/{event}/angemeldet",
    "/veranstaltungen/abmelden/kein-gueltiger-link",
    "/veranstaltungen.ics",
    "/einbetten/karte?sector=C",
    "/einbetten/veranstaltungen",
    "/ueber",
    "/gibt-es-nicht",
    "/arbeitgeber/gibt-es-nicht",
)
#: Jobseeker pages of issue 15's other parts (shortlist, alerts, Leichte Sprache, privacy,
#: the installable app). Extend both lists with every new page a jobseeker can open.
OTHER_JOBSEEKER_PAGES = (
    "/merkliste",
    "/merkliste?arbeitgeber={employer}&veranstaltungen={event}",
    "/suchauftrag?sector=C",
    "/leichte-sprache",
    "/datenschutz",
    "/impressum",
    "/barrierefreiheit",
    "/offline",
    "/manifest.webmanifest",
)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def world(app, make_company, make_event):
    """An employer with everything its page shows, and an event open for registration that
    the employer takes part in; (employer slug, event slug)."""
    employer = make_company(
        "Bäckerei Yıldız",
        slug="baeckerei-yildiz",
        description="Frische Brötchen. Wir bilden aus.",
        street="Hauptstraße",
        house_number="5",
        phone="02361 12345",
        email="info@yildiz.example",
        website="https://yildiz.example",
        employees=12,
        sectors=("10",),
        occupations=("29",),
        family=("part_time", "childcare_support"),
        offers_apprenticeships=True,
        offers_internships=True,
        open_positions=2,
        apprenticeships=[{"code": "baecker", "places": 2}],
        certificate_name="berufundfamilie",
        certificate_valid_until=date.today() + timedelta(days=400),
        languages=["de", "tr", "ar"],
    )
    event_id = make_event(
        "Infoabend Ausbildung",
        registration_open=True,
        capacity=20,
        description="Wir stellen Ausbildungsberufe vor.",
        accessibility="Rollstuhlgerecht.",
        target_groups=["school_leavers", "newcomers"],
        company_ids=[employer],
        free_of_charge=False,
        price_note="5 Euro für Material",
    )
    with app.app_context():
        for kind, name, properties in (
            ("childcare", "Kita Sonnenschein", {"operator": "Stadt", "opening_hours": "7–17"}),
            ("transit", "Recklinghausen Hbf", {"lines": ["S9", "RE2"]}),
            ("housing", "2-Zimmer-Wohnung", {"rooms": 2, "rent": "500 €"}),
        ):
            db.session.add(
                LayerFeature(
                    kind=kind,
                    name=name,
                    properties=properties,
                    location="SRID=4326;POINT(7.1985 51.6150)",
                    source="test",
                )
            )
        db.session.commit()
        event_slug = db.session.get(Event, event_id).slug
    return "baeckerei-yildiz", event_slug


@pytest.fixture
def recorded(monkeypatch):
    """{language: set of message ids} looked up while the test runs: every gettext and
    ngettext of the translations object Flask-Babel uses (Python code and templates)."""
    seen: dict[str, set] = {}
    original = flask_babel.Domain.get_translations

    class Recording:
        def __init__(self, translations):
            self._translations = translations

        def _note(self, message_id):
            if message_id:
                seen.setdefault(str(get_locale()), set()).add(message_id)

        def ugettext(self, message):
            self._note(message)
            return self._translations.ugettext(message)

        def ungettext(self, singular, plural, n):
            self._note((singular, plural))
            return self._translations.ungettext(singular, plural, n)

        def upgettext(self, context, message):
            self._note(message)
            return self._translations.upgettext(context, message)

        def unpgettext(self, context, singular, plural, n):
            self._note((singular, plural))
            return self._translations.unpgettext(context, singular, plural, n)

        gettext, ngettext = ugettext, ungettext
        pgettext, npgettext = upgettext, unpgettext

        def __getattr__(self, name):
            return getattr(self._translations, name)

    monkeypatch.setattr(
        flask_babel.Domain, "get_translations", lambda self: Recording(original(self))
    )
    return seen


def catalogue(language: str):
    with open(CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as file:
        return read_po(file)


def untranslated(language: str, message_ids: set) -> list[str]:
    """The message ids the language's catalogue lacks, leaves empty (a plural form too) or
    marks fuzzy."""
    messages = catalogue(language)
    found = []
    for message_id in message_ids:
        message = messages.get(message_id)
        strings = message.string if message is not None else ""
        strings = strings if isinstance(strings, tuple) else (strings,)
        if message is None or not all(strings) or message.fuzzy:
            found.append(message_id if isinstance(message_id, str) else message_id[0])
    return sorted(found)


def visit(client, pages, slugs, language, statuses=(200, 400, 404, 422)):
    for page in pages:
        url = page.format(employer=slugs[0], event=slugs[1])
        url += ("&" if "?" in url else "?") + f"lang={language}"
        response = client.get(url)
        assert response.status_code in statuses, (url, response.status_code)


def register(client, slug, language, **fields) -> object:
    """Register through the form (CSRF token from the page), in ``language``."""
    page = client.get(f"/veranstaltungen/{slug}/anmelden?lang={language}")
    data = {
        "csrf_token": CSRF.search(page.get_data(as_text=True)).group(1),
        "name": "Ayşe Yılmaz",
        "email": f"ayse.{language}@example.org",
        "note": "",
        "consent": "y",
        "consent_version": registrations.REGISTRATION_CONSENT_VERSION,
        **fields,
    }
    return client.post(f"/veranstaltungen/{slug}/anmelden?lang={language}", data=data)


# --- no untranslated text on the jobseeker pages --------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_jobseeker_page_has_no_untranslated_text(app, client, world, recorded, language):
    visit(client, JOBSEEKER_PAGES, world, language)
    # the registration form with errors, a registration, its mails and the cancellation page
    assert register(client, world[1], language, email="kaputt", consent="").status_code == 422
    assert register(client, world[1], language).status_code == 303
    with app.test_request_context():
        registration = db.session.scalars(select(EventRegistration)).one()
        assert registration.language == language
        for kind in REGISTRATION_SUBJECTS:
            registration_mail(kind, registration)
        body = db.session.scalars(select(OutboxMessage.body)).first()
    cancel_path = re.search(r"(/veranstaltungen/abmelden/[^\s?]+)", body).group(1)
    assert client.get(f"{cancel_path}?lang={language}").status_code == 200
    looked_up = recorded.get(language, set())
    assert len(looked_up) > 250  # the pages were really shown in the language
    missing = untranslated(language, looked_up)
    assert missing == [], f"{len(missing)} texts of jobseeker pages untranslated in {language}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_other_jobseeker_pages_have_no_untranslated_text(client, world, recorded, language):
    visit(client, OTHER_JOBSEEKER_PAGES, world, language, statuses=(200,))
    missing = untranslated(language, recorded.get(language, set()))
    assert missing == [], f"{len(missing)} texts untranslated in {language}"


def test_the_recording_sees_what_a_page_asks_for(client, world, recorded):
    # the check above can fail: a page's own texts are among the recorded ids
    client.get("/veranstaltungen?lang=tr")
    assert "Veranstaltungen in %(region)s" in recorded["tr"]
    assert "Filter zurücksetzen" in recorded["tr"]
    assert untranslated("tr", {"Ein Text, den es in keinem Katalog gibt"}) == [
        "Ein Text, den es in keinem Katalog gibt"
    ]


# --- lang and dir, the switch, English for businesses and staff --------------------------------


@pytest.mark.parametrize(
    ("language", "direction"),
    [("de", "ltr"), ("en", "ltr"), ("tr", "ltr"), ("ar", "rtl"), ("uk", "ltr")],
)
def test_lang_and_dir_on_every_kind_of_page(client, world, language, direction):
    for page in (
        "/",
        f"/arbeitgeber/{world[0]}",
        "/veranstaltungen",
        "/gibt-es-nicht",
        "/einbetten/karte",
        "/einbetten/veranstaltungen",
    ):
        html = client.get(f"{page}?lang={language}").get_data(as_text=True)
        assert f'<html lang="{language}" dir="{direction}">' in html, page


def test_the_switch_is_a_labelled_form_that_keeps_the_search(client):
    html = client.get("/?sector=F&family=part_time&family=home_office&lang=ar").get_data(
        as_text=True
    )
    switch = html.split('<form class="language-switch"', 1)[1].split("</form>", 1)[0]
    assert 'method="get" action="/"' in switch
    assert switch.count('type="hidden"') == 3
    assert '<input type="hidden" name="family" value="home_office">' in switch
    assert (
        '<label for="site-language">' in switch
        and '<select id="site-language" name="lang">' in switch
    )
    options = re.findall(r'<option value="(\w+)" lang="(\w+)"( selected)?>([^<]+)</option>', switch)
    assert options == [
        ("de", "de", "", "Deutsch"),
        ("en", "en", "", "English"),
        ("tr", "tr", "", "Türkçe"),
        ("ar", "ar", " selected", "العربية"),
        ("uk", "uk", "", "Українська"),
    ]
    assert '<button type="submit"' in switch
    # choosing a language keeps the search and sets the cookie
    chosen = client.get("/?sector=F&family=part_time&lang=uk")
    assert any(c.startswith("lang=uk;") for c in chosen.headers.getlist("Set-Cookie"))
    assert '<option value="F" selected>' in chosen.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "english"),
    [
        ("/agentur/anmelden", "Sign-in for the agency"),
        ("/mitmachen/", "Young people and skilled workers look for employers near them."),
        ("/einbetten", "<h1>Embed on your website</h1>"),
    ],
)
def test_a_workspace_page_in_turkish_shows_english(client, path, english):
    client.get("/?lang=tr")  # the visitor chose Turkish (cookie)
    html = client.get(path).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html
    assert english in html
    switch = html.split('<form class="language-switch"', 1)[1].split("</form>", 1)[0]
    assert re.findall(r'<option value="(\w+)"', switch) == ["de", "en"]
    # the jobseeker pages stay Turkish
    assert '<html lang="tr" dir="ltr">' in client.get("/").get_data(as_text=True)


# --- the taxonomies, layers, apprenticeships and employers' own texts ---------------------------


def test_taxonomy_labels_and_layer_names_follow_the_language(client, world):
    body = client.get("/api/taxonomies?lang=uk").get_json()
    sections = {s["code"]: s for s in body["sectors"]}
    assert sections["C"]["label"] == "Переробна промисловість"
    assert {d["code"]: d["label"] for d in sections["C"]["divisions"]}["10"] == (
        "Виробництво харчових продуктів"
    )
    family = {f["code"]: f["label"] for f in body["family"]}
    assert family["part_time"] == "Можлива неповна зайнятість"
    html = client.get("/?lang=tr").get_data(as_text=True)
    assert "Gıda ürünlerinin imalatı" in html  # a division in the filter
    assert "Yarı zamanlı çalışma mümkün" in html  # a family criterion
    assert "Yakında çocuk bakımı" in html  # the proximity filter of a layer kind
    layers = {k["key"]: k for k in client.get("/api/layers?lang=ar").get_json()["kinds"]}
    assert layers["childcare"]["name"] == "رعاية الأطفال"
    assert layers["childcare"]["fields"][0]["label"] == "الجهة المشغّلة"


def test_employers_texts_are_marked_german_and_apprenticeships_stay_german(client, world):
    html = client.get(f"/arbeitgeber/{world[0]}?lang=ar").get_data(as_text=True)
    assert '<h1><bdi lang="de">Bäckerei Yıldız</bdi></h1>' in html
    assert '<p class="lead"><bdi lang="de">Frische Brötchen. Wir bilden aus.</bdi></p>' in html
    assert '<span class="nearby-name" lang="de" dir="auto">Kita Sonnenschein</span>' in html
    assert re.search(r'<li><bdi lang="de">Bäcker/in</bdi> \([^)]+\)</li>', html)  # German name
    assert "صنع المنتجات الغذائية" in html  # the division in Arabic
    listing = client.get("/?lang=tr").get_data(as_text=True)
    assert re.search(
        r'class="employer-link" href="[^"]+" lang="de" dir="auto">Bäckerei Yıldız<', listing
    )
    assert '<bdi lang="de">Bäcker/in</bdi> (' in listing
    english = client.get(f"/arbeitgeber/{world[0]}?lang=en").get_data(as_text=True)
    assert '<li><bdi lang="en">Baker</bdi> (2 places)</li>' in english
    event = client.get(f"/veranstaltungen/{world[1]}?lang=uk").get_data(as_text=True)
    assert '<h1><bdi lang="de">Infoabend Ausbildung</bdi></h1>' in event
    assert 'class="event-text event-description" lang="de" dir="auto"' in event
    assert '<bdi lang="de">5 Euro für Material</bdi>' in event
    properties = client.get("/api/employers/list?lang=tr").get_json()["items"][0]
    assert properties["apprenticeships"][0]["lang"] == "de"


# --- dates and mails -----------------------------------------------------------------------


def test_event_dates_follow_the_language_with_latin_digits(client, world):
    start = default_start()
    for language in ("tr", "ar", "uk"):
        html = client.get(f"/veranstaltungen?lang={language}").get_data(as_text=True)
        assert format_date(start.date(), "full", locale=language) in html, language
    arabic = client.get("/veranstaltungen?lang=ar").get_data(as_text=True)
    assert not re.search("[\u0660-\u0669]", arabic)  # no Arabic-Indic digits anywhere
    assert str(start.day) in arabic


def test_registration_mails_go_out_in_the_registrants_language(app, client, world):
    assert register(client, world[1], "uk").status_code == 303
    with app.app_context():
        registration = db.session.scalars(select(EventRegistration)).one()
        assert registration.language == "uk"
        mail = db.session.scalars(select(OutboxMessage)).one()
    assert format_date(default_start().date(), "full", locale="uk") in mail.body
    assert re.search(r"/veranstaltungen/abmelden/\S+\?lang=uk", mail.body)
