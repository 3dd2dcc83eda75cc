"""Turning a questionnaire step into a WTForms form, and its answers into validated values.

Messages come in German and English from :data:`MESSAGES`, so this package needs no Flask.
The app passes what only it knows in a :class:`Context`: the option lists of the taxonomies
and the region's postal codes and bounds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from wtforms import (
    BooleanField,
    Form,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from questionnaire.definition import Question, Step

MESSAGES = {
    "required": {"de": "Bitte füllen Sie dieses Feld aus.", "en": "Please fill in this field."},
    "agree": {
        "de": "Bitte stimmen Sie zu, damit wir Ihren Eintrag veröffentlichen dürfen.",
        "en": "Please agree so that we may publish your entry.",
    },
    "choose_one": {
        "de": "Bitte wählen Sie mindestens eine Angabe.",
        "en": "Please choose at least one.",
    },
    "too_many": {
        "de": "Bitte wählen Sie höchstens {max}.",
        "en": "Please choose at most {max}.",
    },
    "invalid_choice": {"de": "Diese Auswahl gibt es nicht.", "en": "This choice does not exist."},
    "too_long": {
        "de": "Bitte höchstens {max} Zeichen (jetzt {length}).",
        "en": "At most {max} characters, please (now {length}).",
    },
    "whole_number": {
        "de": "Bitte geben Sie eine ganze Zahl ab {min} ein.",
        "en": "Please enter a whole number from {min}.",
    },
    "too_big": {"de": "Bitte höchstens {max}.", "en": "At most {max}, please."},
    "places": {
        "de": "Bitte die Zahl der Ausbildungsplätze als ganze Zahl von 0 bis {max} eingeben.",
        "en": "Please enter the number of apprenticeship places as a whole number from 0 to {max}.",
    },
    "email": {
        "de": "Das ist keine gültige E-Mail-Adresse (Beispiel: name@firma.de).",
        "en": "This is not a valid e-mail address (example: name@company.com).",
    },
    "url": {
        "de": "Die Website muss mit https:// oder http:// beginnen (Beispiel: https://www.firma.de).",
        "en": "The website must start with https:// or http:// (example: https://www.company.com).",
    },
    "phone": {
        "de": "Bitte nur Ziffern, Leerzeichen und + ( ) / - verwenden.",
        "en": "Please use only digits, spaces and + ( ) / -.",
    },
    "postal_code_format": {
        "de": "Eine Postleitzahl hat fünf Ziffern.",
        "en": "A postal code has five digits.",
    },
    "postal_code_region": {
        "de": "Die Postleitzahl {code} liegt nicht in unserer Region.",
        "en": "The postal code {code} is not in our region.",
    },
    "date": {
        "de": "Bitte ein Datum wie 31.12.2027 eingeben.",
        "en": "Please enter a date such as 2027-12-31.",
    },
    "point": {"de": "Dieser Punkt ist ungültig.", "en": "This point is not valid."},
    "nul": {
        "de": "Dieses Feld enthält ein unzulässiges Zeichen (Nullzeichen). "
        "Wir haben es entfernt: bitte prüfen Sie die Eingabe.",
        "en": "This field contained a character that is not allowed (a null character). "
        "We removed it: please check your input.",
    },
    "point_region": {
        "de": "Der Punkt liegt außerhalb der Region. "
        "Bitte ziehen Sie die Markierung auf Ihren Betrieb.",
        "en": "The point is outside the region. Please drag the marker onto your business.",
    },
}
_EMAIL = re.compile(r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s.\x00]{2,}$")
_EMAIL_MAX_LENGTH = 254
_PHONE = re.compile(r"^[+\d][\d\s()/\-]{3,}$")
_POSTAL_CODE = re.compile(r"^\d{5}$")
_INTEGER = re.compile(r"^[0-9]{1,12}$")  # int() of thousands of digits raises
NUL = "\x00"  # PostgreSQL stores no NUL in text or JSONB
#: At most this many places of one apprenticeship occupation (unless a question says ``max``).
MAX_PLACES = 999
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def message(key: str, language: str, **values) -> str:
    """A validation message in ``language`` (German unless English is asked for)."""
    texts = MESSAGES[key]
    return (texts.get(language) or texts["de"]).format(**values)


@dataclass(frozen=True)
class Context:
    """What the engine needs from the app: option lists and the region.

    ``choices`` maps a taxonomy name to (value, label) or (value, label, group) tuples.
    """

    choices: Mapping[str, Sequence[tuple[str, ...]]] = field(default_factory=dict)
    postal_codes: frozenset[str] = frozenset()
    in_region: Callable[[float, float], bool] = lambda lon, lat: True


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        """Unknown values are reported by the engine's own check, in the user's language."""


class QuietSelectField(SelectField):
    """A select whose unknown-value check the engine makes, in the user's language."""

    def pre_validate(self, form):
        """See MultiCheckboxField.pre_validate."""


class ApprenticeshipsField(SelectMultipleField):
    """Apprenticeship occupations as checkboxes, each with its number of places this year
    (posted as ``<name>-places-<code>``). The data is a list of ``{"code", "places"}``, the
    places as typed until :func:`clean_answers` (the engine checks them)."""

    def pre_validate(self, form):
        """See MultiCheckboxField.pre_validate."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        """Read the ticked codes, then each one's places from its own input."""
        super().process(formdata, data, extra_filters)
        if formdata is not None:
            for item in self.data:
                places = formdata.get(f"{self.name}-places-{item['code']}", "")
                item["places"] = places.strip()[:12] or None

    def process_data(self, value):
        """Stored answers: a list of ``{"code", "places"}`` (bare codes are taken too)."""
        items = [{"code": v, "places": None} if isinstance(v, str) else v for v in value or []]
        self.data = [
            {"code": str(item.get("code")), "places": item.get("places")}
            for item in items
            if isinstance(item, dict)
        ]

    def process_formdata(self, valuelist):
        """The ticked codes, each once (places are added by :meth:`process`)."""
        self.data = [{"code": code, "places": None} for code in dict.fromkeys(valuelist)]

    def places_of(self, code: str) -> str:
        """The places given for ``code``, as the form shows them ("" when none)."""
        for item in self.data or []:
            if item["code"] == code:
                return "" if item["places"] is None else str(item["places"])
        return ""

    def chosen(self) -> list[str]:
        """The ticked codes."""
        return [item["code"] for item in self.data or []]


def _options(question: Question, context: Context, language: str) -> list[SelectChoice]:
    if isinstance(question.options, str):
        return [
            SelectChoice(option[0], option[1], optgroup=option[2] if len(option) > 2 else None)
            for option in context.choices.get(question.options, ())
        ]
    return [SelectChoice(o["value"], o.get(language) or o["de"]) for o in question.options]


def is_required(question: Question, data: Mapping) -> bool:
    """Whether the question must be answered, given the other answers of its step."""
    if question.required:
        return True
    condition = question.required_if
    if not condition:
        return False
    other = data.get(condition["question"])
    if "equals" in condition:
        return other == condition["equals"]
    return condition["contains"] in (other or [])


def _is_empty(value) -> bool:
    return value is None or value is False or (isinstance(value, str | list) and not value)


def _check(question: Question, language: str, context: Context):
    """The WTForms validator for one question: presence first, then its type's rules."""

    def validate(form, field):
        value = field.data.strip() if isinstance(field.data, str) else field.data
        if _is_empty(value):
            if is_required(question, {f.name: f.data for f in form}):
                raise StopValidation(message(_missing_key(question), language))
            raise StopValidation()
        _type_rules(question, value, language, context)

    return validate


def _missing_key(question: Question) -> str:
    """The message key for a required question left unanswered: a required checkbox asks for
    agreement, a list for a choice, anything else to be filled in."""
    if question.type == "boolean":
        return "agree"
    return "choose_one" if question.type == "multi_choice" else "required"


def _type_rules(question: Question, value, language: str, context: Context) -> None:
    kind = question.type
    if any(isinstance(text, str) and NUL in text for text in _listed(value)):
        raise ValidationError(message("nul", language))
    if isinstance(value, str) and question.max_length and len(value) > question.max_length:
        raise ValidationError(
            message("too_long", language, max=question.max_length, length=len(value))
        )
    if kind == "integer":
        minimum = question.min if question.min is not None else 0
        if not _INTEGER.match(value) or int(value) < minimum:
            raise ValidationError(message("whole_number", language, min=minimum))
        if question.max is not None and int(value) > question.max:
            raise ValidationError(message("too_big", language, max=question.max))
    elif kind == "email" and not is_email(value):
        raise ValidationError(message("email", language))
    elif kind == "url" and not is_web_address(value):
        raise ValidationError(message("url", language))
    elif kind == "phone" and not _PHONE.match(value):
        raise ValidationError(message("phone", language))
    elif kind == "postal_code":
        if not _POSTAL_CODE.match(value):
            raise ValidationError(message("postal_code_format", language))
        if context.postal_codes and value not in context.postal_codes:
            raise ValidationError(message("postal_code_region", language, code=value))
    elif kind == "date" and parse_date(value) is None:
        raise ValidationError(message("date", language))
    elif kind == "point":
        point = parse_point(value)
        if point is None:
            raise ValidationError(message("point", language))
        if not context.in_region(*point):
            raise ValidationError(message("point_region", language))
    elif kind == "apprenticeships":
        _apprenticeship_rules(question, value, language, context)
    elif kind in ("choice", "multi_choice"):
        allowed = {option.value for option in _options(question, context, language)}
        chosen = value if isinstance(value, list) else [value]
        if not set(chosen) <= allowed:
            raise ValidationError(message("invalid_choice", language))
        if question.max_choices and len(chosen) > question.max_choices:
            raise ValidationError(message("too_many", language, max=question.max_choices))


def _apprenticeship_rules(question: Question, value, language: str, context: Context) -> None:
    """Known occupations, at most ``max_choices``, places a whole number up to ``max``."""
    allowed = {option.value for option in _options(question, context, language)}
    if not {item["code"] for item in value} <= allowed:
        raise ValidationError(message("invalid_choice", language))
    if question.max_choices and len(value) > question.max_choices:
        raise ValidationError(message("too_many", language, max=question.max_choices))
    most = question.max if question.max is not None else MAX_PLACES
    for item in value:
        if places_number(item["places"], most) is False:
            raise ValidationError(message("places", language, max=most))


def places_number(value, most: int | None = None) -> int | bool | None:
    """A number of places from a form or an answer: None when none is given, False when it is
    not a whole number from 0 to ``most``."""
    most = MAX_PLACES if most is None else most
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER.match(value.strip()):
        number = int(value.strip())
    else:
        return False
    return number if 0 <= number <= most else False


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def is_email(value: str) -> bool:
    """Whether ``value`` looks like an e-mail address (at most 254 characters)."""
    return len(value) <= _EMAIL_MAX_LENGTH and bool(_EMAIL.match(value))


def is_web_address(value: str) -> bool:
    """Whether ``value`` is an http(s) address with a host name (malformed ones, such as an
    unclosed IPv6 bracket, are simply not)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts.scheme in ("http", "https") and "." in host and not re.search(r"\s", value)


def without_nul(value):
    """``value`` (a text or a list of texts) with every NUL character removed."""
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value.replace(NUL, "") if isinstance(value, str) else value


def parse_date(value: str) -> date | None:
    """A date from '2027-12-31' or '31.12.2027'; None if it is not one."""
    match = _GERMAN_DATE.match(value.strip())
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def parse_point(value: str) -> tuple[float, float] | None:
    """(lon, lat) from 'lat,lon'; None if it is not a valid pair."""
    try:
        lat, lon = (float(part) for part in value.split(","))
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lon, lat


def build_form(
    step: Step, *, language: str, context: Context, base: type[Form] = Form
) -> type[Form]:
    """A form class for ``step``, with labels, help texts and checks in ``language``."""
    attributes = {}
    for question in step.questions:
        label = question.text("label", language)
        description = question.text("help", language)
        validators = [_check(question, language, context)]
        kind = question.type
        if kind == "boolean":
            field = BooleanField(label, validators, description=description)
        elif kind == "multi_choice":
            field = MultiCheckboxField(
                label,
                validators,
                choices=_options(question, context, language),
                description=description,
            )
        elif kind == "apprenticeships":
            field = ApprenticeshipsField(
                label,
                validators,
                choices=_options(question, context, language),
                description=description,
            )
        elif kind == "choice":
            field = QuietSelectField(
                label,
                validators,
                choices=[SelectChoice("", "–"), *_options(question, context, language)],
                description=description,
            )
        elif kind == "textarea":
            field = TextAreaField(label, validators, description=description)
        else:
            field = StringField(label, validators, description=description)
        attributes[question.key] = field
    return type(f"{step.key.title()}Form", (base,), attributes)


def clean_answers(step: Step, form: Form) -> dict:
    """The validated answers of a step as JSON-ready values (call after form.validate())."""
    answers = {}
    for question in step.questions:
        value = form[question.key].data
        if isinstance(value, str):
            value = value.strip()
        kind = question.type
        if kind == "boolean":
            answers[question.key] = bool(value)
        elif kind == "multi_choice":
            answers[question.key] = list(value or [])
        elif kind == "apprenticeships":
            answers[question.key] = [
                {"code": item["code"], "places": _checked_places(item["places"])}
                for item in value or []
            ]
        elif _is_empty(value):
            answers[question.key] = None
        elif kind == "integer":
            answers[question.key] = int(value)
        elif kind == "date":
            answers[question.key] = parse_date(value).isoformat()
        elif kind == "point":
            answers[question.key] = list(parse_point(value))
        else:
            answers[question.key] = value
    return answers


def _checked_places(value) -> int | None:
    """Validated places as a number (None when none were given)."""
    number = places_number(value)
    return None if number is False else number


def form_data(step: Step, answers: Mapping) -> dict:
    """Stored answers turned back into form values (to fill a step again)."""
    data = {}
    for question in step.questions:
        value = answers.get(question.key)
        if question.type == "point" and value:
            value = f"{value[1]:.6f},{value[0]:.6f}"
        elif question.type == "integer" and value is not None:
            value = str(value)
        data[question.key] = value
    return data


def mapped_values(questionnaire, answers: Mapping) -> dict:
    """The answers that fill model fields, as {maps_to: value}.

    A conditional answer whose condition does not hold maps to None (e.g. a count of open
    positions when the business said it has none).
    """
    values = {}
    for step in questionnaire.steps:
        step_answers = {q.key: answers.get(q.key) for q in step.questions}
        for question in step.questions:
            if not question.maps_to:
                continue
            value = step_answers.get(question.key)
            if question.required_if and not is_required(question, step_answers):
                value = None
            values[question.maps_to] = value
    return values


def answers_from(questionnaire, values: Mapping) -> dict:
    """The answers that give these field values: :func:`mapped_values` the other way round.

    A question without ``maps_to`` is unanswered (None), except a yes/no question that gates a
    mapped one (``required_if = {question = ..., equals = true}``): it is answered by whether
    the gated field has a value (e.g. "we have open positions" from their number).
    """
    answers = {
        question.key: values.get(question.maps_to) if question.maps_to else None
        for question in questionnaire.questions()
    }
    keys = {question.key: question for question in questionnaire.questions()}
    for question in questionnaire.questions():
        condition = question.required_if or {}
        gate = keys.get(condition.get("question"))
        gated = isinstance(condition.get("equals"), bool) and question.maps_to
        if gated and gate and not gate.maps_to and gate.type == "boolean":
            has_value = bool(values.get(question.maps_to))  # 0 positions: none
            answers[gate.key] = condition["equals"] if has_value else not condition["equals"]
    return answers
