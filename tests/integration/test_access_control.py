"""Who may reach what: anonymous visitors, a business holding an edit link, partners,
curators and admins, against every workspace route (found in the URL map, so new routes are
covered automatically; what a role may reach follows from the permission each view needs and
the role's permissions) and every public route for entries and events in each status; and a
partner against another partner's events, registrations and organisation."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.routing import AnyConverter

from app.blueprints.staff import PERMISSION_ATTRIBUTE, required_permission
from app.extensions import db
from app.models import (
    ROLE_PERMISSIONS,
    ChangeRequest,
    Company,
    CompanyStatus,
    Event,
    EventRegistration,
    Organisation,
    RegistrationStatus,
    StaffRole,
)
from app.services import questionnaire as questionnaire_service
from tests.conftest import AuthActions, csrf_token

ROLES = ("anonymous", "business", "partner", "curator", "admin")
#: Routes everyone may use: the sign-in form (both steps) and signing out.
OPEN_ROUTES = {"staff.login", "staff.login_code", "staff.logout"}
#: The organisation of the partner account the matrix signs in with (conftest's default).
PARTNER_ORGANISATION = "Jobcenter Test"


@pytest.fixture
def entries(app, make_company):
    """One published entry with a change request, and one entry in each other status."""
    ids = {
        status: make_company(f"Betrieb {status.value}", status=status) for status in CompanyStatus
    }
    with app.app_context():
        db.session.add(ChangeRequest(company_id=ids[CompanyStatus.PUBLISHED], values={}))
        db.session.commit()
    return ids


@pytest.fixture
def workspace_ids(app, make_event, make_organisation):
    """Ids for the workspace routes' parameters: an event of the partner's organisation (with
    a registration) and that organisation."""
    event_id = make_event("Eigene Veranstaltung", organisation=PARTNER_ORGANISATION)
    with app.app_context():
        db.session.add(
            EventRegistration(
                event_id=event_id,
                name="Rita Registriert",
                email="rita@example.org",
                consent_version="test",
                status=RegistrationStatus.CONFIRMED,
            )
        )
        db.session.commit()
    return {"event_id": event_id, "organisation_id": make_organisation(PARTNER_ORGANISATION)}


def signed_in_client(app, role, make_staff, published_id):
    """A test client acting as ``role``."""
    client = app.test_client()
    if role in ("partner", "curator", "admin"):
        response = AuthActions(client, make_staff).login(role)
        assert response.status_code == 302
    elif role == "business":
        with app.test_request_context():
            token = questionnaire_service.edit_token(db.session.get(Company, published_id))
        assert client.get(f"/mitmachen/aendern/{token}").status_code == 302
    return client


def workspace_requests(app, published_id, ids=None):
    """(endpoint, method, url) for every route under /agentur (a parameter named in ``ids``
    gets that id, every other number ``published_id``)."""
    requests = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/agentur"):
            continue
        values = {}
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                values[name] = sorted(converter.items)[0]
            else:
                values[name] = (ids or {}).get(name, published_id)
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            requests.append((rule.endpoint, method, url))
    return requests


def view_permission(app, endpoint: str):
    """The permission the view of ``endpoint`` needs: its own mark, else its blueprint's."""
    blueprint = app.blueprints[endpoint.split(".")[0]]
    assert hasattr(blueprint, PERMISSION_ATTRIBUTE), f"{endpoint}: blueprint not protected"
    with app.test_request_context():
        return required_permission(endpoint, getattr(blueprint, PERMISSION_ATTRIBUTE))


@pytest.mark.parametrize("role", ROLES)
def test_workspace_routes_by_role(app, make_staff, entries, workspace_ids, role):
    published = entries[CompanyStatus.PUBLISHED]
    client = signed_in_client(app, role, make_staff, published)
    requests = workspace_requests(app, published, workspace_ids)
    assert len(requests) > 20
    granted = ROLE_PERMISSIONS[StaffRole(role)] if role in {r.value for r in StaffRole} else set()
    for endpoint, method, url in requests:
        if endpoint in OPEN_ROUTES:
            continue
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": csrf_token(client)})
        status = response.status_code
        expected_forbidden = view_permission(app, endpoint) not in granted
        assert (status == 403) is expected_forbidden, (role, method, url, status)
        if endpoint.startswith("events_admin.") and not expected_forbidden:
            # the partner's own event exists: its routes are reached, not 404
            assert status != 404, (role, method, url, status)
        assert status < 500, (role, method, url, status)
        if role in ("anonymous", "business"):
            text = response.get_data(as_text=True)
            assert "Betrieb pending" not in text and "Betrieb draft" not in text
            assert "Rita Registriert" not in text


def test_the_matrix_covers_every_role_and_the_partner_role_differs():
    """Every role is in the matrix; partners are neither curators nor nobody."""
    assert set(ROLES) >= {role.value for role in StaffRole}
    partner = ROLE_PERMISSIONS[StaffRole.PARTNER]
    assert partner and partner != ROLE_PERMISSIONS[StaffRole.CURATOR]


@pytest.mark.parametrize("role", ROLES)
def test_public_routes_show_only_published_entries_to_everyone(app, make_staff, entries, role):
    client = signed_in_client(app, role, make_staff, entries[CompanyStatus.PUBLISHED])
    with app.app_context():
        slugs = {
            status: db.session.get(Company, company_id).slug
            for status, company_id in entries.items()
        }
    pages = [
        "/",
        "/?q=Betrieb",
        "/api/employers?zoom=18&bbox=6.5,51.3,7.6,51.9",
        "/api/employers/list?q=Betrieb",
        "/sitemap.xml",
        "/ueber",
        "/einbetten/karte?q=Betrieb",
        "/api/features/employers?q=Betrieb&zoom=18&bbox=6.5,51.3,7.6,51.9",
        "/ogc/collections/employers/items?limit=1000",
        "/ogc/collections/employers/items?limit=1000&f=html",
        "/api/openapi.json",
        "/api/docs",
    ]
    texts = [client.get(url).get_data(as_text=True) for url in pages]
    for status, slug in slugs.items():
        detail = client.get(f"/arbeitgeber/{slug}")
        item = client.get(f"/ogc/collections/employers/items/{entries[status]}")
        published = status is CompanyStatus.PUBLISHED
        assert item.status_code == (200 if published else 404), (role, status)
        if status is CompanyStatus.PUBLISHED:
            assert detail.status_code == 200
            assert any(f"Betrieb {status.value}" in text for text in texts)
        else:
            assert detail.status_code == 404, (role, status)
            for text in texts:
                assert f"Betrieb {status.value}" not in text, (role, status)
                assert slug not in text, (role, status)


@pytest.fixture
def partner_events(app, make_event, make_organisation):
    """Partner organisations A and B: A with one event, B with a published event with a
    registration, a pending and a rejected one."""
    a = make_organisation("Organisation A")
    b = make_organisation("Organisation B", review_required=True)
    ids = {
        "a_org": a,
        "b_org": b,
        "a_event": make_event("Termin von A", organisation="Organisation A"),
        "b_published": make_event("B veröffentlicht", organisation="Organisation B"),
        "b_pending": make_event("B wartet", organisation="Organisation B", status="pending"),
        "b_rejected": make_event("B abgelehnt", organisation="Organisation B", status="rejected"),
    }
    with app.app_context():
        db.session.add(
            EventRegistration(
                event_id=ids["b_published"],
                name="Bernd Geheim",
                email="bernd.geheim@example.org",
                consent_version="test",
                status=RegistrationStatus.CONFIRMED,
            )
        )
        organisation = db.session.get(Organisation, b)
        organisation.feed_url = "https://kalender-b.example/b.ics"
        db.session.commit()
    return ids


B_SECRETS = ("B veröffentlicht", "B wartet", "B abgelehnt", "Bernd Geheim", "bernd.geheim")


def event_state(app, event_id: int) -> tuple:
    with app.app_context():
        event = db.session.get(Event, event_id)
        return (event.title, event.status, event.cancelled_at, event.sequence, event.rrule)


def test_partner_a_cannot_reach_partner_b(app, make_staff, partner_events):
    ids = partner_events
    client = app.test_client()
    auth = AuthActions(client, make_staff)
    assert (
        auth.login("partner", email="a@partner.example", organisation_id=ids["a_org"]).status_code
        == 302
    )
    listing = client.get("/agentur/veranstaltungen/").get_data(as_text=True)
    assert "Termin von A" in listing
    responses = [listing]
    b_events = (ids["b_published"], ids["b_pending"], ids["b_rejected"])
    before = {event_id: event_state(app, event_id) for event_id in b_events}
    form = {
        "title": "Von A überschrieben",
        "kind": "info_event",
        "start_date": "2030-01-10",
        "start_time": "10:00",
        "end_time": "11:00",
        "repeat": "weekly",
        "attendance": "online",
        "online_url": "https://a.example",
    }
    for event_id in b_events:
        base = f"/agentur/veranstaltungen/{event_id}"
        for method, url, data, expected in (
            ("GET", base, None, 404),
            ("POST", base, form, 404),
            ("POST", f"{base}/absagen", {"confirm": "1", "note": "A sagt ab"}, 404),
            ("POST", f"{base}/freigeben", {}, 403),
            ("POST", f"{base}/ablehnen", {}, 403),
            ("GET", f"{base}/anmeldungen", None, 404),
            ("GET", f"{base}/anmeldungen.csv", None, 404),
        ):
            response = client.get(url) if method == "GET" else auth.post(url, data)
            assert response.status_code == expected, (method, url, response.status_code)
            responses.append(response.get_data(as_text=True))
    # an id that does not exist answers the same as B's ids
    assert client.get("/agentur/veranstaltungen/999999").status_code == 404
    # B's organisation and feed: not A's to see or set
    for method, url in (
        ("GET", f"/agentur/organisationen/{ids['b_org']}"),
        ("POST", f"/agentur/organisationen/{ids['b_org']}"),
        ("POST", f"/agentur/organisationen/{ids['b_org']}/abrufen"),
        ("GET", "/agentur/organisationen/"),
    ):
        data = {"name": "Organisation B", "feed_url": "https://a-kapert.example/x.ics"}
        response = client.get(url) if method == "GET" else auth.post(url, data)
        assert response.status_code == 403, (method, url)
        responses.append(response.get_data(as_text=True))
    # A's own feed page sets A's organisation's feed, never B's
    response = auth.post(
        "/agentur/veranstaltungen/feed",
        {"feed_url": "https://93.184.215.14/a.ics", "organisation_id": str(ids["b_org"])},
    )
    assert response.status_code == 303
    responses.append(client.get("/agentur/veranstaltungen/feed").get_data(as_text=True))
    # a new event posted with B's organisation is A's
    response = auth.post(
        "/agentur/veranstaltungen/neu",
        {**form, "title": "Neu von A", "organisation_id": str(ids["b_org"]), "repeat": "none"},
    )
    assert response.status_code == 303
    responses.append(client.get("/agentur/veranstaltungen/").get_data(as_text=True))
    for text in responses:
        for secret in B_SECRETS:
            assert secret not in text, secret
    with app.app_context():
        assert db.session.get(Organisation, ids["b_org"]).feed_url == (
            "https://kalender-b.example/b.ics"
        )
        assert db.session.get(Organisation, ids["a_org"]).feed_url == (
            "https://93.184.215.14/a.ics"
        )
        new = db.session.scalar(select(Event).where(Event.title == "Neu von A"))
        assert new.organisation_id == ids["a_org"]
    assert {event_id: event_state(app, event_id) for event_id in b_events} == before


@pytest.mark.parametrize("role", ROLES)
def test_public_event_pages_show_only_published_events(app, make_staff, partner_events, role):
    ids = partner_events
    client = signed_in_client(app, role, make_staff, None) if role != "business" else None
    client = client or app.test_client()  # the business role needs an entry: as anonymous
    with app.app_context():
        slugs = {key: db.session.get(Event, ids[key]).slug for key in ids if "_org" not in key}
    pages = {
        "/veranstaltungen": None,
        "/veranstaltungen/kalender": None,
        "/api/events?zoom=18&bbox=6.5,51.3,7.6,51.9": None,
        "/api/events/list": None,
        "/einbetten/veranstaltungen": None,
        "/veranstaltungen.ics": None,
        "/sitemap.xml": None,
        "/ogc/collections/events/items?limit=1000": None,
        "/ogc/collections/events/items?limit=1000&f=html": None,
    }
    for url in pages:
        response = client.get(url)
        if response.status_code == 404:
            pytest.fail(f"{url} is missing (404)")
        pages[url] = response.get_data(as_text=True)
    assert any("B veröffentlicht" in text for text in pages.values())
    for key in ("b_pending", "b_rejected"):
        for url in (
            f"/veranstaltungen/{slugs[key]}",
            f"/veranstaltungen/{slugs[key]}.ics",
            f"/ogc/collections/events/items/{ids[key]}",
        ):
            assert client.get(url).status_code == 404, (role, url)
        title = "B wartet" if key == "b_pending" else "B abgelehnt"
        for url, text in pages.items():
            assert title not in text, (role, url)
            assert slugs[key] not in text, (role, url)
    assert client.get(f"/veranstaltungen/{slugs['b_published']}").status_code == 200
    for text in pages.values():
        assert "Bernd Geheim" not in text
