"""Who may reach what: anonymous visitors, a business holding an edit link, curators and
admins, against every workspace route (found in the URL map, so new routes are covered
automatically) and every public route for entries in each status."""

from __future__ import annotations

import pytest
from werkzeug.routing import AnyConverter

from app.extensions import db
from app.models import ChangeRequest, Company, CompanyStatus
from app.services import questionnaire as questionnaire_service
from tests.conftest import AuthActions, csrf_token

ROLES = ("anonymous", "business", "curator", "admin")
#: Routes everyone may use: the sign-in form and signing out.
OPEN_ROUTES = {"staff.login", "staff.logout"}


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


def signed_in_client(app, role, make_staff, published_id):
    """A test client acting as ``role``."""
    client = app.test_client()
    if role in ("curator", "admin"):
        response = AuthActions(client, make_staff).login(role)
        assert response.status_code == 302
    elif role == "business":
        with app.test_request_context():
            token = questionnaire_service.edit_token(db.session.get(Company, published_id))
        assert client.get(f"/mitmachen/aendern/{token}").status_code == 302
    return client


def workspace_requests(app, published_id):
    """(endpoint, method, url) for every route under /agentur."""
    requests = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/agentur"):
            continue
        values = {}
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                values[name] = sorted(converter.items)[0]
            else:
                values[name] = published_id
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            requests.append((rule.endpoint, method, url))
    return requests


@pytest.mark.parametrize("role", ROLES)
def test_workspace_routes_by_role(app, make_staff, entries, role):
    published = entries[CompanyStatus.PUBLISHED]
    client = signed_in_client(app, role, make_staff, published)
    requests = workspace_requests(app, published)
    assert len(requests) > 20
    for endpoint, method, url in requests:
        if endpoint in OPEN_ROUTES:
            continue
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": csrf_token(client)})
        status = response.status_code
        if role in ("anonymous", "business"):
            expected_forbidden = True
        elif role == "curator":
            expected_forbidden = endpoint.startswith("accounts.")
        else:
            expected_forbidden = False
        assert (status == 403) is expected_forbidden, (role, method, url, status)
        assert status < 500, (role, method, url, status)
        if role in ("anonymous", "business"):
            text = response.get_data(as_text=True)
            assert "Betrieb pending" not in text and "Betrieb draft" not in text


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
    ]
    texts = [client.get(url).get_data(as_text=True) for url in pages]
    for status, slug in slugs.items():
        detail = client.get(f"/arbeitgeber/{slug}")
        if status is CompanyStatus.PUBLISHED:
            assert detail.status_code == 200
            assert any(f"Betrieb {status.value}" in text for text in texts)
        else:
            assert detail.status_code == 404, (role, status)
            for text in texts:
                assert f"Betrieb {status.value}" not in text, (role, status)
                assert slug not in text, (role, status)
