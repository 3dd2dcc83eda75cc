"""The questionnaire under attack (issue 9): mail relay, submit bypass, double submit, slug
races, NUL bytes, unbounded drafts and session fixation, on real PostGIS with real threads."""

import re
import threading

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Company, OutboxMessage, QuestionnaireDraft
from app.services import questionnaire as service
from tests.conftest import test_config
from tests.integration.test_questionnaire import STEPS, post_step, walk

DRAFT = "questionnaire_draft"
THANKS = "/mitmachen/danke"


def _cleanup(app):
    with app.app_context():
        db.session.execute(
            db.text(
                "TRUNCATE companies, questionnaire_drafts, outbox_messages RESTART IDENTITY CASCADE"
            )
        )
        db.session.commit()
        db.engine.dispose()


@pytest.fixture
def app(database_url):
    app = create_app(test_config(database_url, WTF_CSRF_ENABLED=False))
    yield app
    _cleanup(app)


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def mails_to(app, address):
    return count(app, OutboxMessage, OutboxMessage.recipient == address)


def ready_drafts(app, number):
    """``number`` drafts answered up to the last step (one walked, the others copied)."""
    walk(app.test_client(), until="summary")
    with app.app_context():
        original = db.session.scalars(select(QuestionnaireDraft)).one()
        copies = [
            QuestionnaireDraft(
                language="de",
                definition_version=original.definition_version,
                answers=dict(original.answers),
                raw_input={},
                completed_steps=original.completed_steps,
            )
            for _ in range(number - 1)
        ]
        db.session.add_all(copies)
        db.session.commit()
        return [original.id] + [copy.id for copy in copies]


def client_on(app, draft_id):
    """A test client whose session has the draft open."""
    client = app.test_client()
    with client.session_transaction() as session:
        session[DRAFT] = draft_id
    return client


def post_at_once(requests):
    """POST every (client, url, data) at the same moment from its own thread; return the
    responses (or the exceptions raised) in order."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(index, client, url, data):
        barrier.wait(timeout=30)
        try:
            results[index] = client.post(url, data=data)
        except Exception as error:  # reported by the assertion of the caller
            results[index] = error

    threads = [
        threading.Thread(target=run, args=(index, *request))
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def submitted(response) -> bool:
    return getattr(response, "status_code", None) == 302 and response.headers["Location"] == THANKS


SUBMIT = {"consent": "y", "action": "submit"}


# --- 1. mail relay ---------------------------------------------------------------------------


def test_save_for_later_mails_the_link_once_per_hour_and_says_so(app, client):
    walk(client, until="summary")
    first = client.post("/mitmachen/schritt/summary", data={"action": "later"})
    assert first.headers["Location"] == "/mitmachen/gespeichert"
    assert "Wir haben den Link an erika@holzwurm.example geschickt." in client.get(
        "/mitmachen/gespeichert"
    ).get_data(as_text=True)
    for _ in range(5):
        client.post("/mitmachen/schritt/summary", data={"action": "later"})
    page = client.get("/mitmachen/gespeichert").get_data(as_text=True)
    assert mails_to(app, "erika@holzwurm.example") == 1
    assert "vor Kurzem schon an erika@holzwurm.example geschickt" in page
    assert 'id="resume-link">http' in page  # the link is still shown on the page
    again = client.post("/mitmachen/gespeichert", data={"email": "ERIKA@holzwurm.example"})
    assert "vor Kurzem schon an ERIKA@holzwurm.example geschickt" in again.get_data(as_text=True)
    assert count(app, OutboxMessage) == 1


def test_one_address_gets_at_most_five_resume_mails_a_day(app):
    pages = []
    for _ in range(7):
        client = app.test_client()
        client.post("/mitmachen/start")
        response = client.post("/mitmachen/gespeichert", data={"email": "opfer@example.org"})
        pages.append(response.get_data(as_text=True))
    assert mails_to(app, "opfer@example.org") == 5
    assert "Wir haben den Link an opfer@example.org geschickt." in pages[4]
    assert "Die E-Mail an opfer@example.org wurde nicht geschickt" in pages[5]


def test_one_draft_mails_at_most_five_addresses_a_day(app, client):
    client.post("/mitmachen/start")
    for number in range(8):
        client.post("/mitmachen/gespeichert", data={"email": f"ziel{number}@example.org"})
    assert count(app, OutboxMessage) == 5


def test_the_address_on_the_saved_page_is_escaped(client):
    client.post("/mitmachen/start")
    address = '"<b>x</b>"@example.org'
    for _ in range(2):  # sent, then held back: both messages show the address
        html = client.post("/mitmachen/gespeichert", data={"email": address}).get_data(as_text=True)
        assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_simultaneous_later_posts_send_one_mail(app):
    [draft_id] = ready_drafts(app, 1)
    clients = [client_on(app, draft_id) for _ in range(6)]
    post_at_once([(c, "/mitmachen/schritt/summary", {"action": "later"}) for c in clients])
    assert mails_to(app, "erika@holzwurm.example") == 1


# --- 2. submit bypass ------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["submit", "next", None, "irgendwas"])
def test_every_final_post_checks_the_honeypot(app, client, action):
    walk(client, until="summary")
    data = {"consent": "y", "firmensitz_url": "http://spam.example"}
    if action:
        data["action"] = action
    response = client.post("/mitmachen/schritt/summary", data=data)
    assert response.headers["Location"] == THANKS
    assert count(app, Company) == 0


@pytest.mark.parametrize("action", ["next", None])
def test_every_final_post_counts_toward_the_submit_rate_limit(database_url, action):
    app = create_app(test_config(database_url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=True))
    try:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{11 if action else 12}"
        walk(client, until="summary")
        for _ in range(10):  # no consent: refused, but each one counts
            assert post_step(client, "summary", {}, "submit").status_code == 422
        data = {"consent": "y", **({"action": action} if action else {})}
        response = client.post("/mitmachen/schritt/summary", data=data)
        assert response.status_code == 429
        assert count(app, Company) == 0
    finally:
        _cleanup(app)


# --- 3. double submit ------------------------------------------------------------------------


def test_a_double_click_stores_one_entry_and_both_see_thanks(app):
    drafts = ready_drafts(app, 4)
    for draft_id in drafts:
        first, second = client_on(app, draft_id), client_on(app, draft_id)
        url = "/mitmachen/schritt/summary"
        responses = post_at_once([(first, url, SUBMIT), (second, url, SUBMIT)])
        assert all(submitted(r) for r in responses), responses
    assert count(app, Company) == 4
    assert mails_to(app, "erika@holzwurm.example") == 4  # one receipt per entry


def test_sending_the_last_step_again_shows_thanks_and_stores_nothing(app):
    [draft_id] = ready_drafts(app, 1)
    first, stale = client_on(app, draft_id), client_on(app, draft_id)
    assert submitted(first.post("/mitmachen/schritt/summary", data=SUBMIT))
    assert submitted(stale.post("/mitmachen/schritt/summary", data=SUBMIT))
    assert "Vielen Dank" in stale.get(THANKS).get_data(as_text=True)
    assert count(app, Company) == 1
    assert mails_to(app, "erika@holzwurm.example") == 1


# --- 4. same name, same town -----------------------------------------------------------------


def test_twenty_entries_with_the_same_name_and_town_at_once(app):
    drafts = ready_drafts(app, 20)
    url = "/mitmachen/schritt/summary"
    responses = post_at_once([(client_on(app, draft_id), url, SUBMIT) for draft_id in drafts])
    assert all(submitted(r) for r in responses), responses
    with app.app_context():
        slugs = set(db.session.scalars(select(Company.slug)))
    base = "tischlerei-holzwurm-marl"
    assert slugs == {base} | {f"{base}-{number}" for number in range(2, 21)}


# --- 5. NUL bytes and malformed URLs ---------------------------------------------------------


def test_a_nul_byte_in_any_field_is_refused_with_the_input_kept(app, client):
    client.post("/mitmachen/start")
    for key, answers in STEPS.items():
        for question, value in answers.items():
            for action in ("next", "back", "later", "submit"):
                typed = value[0] if isinstance(value, list) else value
                data = {**answers, question: f"{typed}\x00x", "action": action}
                response = client.post(f"/mitmachen/schritt/{key}", data=data)
                assert response.status_code == 422, (key, question, action)
                html = response.get_data(as_text=True)
                assert "unzulässiges Zeichen" in html, (key, question, action)
                assert "\x00" not in html
        post_step(client, key, answers, "submit" if key == "summary" else "next")
    assert count(app, Company) == 1


def test_a_nul_byte_keeps_the_rest_of_the_input(client):
    client.post("/mitmachen/start")
    response = post_step(client, "business", {"name": "Tisch\x00ler", "description": "Möbel"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Tischler"' in html and "Möbel" in html
    assert "Dieses Feld enthält ein unzulässiges Zeichen" in html


def test_a_nul_byte_in_the_resume_mail_address_is_refused(app, client):
    client.post("/mitmachen/start")
    response = client.post("/mitmachen/gespeichert", data={"email": "a\x00@example.org"})
    assert response.status_code == 422
    assert count(app, OutboxMessage) == 0


@pytest.mark.parametrize("website", ["https://[::1", "http://[", "https://exa mple.de:x"])
def test_a_malformed_website_is_a_field_error(client, website):
    walk(client, until="contact")
    response = post_step(client, "contact", {**STEPS["contact"], "website": website})
    assert response.status_code == 422
    assert "Die Website muss mit https:// oder http:// beginnen" in response.get_data(as_text=True)


def test_a_huge_whole_number_is_a_field_error(client):
    walk(client, until="size")
    response = post_step(client, "size", {"employees": "9" * 5000})
    assert response.status_code == 422
    assert "Bitte geben Sie eine ganze Zahl ab 1 ein." in response.get_data(as_text=True)


# --- 6. unbounded draft storage --------------------------------------------------------------


@pytest.mark.parametrize("action", ["back", "later"])
def test_kept_input_is_bounded_like_answers(app, client, action):
    walk(client, until="classification")
    many = [str(n) for n in range(5000)]
    client.post(
        "/mitmachen/schritt/classification",
        data={"sectors": many, "occupations": ["x" * 5000], "action": action},
    )
    post_step(client, "business", {"name": "n" * 50_000, "description": "d" * 400_000}, action)
    with app.app_context():
        draft = db.session.scalars(select(QuestionnaireDraft)).one()
        kept = draft.raw_input
        steps = set(service.definition().keys)
    assert len(kept["business"]["name"]) == 200
    assert len(kept["business"]["description"]) == 1000
    assert len(kept["classification"]["sectors"]) <= 200
    assert all(len(code) <= 50 for code in kept["classification"]["occupations"])
    assert set(kept) <= steps


# --- 7. session fixation through the draft token ---------------------------------------------


@pytest.fixture
def csrf_app(database_url):
    app = create_app(test_config(database_url))
    yield app
    _cleanup(app)


def csrf_token(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def attackers_draft_token(app):
    attacker = app.test_client()
    token = csrf_token(attacker.get("/mitmachen/").get_data(as_text=True))
    attacker.post("/mitmachen/start", data={"csrf_token": token})
    page = attacker.get("/mitmachen/schritt/business").get_data(as_text=True)
    return re.search(r'name="draft" value="([^"]+)"', page).group(1)


def test_a_cross_site_post_cannot_bind_the_session_to_a_draft(csrf_app):
    draft_token = attackers_draft_token(csrf_app)
    victim = csrf_app.test_client()
    victim.get("/mitmachen/")
    with victim.session_transaction() as session:
        before = dict(session)
    response = victim.post(
        "/mitmachen/schritt/business",
        data={"name": "Köder", "description": "x", "action": "next", "draft": draft_token},
    )
    assert response.status_code == 400
    assert 'value="Köder"' in response.get_data(as_text=True)  # the typed input is kept
    with victim.session_transaction() as session:
        assert dict(session) == before
    assert victim.get("/mitmachen/schritt/business").headers["Location"] == "/mitmachen/"


def test_a_failed_csrf_check_without_a_draft_changes_nothing(csrf_app):
    victim = csrf_app.test_client()
    victim.get("/mitmachen/")
    with victim.session_transaction() as session:
        before = dict(session)
    response = victim.post("/mitmachen/schritt/business", data={"name": "x", "draft": "forged"})
    assert response.status_code == 400
    assert "Ihre Sitzung war abgelaufen" in response.get_data(as_text=True)
    with victim.session_transaction() as session:
        assert dict(session) == before
