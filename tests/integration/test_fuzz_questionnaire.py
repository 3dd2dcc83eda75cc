"""Fuzzing the questionnaire (issue 17): arbitrary answers for every field of every step, from
the definition (text, numbers, choices, multi-choices, apprenticeships, postal codes,
coordinates, dates, e-mail, web addresses).

Directly, the engine's form either validates, and then gives JSON-ready clean answers, or
names the fields that are wrong with a message. Through the real step pages (with a CSRF
token and a session's draft), an answer is saved (302) or the step comes back (422) with a
field error and the typed input kept; never a 500.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import QuestionnaireDraft
from app.services import questionnaire as service
from questionnaire import build_form, clean_answers, load_definition
from tests.integration.test_questionnaire import STEPS

DEFINITION = load_definition()
STEP_KEYS = [step.key for step in DEFINITION.steps if step.key != "summary"]
FUZZ = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ODD = st.sampled_from(
    ["", " ", "\x00", "\x1b", "\u202e", "٣", "²", "1e400", "-1", "0", "2147483648", "nan",
     "<b>x</b>", "x" * 5000, "51.6561,7.0903", "91,181", "nan,nan", "45768", "٤٥٧٦٨", "10115",
     "2027-12-31", "2027-02-30", "31.12.2027", "9999-12-31", "0001-01-01", "a@b", "x@y.example",
     "javascript:alert(1)", "https://holzwurm.example", "http://", "y", "on", "true"]
)  # fmt: skip
TEXT = st.one_of(ODD, st.text(max_size=40))
BY_TYPE = {
    "integer": st.one_of(ODD, st.integers(min_value=-(10**12), max_value=10**12).map(str)),
    "point": st.one_of(
        ODD,
        st.tuples(st.floats(), st.floats()).map(lambda p: f"{p[0]},{p[1]}"),
        st.tuples(
            st.floats(min_value=51.5, max_value=51.8), st.floats(min_value=6.9, max_value=7.4)
        ).map(lambda p: f"{p[0]},{p[1]}"),
    ),
    "date": st.one_of(ODD, st.dates().map(str)),
    "postal_code": st.one_of(ODD, st.from_regex(r"\A[0-9]{5}\Z")),
}
CODES = st.sampled_from(["16", "31", "22", "93", "de", "tr", "part_time", "certificate",
                         "99", "", "x", "A", "\x00"])  # fmt: skip


@st.composite
def answers(draw, step) -> list[tuple[str, str]]:
    """Posted pairs for ``step``: each question maybe answered, with any value for its type."""
    pairs = []
    for question in step.questions:
        if not draw(st.booleans()):
            continue
        if question.type in ("multi_choice", "apprenticeships"):
            for code in draw(st.lists(st.one_of(CODES, TEXT), max_size=4)):
                pairs.append((question.key, code))
                if question.type == "apprenticeships":
                    places = draw(st.one_of(BY_TYPE["integer"], TEXT))
                    pairs.append((f"{question.key}-places-{code}", places))
        else:
            pairs.append((question.key, draw(BY_TYPE.get(question.type, TEXT))))
    return pairs


@st.composite
def step_answers(draw):
    key = draw(st.sampled_from(STEP_KEYS))
    return key, draw(answers(DEFINITION.step(key)))


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_engine_gives_clean_answers_or_field_errors(app, language):
    with app.test_request_context(f"/?lang={language}"):
        context = service.engine_context(language)
        forms = {
            step.key: build_form(step, language=language, context=context)
            for step in DEFINITION.steps
        }

        @FUZZ
        @given(step_answers())
        @example(("size", [("employees", "٣")]))
        @example(("location", [("location", "1e400,7"), ("postal_code", "45768")]))
        @example(("family", [("certificate_valid_until", "0001-01-01")]))
        @example(("offers", [("apprenticeships", "x"), ("apprenticeships-places-x", "²")]))
        def check(drawn):
            key, pairs = drawn
            step = DEFINITION.step(key)
            form = forms[key](formdata=MultiDict(pairs))
            if form.validate():
                json.dumps(clean_answers(step, form))  # JSON-ready, no exception
            else:
                for name, errors in form.errors.items():
                    assert name in forms[key]()._fields, name
                    assert errors and all(str(error).strip() for error in errors), errors

        check()


# --- through the step pages -------------------------------------------------------------------

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _post(client, url: str, data) -> object:
    """POST ``data`` (pairs) with the CSRF token of the page at ``url``."""
    token = TOKEN.search(client.get(url).get_data(as_text=True)).group(1)
    return client.post(url, data=MultiDict([*data, ("csrf_token", token)]))


@pytest.fixture
def answered_draft(app):
    """A draft answered up to the last step, through the pages with CSRF tokens."""
    client = app.test_client()
    token = TOKEN.search(client.get("/mitmachen/").get_data(as_text=True)).group(1)
    assert client.post("/mitmachen/start", data={"csrf_token": token}).status_code == 302
    for key, data in STEPS.items():
        if key == "summary":
            break
        pairs = [
            (k, v)
            for k, value in data.items()
            for v in ([value] if isinstance(value, str) else value)
        ]
        response = _post(client, f"/mitmachen/schritt/{key}", [*pairs, ("action", "next")])
        assert response.status_code == 302, (key, response.status_code)
    with app.app_context():
        draft = db.session.scalars(select(QuestionnaireDraft)).one()
        values = {
            "language": draft.language,
            "definition_version": draft.definition_version,
            "answers": dict(draft.answers),
            "raw_input": {},
            "completed_steps": draft.completed_steps,
        }
    yield values
    with app.app_context():
        db.session.execute(db.text("TRUNCATE questionnaire_drafts RESTART IDENTITY CASCADE"))
        db.session.commit()


def _client_with_copy(app, values):
    """A fresh client whose session has its own copy of the answered draft."""
    with app.app_context():
        draft = QuestionnaireDraft(**{**values, "answers": dict(values["answers"])})
        db.session.add(draft)
        db.session.commit()
        draft_id = draft.id
    client = app.test_client()
    with client.session_transaction() as session:
        session["questionnaire_draft"] = draft_id
    return client


@FUZZ
@given(drawn=step_answers(), language=st.sampled_from(["de", "en"]))
@example(drawn=("size", [("employees", "2147483648")]), language="de")
@example(drawn=("business", [("name", "Holz\x00wurm")]), language="de")
@example(drawn=("contact", [("website", "javascript:alert(1)")]), language="en")
def test_a_step_saves_the_answers_or_shows_them_again_with_an_error(
    app, answered_draft, drawn, language
):
    key, pairs = drawn
    client = _client_with_copy(app, answered_draft)
    url = f"/mitmachen/schritt/{key}?lang={language}"
    response = _post(client, url, [*pairs, ("action", "next")])
    assert response.status_code in (302, 400, 422), response.status_code
    if response.status_code == 302:
        return
    page = response.get_data(as_text=True)
    assert 'class="field-error"' in page or 'role="alert"' in page, pairs
    shown = html.unescape(page)
    step = DEFINITION.step(key)
    for name, value in pairs:
        question = next((q for q in step.questions if q.key == name), None)
        if question is None or question.type not in ("text", "textarea", "email", "url"):
            continue
        typed = value.replace("\x00", "").strip()
        if typed and "\r" not in typed and len(typed) < 200:
            assert typed in shown, (name, typed)  # the input is kept
