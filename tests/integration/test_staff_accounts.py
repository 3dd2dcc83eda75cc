"""Staff sign-in: password hashing, lock-out, throttling, sessions, ``next``, idle timeout,
the CLI command and account management by admins."""

import re
import time

import pytest
from sqlalchemy import select

from app.blueprints.staff import safe_next
from app.extensions import db
from app.models import StaffUser
from app.services import accounts
from tests.conftest import STAFF_PASSWORD, csrf_token, temporary_app


def user(app, email):
    with app.app_context():
        found = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        db.session.expunge_all()
        return found


def test_password_is_stored_as_a_scrypt_hash(app, make_staff):
    stored = user(app, make_staff())
    assert stored.password_hash.startswith("scrypt:")
    assert STAFF_PASSWORD not in stored.password_hash


def test_login_and_logout(app, client, auth):
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/agentur/"
    assert client.get("/agentur/").status_code == 200
    assert user(app, "curator@agentur.test").last_login_at is not None
    response = auth.logout()
    assert response.headers["Location"] == "/agentur/anmelden"
    assert client.get("/agentur/").status_code == 403


def test_wrong_password_and_unknown_address_get_the_same_answer(client, auth, make_staff):
    make_staff()
    wrong = auth.login(email="curator@agentur.test", password="falsch falsch falsch")
    unknown = auth.login(email="niemand@agentur.test", password="falsch falsch falsch")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "E-Mail-Adresse oder Passwort ist falsch." in response.get_data(as_text=True)
    assert 'value="niemand@agentur.test"' in unknown.get_data(as_text=True)


WRONG = "falsch falsch falsch"
THROTTLED = "Zu viele Fehlversuche von diesem Gerät"


def client_at(app, address: str):
    """A test client whose requests come from the network address ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in(client, email, password=STAFF_PASSWORD):
    return client.post(
        "/agentur/anmelden",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
    )


def answer(response) -> tuple[int, str]:
    """Status and message of a sign-in answer (the address typed is left out)."""
    html = response.get_data(as_text=True)
    return response.status_code, re.search(r'role="alert"><p>(.*?)</p>', html, re.S).group(1)


def test_wrong_passwords_throttle_the_client_alike_for_real_and_unknown_addresses(app, make_staff):
    real = make_staff("curator")
    attacker = client_at(app, "203.0.113.7")
    for _attempt in range(accounts.MAX_FAILURES_PER_ACCOUNT):
        assert answer(sign_in(attacker, real, WRONG)) == answer(
            sign_in(attacker, "niemand@agentur.test", WRONG)
        )
    throttled = [sign_in(attacker, real, WRONG), sign_in(attacker, "niemand@agentur.test", WRONG)]
    assert answer(throttled[0]) == answer(throttled[1])
    assert throttled[0].status_code == 429
    assert THROTTLED in answer(throttled[0])[1]
    # While throttled, even the right password is refused from that client ...
    assert sign_in(attacker, real).status_code == 429
    # ... but the account is not locked: its owner signs in from elsewhere.
    owner = client_at(app, "198.51.100.20")
    assert sign_in(owner, real).status_code == 302
    assert owner.get("/agentur/").status_code == 200
    # After the waiting time the client may try again.
    with app.app_context():
        db.session.execute(db.text("UPDATE staff_login_failures SET at = at - interval '16 min'"))
        db.session.commit()
    assert sign_in(attacker, real).status_code == 302


def test_a_right_password_clears_the_failures_of_that_client_and_address(app, make_staff):
    email = make_staff("curator")
    client = client_at(app, "203.0.113.8")
    for _attempt in range(accounts.MAX_FAILURES_PER_ACCOUNT - 1):
        assert sign_in(client, email, WRONG).status_code == 401
    assert sign_in(client, email).status_code == 302
    client.post("/agentur/abmelden", data={"csrf_token": csrf_token(client)})
    for _attempt in range(accounts.MAX_FAILURES_PER_ACCOUNT - 1):
        assert sign_in(client, email, WRONG).status_code == 401
    assert sign_in(client, email).status_code == 302


def test_many_addresses_from_one_client_are_throttled_too(app, make_staff):
    email = make_staff("curator")
    guesser = client_at(app, "203.0.113.9")
    statuses = [
        sign_in(guesser, f"x{i}@agentur.test", WRONG).status_code
        for i in range(accounts.MAX_FAILURES_PER_CLIENT + 1)
    ]
    assert statuses == [401] * accounts.MAX_FAILURES_PER_CLIENT + [429]
    assert sign_in(guesser, email).status_code == 429
    assert sign_in(client_at(app, "203.0.113.10"), email).status_code == 302


def test_failures_are_kept_without_the_address_typed(app, make_staff):
    sign_in(client_at(app, "203.0.113.11"), "geheim@agentur.test", WRONG)
    with app.app_context():
        stored = db.session.execute(db.text("SELECT * FROM staff_login_failures")).one()
    assert "geheim" not in repr(tuple(stored))
    assert stored.client == "203.0.113.11"


@pytest.mark.parametrize("how", ["logout", "switched_off_and_on", "new_password"])
def test_a_copied_session_cookie_is_refused_once_the_session_ended(app, client, make_staff, how):
    email = make_staff("curator")
    assert sign_in(client, email).status_code == 302
    copied = client.get_cookie("session").value
    if how == "logout":
        client.post("/agentur/abmelden", data={"csrf_token": csrf_token(client)})
    else:
        admin = app.test_client()
        assert sign_in(admin, make_staff("admin")).status_code == 302
        target = user(app, email).id
        token = csrf_token(admin)
        if how == "new_password":
            changes = [{"password": "ein ganz neues Passwort"}]
        else:
            changes = [{"role": "curator", "active": "0"}, {"role": "curator", "active": "1"}]
        for change in changes:
            response = admin.post(f"/agentur/konten/{target}", data={**change, "csrf_token": token})
            assert response.status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", copied)
    response = replay.get("/agentur/")
    assert response.status_code == 403
    assert "Anmeldung für die Agentur" in response.get_data(as_text=True)


def test_login_attempts_are_throttled_per_address(database_url, make_staff):
    with temporary_app(database_url, RATELIMIT_ENABLED=True) as app:
        client = app.test_client()
        token = csrf_token(client)
        statuses = [
            client.post(
                "/agentur/anmelden",
                data={"email": f"x{i}@agentur.test", "password": "x", "csrf_token": token},
            ).status_code
            for i in range(11)
        ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


def test_login_starts_a_new_session(client, auth):
    with client.session_transaction() as session:
        session["questionnaire_draft"] = 42
    auth.login()
    with client.session_transaction() as session:
        assert "questionnaire_draft" not in session
        assert "_user_id" in session


def test_production_session_cookie_is_secure_httponly_samesite(database_url, make_staff):
    with temporary_app(
        database_url,
        APP_ENV="production",
        SECRET_KEY="k" * 40,
        BASE_URL="https://localhost",
        TESTING=True,
    ) as app:
        page = app.test_client().get("/agentur/anmelden", base_url="https://localhost")
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/agentur/pruefen", "/agentur/pruefen"),
        ("/agentur/eintraege?status=pending", "/agentur/eintraege?status=pending"),
        ("//evil.example/agentur", None),
        ("https://evil.example/", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("agentur/pruefen", None),
        ("/agentur/\r\nSet-Cookie:x", None),
        ("", None),
    ],
)
def test_safe_next_keeps_only_paths_of_this_app(target, expected):
    assert safe_next(target) == expected


def test_next_is_followed_inside_the_app_and_ignored_outside(client, auth, make_staff):
    email = make_staff()
    login = {"email": email, "password": STAFF_PASSWORD}
    response = auth.post("/agentur/anmelden?next=/agentur/pruefen", login)
    assert response.headers["Location"] == "/agentur/pruefen"
    auth.logout()
    response = auth.post("/agentur/anmelden?next=//evil.example/", login)
    assert response.headers["Location"] == "/agentur/"


def test_anonymous_visit_shows_the_login_form_with_the_way_back(client):
    response = client.get("/agentur/pruefen")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "Anmeldung für die Agentur" in html
    assert 'action="/agentur/anmelden?next=/agentur/pruefen"' in html


def test_idle_session_ends(app, client, auth):
    auth.login()
    assert client.get("/agentur/").status_code == 200
    with client.session_transaction() as session:
        session["staff_seen"] = time.time() - 31 * 60
    response = client.get("/agentur/")
    assert response.status_code == 403
    assert "nach längerer Inaktivität abgemeldet" in response.get_data(as_text=True)
    assert client.get("/agentur/").status_code == 403


def test_cli_creates_accounts_and_explains_bad_input(app, runner):
    result = runner.invoke(
        args=["create-staff", "--email", "Neu@Agentur.test", "--name", "Neu", "--role", "admin"],
        env={"STAFF_PASSWORD": "ein langes Passwort"},
    )
    assert result.exit_code == 0, result.output
    created = user(app, "neu@agentur.test")
    assert created.role.value == "admin"
    short = runner.invoke(
        args=["create-staff", "--email", "b@agentur.test", "--name", "B"],
        env={"STAFF_PASSWORD": "kurz"},
    )
    assert short.exit_code == 1
    assert "mindestens 12 Zeichen" in short.output
    again = runner.invoke(
        args=["create-staff", "--email", "neu@agentur.test", "--name", "Neu"],
        env={"STAFF_PASSWORD": "ein langes Passwort"},
    )
    assert again.exit_code == 1
    assert "schon ein Konto" in again.output


def test_curators_cannot_manage_accounts(client, auth):
    auth.login("curator")
    assert client.get("/agentur/konten/").status_code == 403
    response = auth.post(
        "/agentur/konten/",
        {"email": "x@agentur.test", "name": "X", "role": "admin", "password": "x" * 20},
    )
    assert response.status_code == 403


def test_admin_creates_changes_and_locks_accounts(app, client, auth):
    auth.login("admin")
    assert "Konten" in client.get("/agentur/").get_data(as_text=True)
    bad = auth.post(
        "/agentur/konten/",
        {"email": "kein-mail", "name": "Kim", "role": "curator", "password": "x" * 20},
    )
    assert bad.status_code == 422
    assert "Das ist keine gültige E-Mail-Adresse." in bad.get_data(as_text=True)
    assert 'value="Kim"' in bad.get_data(as_text=True)
    ok = auth.post(
        "/agentur/konten/",
        {"email": "kim@agentur.test", "name": "Kim", "role": "curator", "password": "x" * 20},
    )
    assert ok.status_code == 302
    kim = user(app, "kim@agentur.test")

    kims_client = app.test_client()
    token = csrf_token(kims_client)
    kims_client.post(
        "/agentur/anmelden",
        data={"email": "kim@agentur.test", "password": "x" * 20, "csrf_token": token},
    )
    assert kims_client.get("/agentur/").status_code == 200

    auth.post(f"/agentur/konten/{kim.id}", {"role": "admin", "active": "1"})
    assert user(app, "kim@agentur.test").role.value == "admin"
    auth.post(f"/agentur/konten/{kim.id}", {"role": "admin", "active": "0"})
    assert user(app, "kim@agentur.test").active is False
    # Kim's open session ends with the account.
    assert kims_client.get("/agentur/").status_code == 403


def test_admin_cannot_lock_out_themselves(app, client, auth):
    auth.login("admin")
    me = user(app, "admin@agentur.test")
    response = auth.post(f"/agentur/konten/{me.id}", {"role": "curator", "active": "1"})
    assert response.status_code == 422
    assert "nicht selbst nehmen" in response.get_data(as_text=True)
    response = auth.post(f"/agentur/konten/{me.id}", {"role": "admin", "active": "0"})
    assert response.status_code == 422
    assert user(app, "admin@agentur.test").active is True


def test_new_password_ends_other_sessions(app, client, auth, make_staff):
    auth.login("admin")
    email = make_staff("curator")
    other = app.test_client()
    other.post(
        "/agentur/anmelden",
        data={"email": email, "password": STAFF_PASSWORD, "csrf_token": csrf_token(other)},
    )
    assert other.get("/agentur/").status_code == 200
    target = user(app, email)
    auth.post(f"/agentur/konten/{target.id}", {"password": "ein ganz neues Passwort"})
    assert other.get("/agentur/").status_code == 403
    with app.test_request_context():
        assert accounts.authenticate(email, "ein ganz neues Passwort") is not None
