"""ASVS 4.0 level 2 for staff sign-in (V2 authentication, V3 sessions): the items this project
covers, each with a test here or named in docs/architecture.md (where older tests cover it, in
tests/integration/test_staff_accounts.py)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from app.blueprints.staff import STARTED
from app.extensions import db
from app.models import AuditEntry, StaffUser
from app.services import accounts
from tests.conftest import STAFF_PASSWORD, csrf_token
from tests.staff_helpers import mails

PASSWORD_PAGE = "/agentur/konto/sicherheit/passwort"
NEW = "ein neuer Satz als Passwort"


def post(client, url, data=None):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)})


def sign_in(client, email, password=STAFF_PASSWORD):
    return post(client, "/agentur/anmelden", {"email": email, "password": password})


def change(client, current=STAFF_PASSWORD, new=NEW, repeated=None):
    return post(
        client,
        PASSWORD_PAGE,
        {
            "current_password": current,
            "new_password": new,
            "new_password_repeated": new if repeated is None else repeated,
        },
    )


def password_works(app, email, password) -> bool:
    with app.test_request_context():
        return accounts.authenticate(email, password, client="10.9.9.9") is not None


# --- V2.1 password rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, message",
    [
        ("elf Zeichen", "mindestens 12 Zeichen"),  # 2.1.1
        ("x" * 129, "höchstens 128 Zeichen"),  # 2.1.2
        ("1234567890qwertyuiop", "zu verbreitet"),  # 2.1.7
        ("QWERTY123456", "zu verbreitet"),
        ("1q2w3e4r5t6y", "zu verbreitet"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(app, client, auth, password, message):
    auth.login()
    response = change(client, new=password)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert password_works(app, "curator@agentur.test", STAFF_PASSWORD)


@pytest.mark.parametrize(
    "password",
    [
        "x" * 128,  # the longest (2.1.2)
        "nur kleine wörter",  # no composition rules (2.1.9): spaces, lower case, no digits
        "Ünïcödé 🙂 Passphrase",  # any printable Unicode (2.1.4)
    ],
)
def test_any_password_within_the_length_is_accepted(app, client, auth, password):
    auth.login()
    assert change(client, new=password).status_code == 302
    assert password_works(app, "curator@agentur.test", password)


def test_the_common_password_list_is_shipped_and_fits_the_rules():
    common = accounts.common_passwords()
    assert len(common) > 150
    assert all(accounts.MIN_PASSWORD_LENGTH <= len(p) <= 128 for p in common)
    assert STAFF_PASSWORD.lower() not in common
    header = accounts.COMMON_PASSWORDS_FILE.read_text().splitlines()[:30]
    assert any("BSD" in line for line in header)


def test_admins_get_the_same_rules_for_new_accounts(client, auth):
    auth.login("admin")
    response = auth.post(
        "/agentur/konten/",
        {"email": "neu@agentur.test", "name": "Neu", "role": "curator", "password": "1q2w3e4r5t6y"},
    )
    assert response.status_code == 422
    assert "zu verbreitet" in response.get_data(as_text=True)


# --- V2.1.5/2.1.6 changing the password -------------------------------------------------------


def test_changing_the_password_needs_the_current_one(app, client, auth):
    auth.login()
    wrong = change(client, current="nicht das Passwort")
    assert wrong.status_code == 422
    assert "Das bisherige Passwort ist falsch." in wrong.get_data(as_text=True)
    mismatch = change(client, repeated=NEW + "!")
    assert mismatch.status_code == 422
    assert "stimmen nicht überein" in mismatch.get_data(as_text=True)
    assert password_works(app, "curator@agentur.test", STAFF_PASSWORD)
    assert mails(app) == []


def test_a_password_change_ends_the_other_sessions_mails_and_is_audited(
    app, client, auth, make_staff
):
    email = make_staff("curator")
    other = app.test_client()
    sign_in(other, email)
    assert other.get("/agentur/").status_code == 200
    auth.login()
    response = change(client)
    assert response.headers["Location"] == "/agentur/konto/sicherheit/"
    assert client.get("/agentur/").status_code == 200  # this browser stays signed in
    assert other.get("/agentur/").status_code == 403  # 3.3.3
    assert password_works(app, email, NEW)
    sent = mails(app)[-1]
    assert sent.recipient == email and "Passwort Ihres Kontos wurde geändert" in sent.body
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action)) == "password_changed"


def test_a_password_set_by_an_admin_is_mailed_to_the_account(app, auth, make_staff):
    email = make_staff("curator")
    auth.login("admin")
    with app.app_context():
        target = db.session.scalar(select(StaffUser.id).where(StaffUser.email == email))
    assert auth.post(f"/agentur/konten/{target}", {"password": NEW}).status_code == 302
    assert mails(app)[-1].recipient == email


# --- V3.3 session ends ------------------------------------------------------------------------


def test_a_session_ends_after_its_absolute_lifetime_however_busy(app, client, auth):
    auth.login()
    assert client.get("/agentur/").status_code == 200
    hours = app.config["STAFF_SESSION_HOURS"]
    assert hours == 12
    with client.session_transaction() as session:
        session[STARTED] = time.time() - hours * 3600 + 60
    assert client.get("/agentur/").status_code == 200  # a minute left
    with client.session_transaction() as session:
        session[STARTED] = time.time() - hours * 3600 - 1
    response = client.get("/agentur/")
    assert response.status_code == 403
    assert "nach 12 Stunden abgelaufen" in response.get_data(as_text=True)
    assert client.get("/agentur/").status_code == 403


def test_the_session_limits_are_settings(database_url):
    from tests.conftest import temporary_app

    with temporary_app(database_url, STAFF_IDLE_MINUTES="10", STAFF_SESSION_HOURS="8") as app:
        assert app.config["STAFF_IDLE_MINUTES"] == 10
        assert app.config["STAFF_SESSION_HOURS"] == 8


def test_the_sign_in_page_says_the_same_for_unknown_and_locked_accounts(app, client, auth):
    auth.login("admin")
    email = "gesperrt@agentur.test"
    auth.post(
        "/agentur/konten/",
        {"email": email, "name": "G", "role": "curator", "password": STAFF_PASSWORD},
    )
    with app.app_context():
        target = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        target.active = False
        db.session.commit()
    locked = sign_in(app.test_client(), email)
    unknown = sign_in(app.test_client(), "niemand@agentur.test")
    for response in (locked, unknown):
        assert response.status_code == 401
        assert "E-Mail-Adresse oder Passwort ist falsch." in response.get_data(as_text=True)


def test_password_and_code_checks_of_an_open_session_are_rate_limited(database_url, app):
    """(The ``app`` fixture removes the account afterwards.)"""
    from tests.conftest import temporary_app

    with temporary_app(database_url, RATELIMIT_ENABLED=True) as limited:
        email = "limit@agentur.test"
        with limited.test_request_context():
            accounts.create_staff(email, "L", STAFF_PASSWORD, "curator")
        client = limited.test_client()
        assert sign_in(client, email).status_code == 302
        statuses = [change(client, current="falsch falsch falsch").status_code for _ in range(11)]
        assert statuses == [422] * 10 + [429]
        disable = "/agentur/konto/sicherheit/zweiter-faktor/abschalten"
        statuses = [
            post(client, disable, {"password": "x", "code": "1"}).status_code for _ in range(11)
        ]
        assert statuses == [422] * 10 + [429]
