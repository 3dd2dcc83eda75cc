"""The staff workspace under hostile or unlucky input (issue 9): numbers out of range, forms
without a version, two saves at the same moment, and the owners' links (revoking them, asking
for a new one, mail scanners opening them)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from app.extensions import db
from app.models import (
    AuditEntry,
    ChangeRequest,
    Company,
    CompanyStatus,
    OutboxMessage,
    QuestionnaireDraft,
)
from app.services import freshness
from app.services import questionnaire as questionnaire_service
from tests.conftest import AuthActions, csrf_token
from tests.staff_helpers import audit_actions, company, entry_form, version_in

HUGE = "99999999999999999999"
OWNER = "owner@betrieb.example"
#: Fields the entry form needs besides those a test company has.
COMPLETE = {
    "description": "Dächer aller Art.",
    "street": "Ring",
    "house_number": "1",
    "contact_name": "Ina Sturm",
    "occupations": ["32"],
}


@pytest.fixture
def pending(make_company):
    return make_company("Dachdeckerei Sturm", status=CompanyStatus.PENDING, contact_email=OWNER)


@pytest.fixture
def published(make_company):
    return make_company("Malerbetrieb Pinsel", contact_email=OWNER, published_at=datetime.now(UTC))


# --- numbers out of range --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, message",
    [
        (f"/agentur/eintraege?seite={HUGE}", "Die Seitenzahl muss eine ganze Zahl"),
        ("/agentur/eintraege?seite=²", "Die Seitenzahl muss eine ganze Zahl"),
        ("/agentur/eintraege?seite=0", "Die Seitenzahl muss eine ganze Zahl"),
        ("/agentur/eintraege?seite=-3", "Die Seitenzahl muss eine ganze Zahl"),
        ("/agentur/eintraege?seite=2147483648", "Die Seitenzahl muss eine ganze Zahl"),
        (f"/agentur/protokoll?seite={HUGE}", "Die Seitenzahl muss eine ganze Zahl"),
        (f"/agentur/protokoll?eintrag={HUGE}", "Die Nummer des Eintrags"),
        ("/agentur/protokoll?eintrag=①", "Die Nummer des Eintrags"),
        ("/agentur/protokoll?eintrag=abc", "Die Nummer des Eintrags"),
    ],
)
def test_bad_numbers_in_the_query_string_get_400_with_a_message(client, auth, url, message):
    auth.login()
    response = client.get(url)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_page_and_entry_numbers_in_range_still_work(client, auth, published):
    auth.login()
    assert client.get("/agentur/eintraege?seite=2").status_code == 200
    assert client.get(f"/agentur/protokoll?eintrag={published}&seite=1").status_code == 200
    assert client.get("/agentur/protokoll?eintrag=2147483647").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"/agentur/import/{HUGE}",
        "/agentur/aenderungen/99999999999",
        "/agentur/eintraege/2147483648",
        "/agentur/eintraege/1/zusammenfuehren/99999999999",
        "/agentur/eintraege/١٢",  # Arabic-Indic digits: \\d would take them
        "/agentur/eintraege/²",
    ],
)
def test_ids_out_of_range_in_the_path_are_not_found(client, auth, path):
    auth.login()
    assert client.get(path).status_code == 404


def test_every_integer_in_every_route_is_bounded(app, client, auth):
    """Whatever route takes an id, a value past PostgreSQL's integer gives 404, never 500."""
    auth.login("admin")
    checked = 0
    for rule in app.url_map.iter_rules():
        names = [
            name
            for name, converter in rule._converters.items()
            if isinstance(converter, IntegerConverter)
        ]
        if not names:
            continue
        values = {name: 2**31 for name in names}
        for name, converter in rule._converters.items():
            if name not in values:  # a choice (AnyConverter) or a feature source's key
                values[name] = sorted(converter.items)[0] if name != "key" else "employers"
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": csrf_token(client)})
            # 405 where the path has a route for another method only: Werkzeug checks the
            # method before the converter. Either way the database is never asked.
            assert response.status_code in (404, 405), (method, url, response.status_code)
            checked += 1
    assert checked >= 10


# --- forms without a version -----------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "abc", "", "²", HUGE, "-1"])
def test_a_staff_edit_without_a_good_version_is_refused_and_keeps_the_input(
    app, client, auth, pending, version
):
    auth.login()
    form = entry_form(app, pending, name="Neuer Name", **COMPLETE)
    if version is None:
        del form["version"]
    else:
        form["version"] = version
    response = auth.post(f"/agentur/eintraege/{pending}/bearbeiten", form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "welchen Stand des Eintrags Sie gesehen haben" in html
    assert 'value="Neuer Name"' in html
    assert company(app, pending).name == "Dachdeckerei Sturm"
    assert audit_actions(app, pending) == []


@pytest.mark.parametrize("version", [None, "abc"])
def test_decisions_merges_and_change_requests_without_a_version_are_refused(
    app, client, auth, make_company, pending, published, version
):
    auth.login()
    data = {} if version is None else {"version": version}
    response = auth.post(f"/agentur/eintraege/{pending}/freigeben", data)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "welchen Stand des Eintrags Sie gesehen haben" in page
    assert company(app, pending).status is CompanyStatus.PENDING

    twin = make_company("Malerbetrieb Pinsel", contact_email=OWNER)
    merge = {} if version is None else {"keep_version": version, "drop_version": version}
    response = auth.post(f"/agentur/eintraege/{published}/zusammenfuehren/{twin}", merge)
    assert response.status_code == 303
    assert company(app, twin).merged_into_id is None

    with app.app_context():
        change = ChangeRequest(company_id=published, values={"name": "Neu"})
        db.session.add(change)
        db.session.commit()
        change_id = change.id
    response = auth.post(f"/agentur/aenderungen/{change_id}/uebernehmen", data)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(ChangeRequest, change_id).status == "pending"
    assert audit_actions(app, published) == []


# --- two saves at the same moment ------------------------------------------------------------


def test_a_stale_save_that_changes_only_the_sectors_is_a_conflict(app, client, auth, pending):
    """Sectors do not raise the version by themselves; the second save must still see the
    first one instead of silently undoing it."""
    auth.login()
    stale = entry_form(app, pending, sectors=["43", "56"], **COMPLETE)
    first = entry_form(app, pending, sectors=["43", "47"], **COMPLETE)
    assert auth.post(f"/agentur/eintraege/{pending}/bearbeiten", first).status_code == 302
    response = auth.post(f"/agentur/eintraege/{pending}/bearbeiten", stale)
    assert response.status_code == 409
    assert [d.code for d in company(app, pending).sectors] == ["43", "47"]


def simultaneous_posts(clients, url: str, forms: list[dict]) -> list[int]:
    """POST each form through its own client in its own thread, all at once; the statuses."""
    barrier = threading.Barrier(len(clients))
    statuses = [0] * len(clients)

    def post(index: int) -> None:
        barrier.wait()
        statuses[index] = clients[index].post(url, data=forms[index]).status_code

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_two_simultaneous_saves_give_one_save_and_one_conflict(app, make_staff, pending):
    """Real threads against PostGIS, each with its own client: never a 500 on the sectors'
    primary key, never two saves of the same version."""
    clients = []
    for name in ("anna", "ben"):
        client = app.test_client()
        AuthActions(client, make_staff).login("curator", email=f"{name}@agentur.test")
        clients.append(client)
    for round_number in range(4):
        forms = [
            entry_form(app, pending, sectors=["43", "47", "56"][: 2 + i], **COMPLETE)
            for i in range(2)
        ]
        for form, client in zip(forms, clients, strict=True):
            form["name"] = f"Runde {round_number}"  # the same in both: only sectors differ
            form["csrf_token"] = csrf_token(client)
        statuses = simultaneous_posts(clients, f"/agentur/eintraege/{pending}/bearbeiten", forms)
        assert sorted(statuses) == [302, 409], (round_number, statuses)
    assert audit_actions(app, pending) == ["edit"] * 4


# --- owners' links ---------------------------------------------------------------------------


def edit_link_draft_count(app, company_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(QuestionnaireDraft)
            .where(QuestionnaireDraft.company_id == company_id)
        )


def tokens_of(app, company_id: int) -> tuple[str, str]:
    """The entry's current edit and confirm link paths."""
    with app.test_request_context():
        entry = db.session.get(Company, company_id)
        return (
            f"/mitmachen/aendern/{questionnaire_service.edit_token(entry)}",
            f"/mitmachen/bestaetigen/{freshness.confirm_token(entry)}",
        )


def test_opening_an_edit_link_again_adds_no_draft(app, published):
    edit_path, _confirm = tokens_of(app, published)
    scanner, owner = app.test_client(), app.test_client()
    for client in (scanner, scanner, owner, owner):
        assert client.get(edit_path).status_code == 302
    assert edit_link_draft_count(app, published) == 1


def test_staff_revoke_the_owners_links_from_the_entry_page(app, client, auth, published):
    edit_path, confirm_path = tokens_of(app, published)
    owner = app.test_client()
    assert owner.get(edit_path).status_code == 302  # an edit in progress
    auth.login("curator")
    page = client.get(f"/agentur/eintraege/{published}").get_data(as_text=True)
    assert f'action="/agentur/eintraege/{published}/links-sperren"' in page
    assert client.post(f"/agentur/eintraege/{published}/links-sperren").status_code == 400
    response = auth.post(f"/agentur/eintraege/{published}/links-sperren")
    assert response.status_code == 303
    assert "jetzt ungültig" in client.get(response.headers["Location"]).get_data(as_text=True)
    for path in (edit_path, confirm_path):
        refused = owner.get(path)
        assert refused.status_code == 404
        assert "nicht (mehr) gültig" in refused.get_data(as_text=True)
    # The edit opened through the old link is closed too.
    assert edit_link_draft_count(app, published) == 0
    assert owner.get("/mitmachen/schritt/business").status_code == 302
    with app.app_context():
        record = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "revoke_links"))
        assert record.actor_label == "curator@agentur.test"
    assert "Links des Betriebs gesperrt" in client.get(f"/agentur/eintraege/{published}").get_data(
        as_text=True
    )
    # New links work.
    new_edit, new_confirm = tokens_of(app, published)
    assert owner.get(new_edit).status_code == 302
    assert owner.get(new_confirm).status_code == 200


def test_only_signed_in_staff_may_revoke_links(app, published):
    edit_path, _confirm = tokens_of(app, published)
    business = app.test_client()
    assert business.get(edit_path).status_code == 302
    anonymous = app.test_client()
    for client in (anonymous, business):
        response = client.post(
            f"/agentur/eintraege/{published}/links-sperren",
            data={"csrf_token": csrf_token(client)},
        )
        assert response.status_code == 403
    assert business.get(edit_path).status_code == 302  # still valid
    assert audit_actions(app, published) == []


def test_asking_for_a_new_edit_link_revokes_the_old_ones(app, client, published):
    old_edit, old_confirm = tokens_of(app, published)
    response = client.post(
        "/mitmachen/aendern", data={"email": OWNER, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 200
    with app.app_context():
        mail = db.session.scalars(select(OutboxMessage)).one()
    new_edit = re.search(r"https?://[^/\s]+(/mitmachen/aendern/\S+)", mail.body).group(1)
    assert new_edit != old_edit
    assert client.get(old_edit).status_code == 404
    assert client.get(old_confirm).status_code == 404
    assert client.get(new_edit).status_code == 302
    with app.app_context():
        assert db.session.get(Company, published).version == 1  # no change of the entry


def test_archiving_revokes_the_links_for_good(app, client, auth, published):
    edit_path, confirm_path = tokens_of(app, published)
    auth.login()
    version = version_in(client.get(f"/agentur/eintraege/{published}").get_data(as_text=True))
    auth.post(f"/agentur/eintraege/{published}/archivieren", {"version": version})
    version = version_in(client.get(f"/agentur/eintraege/{published}").get_data(as_text=True))
    auth.post(f"/agentur/eintraege/{published}/zurueckholen", {"version": version})
    assert company(app, published).status is CompanyStatus.PUBLISHED
    owner = app.test_client()
    assert owner.get(edit_path).status_code == 404
    assert owner.get(confirm_path).status_code == 404


def test_merging_revokes_the_links_of_the_entry_merged_away(app, client, auth, make_company):
    keep = make_company("Malerbetrieb Pinsel", contact_email=OWNER)
    drop = make_company("Malerbetrieb Pinsel", contact_email=OWNER)
    edit_path, _confirm = tokens_of(app, drop)
    auth.login()
    response = auth.post(
        f"/agentur/eintraege/{keep}/zusammenfuehren/{drop}",
        {"keep_version": "1", "drop_version": "1"},
    )
    assert response.status_code == 303
    assert company(app, drop).merged_into_id == keep
    with app.app_context():
        assert db.session.get(Company, drop).link_generation == 2
    assert app.test_client().get(edit_path).status_code == 404
