"""Staff accounts' second factor (TOTP): enrolment, the two-step sign-in, replay, recovery
codes, the pending sign-in's expiry, switching it off, admins requiring and resetting it, and
who may do what."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from app.blueprints.staff import PENDING
from app.config import ConfigError
from app.extensions import db
from app.models import AuditEntry, RecoveryCode, StaffUser
from app.services import accounts, second_factor
from tests.conftest import STAFF_PASSWORD, csrf_token, temporary_app
from tests.staff_helpers import mails

SECURITY = "/agentur/konto/sicherheit/"
ENROL = "/agentur/konto/sicherheit/zweiter-faktor"
CONFIRM = "/agentur/konto/sicherheit/zweiter-faktor/bestaetigen"
DISABLE = "/agentur/konto/sicherheit/zweiter-faktor/abschalten"
CODE = "/agentur/anmelden/code"


def post(client, url, data=None):
    """POST a form with a valid CSRF token."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)})


def sign_in(client, email, password=STAFF_PASSWORD):
    return post(client, "/agentur/anmelden", {"email": email, "password": password})


def account(app, email) -> StaffUser:
    with app.app_context():
        found = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        db.session.expunge_all()
        return found


def audit_actions(app, email) -> list[str]:
    """The audit actions about the account ``email``, oldest first."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.company_name == email)
                .order_by(AuditEntry.id)
            )
        )


def shown_secret(html: str) -> str:
    """The secret an enrolment page shows for typing in (groups of four joined)."""
    grouped = re.search(r'id="totp-secret">([A-Z2-7 ]+)</code>', html).group(1)
    return grouped.replace(" ", "")


def recovery_codes(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z0-9 ]+)</code></li>", html)


def enrol(client) -> tuple[pyotp.TOTP, list[str]]:
    """Set up the second factor of the signed-in account: its TOTP and recovery codes."""
    page = post(client, ENROL)
    assert page.status_code == 200
    totp = pyotp.TOTP(shown_secret(page.get_data(as_text=True)))
    done = post(client, CONFIRM, {"code": totp.now()})
    assert done.status_code == 200, done.get_data(as_text=True)
    codes = recovery_codes(done.get_data(as_text=True))
    return totp, codes


def next_code(totp: pyotp.TOTP) -> str:
    """The code of the next time step (accepted once: valid_window=1, and later than the step
    the last code used)."""
    return totp.at(time.time() + 30)


@pytest.fixture
def enrolled(app, make_staff):
    """A curator with a second factor: (email, totp, recovery codes); signed out again."""
    email = make_staff("curator")
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    totp, codes = enrol(client)
    post(client, "/agentur/abmelden")
    return email, totp, codes


def signed_in_fully(client) -> bool:
    return client.get("/agentur/").status_code == 200


# --- enrolment ----------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_secret_and_a_wrong_code_changes_nothing(
    app, client, auth
):
    auth.login()
    page = post(client, ENROL)
    html = page.get_data(as_text=True)
    assert 'src="data:image/png;base64,' in html
    secret = shown_secret(html)
    assert len(secret) == 32
    assert re.search(r'id="totp-secret">(\w{4} ){7}\w{4}</code>', html)
    totp = pyotp.TOTP(secret)
    wrong = str((int(totp.now()) + 1) % 1_000_000).zfill(6)
    refused = post(client, CONFIRM, {"code": wrong})
    assert refused.status_code == 422
    assert "Der Code stimmt nicht" in refused.get_data(as_text=True)
    assert shown_secret(refused.get_data(as_text=True)) == secret  # the same set-up, kept
    assert account(app, "curator@agentur.test").totp_secret is None
    # Not enrolled: signing in needs only the password.
    auth.logout()
    assert auth.login().headers["Location"] == "/agentur/"
    assert audit_actions(app, "curator@agentur.test") == []


def test_the_right_code_enables_it_with_ten_recovery_codes_stored_encrypted_and_hashed(
    app, client, auth
):
    auth.login()
    totp, codes = enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"(\w{4} ){3}\w{4}", code) for code in codes)
    stored = account(app, "curator@agentur.test")
    assert stored.has_totp and stored.totp_pending_secret is None
    assert totp.secret not in stored.totp_secret  # encrypted at rest
    with app.app_context():
        assert second_factor.decrypt(stored.totp_secret) == totp.secret
        hashes = list(db.session.scalars(select(RecoveryCode.code_hash)))
    assert len(hashes) == 10
    assert not any(code.replace(" ", "") in h for code in codes for h in hashes)
    assert audit_actions(app, "curator@agentur.test") == ["totp_enabled"]
    assert "zweiter Faktor" in mails(app)[-1].body
    # The codes are shown once: the overview shows how many are left, not the codes.
    overview = client.get(SECURITY).get_data(as_text=True)
    assert "10 unbenutzte Wiederherstellungscodes" in overview
    assert codes[0] not in overview


def test_enrolment_while_enrolled_is_refused(client, auth, app):
    auth.login()
    totp, _codes = enrol(client)
    response = post(client, ENROL)
    assert response.status_code == 302
    with app.app_context():
        stored = account(app, "curator@agentur.test")
        assert second_factor.decrypt(stored.totp_secret) == totp.secret


# --- signing in ---------------------------------------------------------------------------


def test_no_session_before_the_code_then_the_code_signs_in(app, enrolled):
    email, totp, _codes = enrolled
    client = app.test_client()
    before = account(app, email).last_login_at
    response = sign_in(client, email)
    assert response.headers["Location"] == CODE
    assert account(app, email).last_login_at == before  # the password alone is no sign-in
    with client.session_transaction() as session:
        assert "_user_id" not in session
        assert session[PENDING]["id"] == account(app, email).id
    assert client.get("/agentur/").status_code == 403
    page = client.get(CODE)
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.get_data(as_text=True)
    response = post(client, CODE, {"code": next_code(totp)})
    assert response.headers["Location"] == "/agentur/"
    assert signed_in_fully(client)
    assert account(app, email).last_login_at > before
    with client.session_transaction() as session:
        assert PENDING not in session


def test_a_wrong_code_is_refused_and_the_next_follows(app, enrolled):
    email, totp, _codes = enrolled
    client = app.test_client()
    sign_in(client, email)
    wrong = str((int(totp.now()) + 3) % 1_000_000).zfill(6)
    response = post(client, CODE, {"code": wrong})
    assert response.status_code == 401
    assert "Der Code stimmt nicht" in response.get_data(as_text=True)
    assert client.get("/agentur/").status_code == 403
    assert post(client, CODE, {"code": next_code(totp)}).status_code == 302
    assert signed_in_fully(client)


def test_a_code_is_accepted_only_once(app, enrolled):
    email, totp, _codes = enrolled
    code = next_code(totp)
    first = app.test_client()
    sign_in(first, email)
    assert post(first, CODE, {"code": code}).status_code == 302
    second = app.test_client()
    sign_in(second, email)
    replay = post(second, CODE, {"code": code})
    assert replay.status_code == 401
    assert second.get("/agentur/").status_code == 403
    # The code of the enrolment itself is used up too.
    assert account(app, email).totp_last_step >= totp.timecode(time.time())


def test_a_recovery_code_works_once(app, enrolled):
    email, _totp, codes = enrolled
    client = app.test_client()
    sign_in(client, email)
    response = post(client, CODE, {"code": codes[0].upper()})
    assert response.status_code == 302
    home = client.get("/agentur/")
    assert home.status_code == 200
    assert "es bleiben 9" in home.get_data(as_text=True)
    assert audit_actions(app, email)[-1] == "recovery_code_used"
    assert "Wiederherstellungscode" in mails(app)[-1].body
    post(client, "/agentur/abmelden")
    sign_in(client, email)
    assert post(client, CODE, {"code": codes[0]}).status_code == 401
    assert post(client, CODE, {"code": codes[1].replace(" ", "-")}).status_code == 302


def test_the_pending_sign_in_expires_after_five_minutes(app, enrolled):
    email, totp, _codes = enrolled
    client = app.test_client()
    sign_in(client, email)
    with client.session_transaction() as session:
        pending = dict(session[PENDING])
        pending["at"] -= 5 * 60 + 1
        session[PENDING] = pending
    response = post(client, CODE, {"code": next_code(totp)})
    assert response.headers["Location"] == "/agentur/anmelden"
    page = client.get("/agentur/anmelden").get_data(as_text=True)
    assert "zu lange gedauert" in page
    assert client.get("/agentur/").status_code == 403
    assert client.get(CODE).headers["Location"] == "/agentur/anmelden"


def test_the_code_step_without_a_password_leads_to_the_sign_in(client):
    assert client.get(CODE).headers["Location"] == "/agentur/anmelden"
    assert post(client, CODE, {"code": "123456"}).headers["Location"] == "/agentur/anmelden"


def test_the_pending_sign_in_ends_with_the_accounts_sessions(app, enrolled):
    email, totp, _codes = enrolled
    client = app.test_client()
    sign_in(client, email)
    with app.app_context():
        accounts.end_sessions(db.session.get(StaffUser, account(app, email).id))
    assert (
        post(client, CODE, {"code": next_code(totp)})
        .headers["Location"]
        .endswith("/agentur/anmelden")
    )
    assert client.get("/agentur/").status_code == 403


def test_wrong_codes_are_throttled_per_account_from_any_client(app, enrolled):
    email, totp, _codes = enrolled
    for number in range(accounts.MAX_CODE_FAILURES):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{number + 1}"
        sign_in(client, email)
        assert post(client, CODE, {"code": "000000"}).status_code == 401
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.99"
    sign_in(client, email)
    response = post(client, CODE, {"code": next_code(totp)})
    assert response.status_code == 429
    assert "Zu viele falsche Codes" in response.get_data(as_text=True)
    assert client.get("/agentur/").status_code == 403
    # A right password from the same client does not wipe the wrong codes out.
    sign_in(client, email)
    assert post(client, CODE, {"code": next_code(totp)}).status_code == 429


def test_signing_in_with_the_code_starts_a_new_session(app, enrolled):
    email, totp, _codes = enrolled
    client = app.test_client()
    with client.session_transaction() as session:
        session["questionnaire_draft"] = 42
    sign_in(client, email)
    post(client, CODE, {"code": next_code(totp)})
    with client.session_transaction() as session:
        assert "questionnaire_draft" not in session
        assert "_user_id" in session


# --- switching it off ---------------------------------------------------------------------


def test_switching_off_needs_the_password_and_a_current_code(app, enrolled):
    email, totp, codes = enrolled
    client = app.test_client()
    sign_in(client, email)
    post(client, CODE, {"code": codes[0]})  # the recovery code leaves the next step's code
    code = next_code(totp)
    wrong_password = post(client, DISABLE, {"password": "falsch falsch falsch", "code": code})
    assert wrong_password.status_code == 422
    assert "Das Passwort ist falsch." in wrong_password.get_data(as_text=True)
    wrong_code = post(client, DISABLE, {"password": STAFF_PASSWORD, "code": "000000"})
    assert wrong_code.status_code == 422
    assert account(app, email).has_totp
    assert post(client, DISABLE, {"password": STAFF_PASSWORD, "code": code}).status_code == 302
    stored = account(app, email)
    assert not stored.has_totp and stored.totp_last_step is None
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(RecoveryCode)) == 0
    assert audit_actions(app, email)[-1] == "totp_disabled"
    assert "abgeschaltet" in mails(app)[-1].body
    post(client, "/agentur/abmelden")
    assert sign_in(client, email).headers["Location"] == "/agentur/"


# --- admins -------------------------------------------------------------------------------


def test_a_required_second_factor_is_enrolled_before_anything_else(app, client, auth, make_staff):
    auth.login("admin")
    email = make_staff("curator")
    target = account(app, email).id
    bad = auth.post(f"/agentur/konten/{target}/zweiter-faktor", {"required": "vielleicht"})
    assert bad.status_code == 422
    assert "ob der zweite Faktor vorgeschrieben ist" in bad.get_data(as_text=True)
    response = auth.post(f"/agentur/konten/{target}/zweiter-faktor", {"required": "1"})
    assert response.status_code == 302
    assert account(app, email).totp_required
    assert audit_actions(app, email) == ["totp_required"]
    assert "vorgeschrieben" in client.get("/agentur/konten/").get_data(as_text=True)

    curator = app.test_client()
    response = sign_in(curator, email)
    assert response.headers["Location"] == SECURITY
    for url in ("/agentur/", "/agentur/pruefen", "/agentur/eintraege"):
        blocked = curator.get(url)
        assert blocked.status_code == 302 and blocked.headers["Location"] == SECURITY, url
    changed = post(
        curator,
        "/agentur/konto/sicherheit/passwort",
        {
            "current_password": STAFF_PASSWORD,
            "new_password": "ein anderes langes Passwort",
            "new_password_repeated": "ein anderes langes Passwort",
        },
    )
    assert changed.headers["Location"] == SECURITY
    with app.test_request_context():
        assert accounts.authenticate(email, STAFF_PASSWORD) is not None  # unchanged
    page = curator.get(SECURITY).get_data(as_text=True)
    assert "vorgeschrieben" in page
    enrol(curator)
    assert signed_in_fully(curator)


def test_a_signed_in_account_is_sent_to_enrolment_once_it_is_required(
    app, client, auth, make_staff
):
    email = make_staff("curator")
    curator = app.test_client()
    sign_in(curator, email)
    assert signed_in_fully(curator)
    auth.login("admin")
    auth.post(f"/agentur/konten/{account(app, email).id}/zweiter-faktor", {"required": "1"})
    assert curator.get("/agentur/").headers["Location"] == SECURITY
    auth.post(f"/agentur/konten/{account(app, email).id}/zweiter-faktor", {"required": "0"})
    assert signed_in_fully(curator)
    assert audit_actions(app, email) == ["totp_required", "totp_not_required"]


def test_an_admin_resets_a_second_factor_and_the_account_enrols_again(app, client, auth, enrolled):
    email, totp, _codes = enrolled
    curator = app.test_client()
    sign_in(curator, email)
    post(curator, CODE, {"code": next_code(totp)})
    assert signed_in_fully(curator)
    auth.login("admin")
    response = auth.post(f"/agentur/konten/{account(app, email).id}/zweiter-faktor/zuruecksetzen")
    assert response.status_code == 302
    stored = account(app, email)
    assert not stored.has_totp and stored.totp_required
    assert audit_actions(app, email)[-1] == "totp_reset"
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.actor.email == "admin@agentur.test"
    log = client.get("/agentur/protokoll").get_data(as_text=True)
    assert "Zweiter Faktor zurückgesetzt" in log and email in log
    assert "zurückgesetzt" in mails(app)[-1].body and mails(app)[-1].recipient == email
    # The curator's session ended; signing in again needs the password only, then enrolment.
    assert curator.get("/agentur/").status_code == 403
    assert sign_in(curator, email).headers["Location"] == SECURITY
    enrol(curator)
    assert signed_in_fully(curator)


@pytest.mark.parametrize("role", ["curator", "partner"])
def test_only_admins_require_or_reset_second_factors(app, auth, enrolled, role):
    email, _totp, _codes = enrolled
    target = account(app, email).id
    auth.login(role, email=f"other-{role}@agentur.test")
    assert auth.post(f"/agentur/konten/{target}/zweiter-faktor", {"required": "1"}).status_code == (
        403
    )
    response = auth.post(f"/agentur/konten/{target}/zweiter-faktor/zuruecksetzen")
    assert response.status_code == 403
    stored = account(app, email)
    assert stored.has_totp and not stored.totp_required
    assert audit_actions(app, email) == ["totp_enabled"]


def test_anonymous_visitors_reach_no_security_page(client):
    for url in (SECURITY, ENROL):
        assert client.get(url).status_code == 403
    for url in (ENROL, CONFIRM, DISABLE, "/agentur/konto/sicherheit/passwort"):
        assert post(client, url).status_code == 403


# --- the key ------------------------------------------------------------------------------


def test_a_configured_key_encrypts_the_secrets(database_url):
    key = Fernet.generate_key().decode()
    keys = f"{key}, {Fernet.generate_key().decode()}"
    with temporary_app(database_url, TOTP_ENCRYPTION_KEY=keys) as app, app.app_context():
        token = second_factor.encrypt("JBSWY3DPEHPK3PXP")
    assert Fernet(key).decrypt(token.encode()) == b"JBSWY3DPEHPK3PXP"
    with (
        pytest.raises(ConfigError, match="TOTP_ENCRYPTION_KEY must be Fernet keys"),
        temporary_app(database_url, TOTP_ENCRYPTION_KEY="not a key"),
    ):
        pass


def test_without_a_key_the_secret_key_derives_it(database_url):
    with temporary_app(database_url, SECRET_KEY="a" * 40) as first, first.app_context():
        token = second_factor.encrypt("JBSWY3DPEHPK3PXP")
    with temporary_app(database_url, SECRET_KEY="a" * 40) as same, same.app_context():
        assert second_factor.decrypt(token) == "JBSWY3DPEHPK3PXP"
    with (
        temporary_app(database_url, SECRET_KEY="b" * 40) as other,
        other.app_context(),
        pytest.raises(second_factor.SecondFactorError),
    ):
        second_factor.decrypt(token)
