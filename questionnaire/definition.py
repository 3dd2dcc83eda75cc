"""Reading and checking the questionnaire definition (a TOML file of steps and questions)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent / "definition.toml"
LANGUAGES = ("de", "en")
TYPES = (
    "text",
    "textarea",
    "integer",
    "email",
    "url",
    "phone",
    "postal_code",
    "choice",
    "multi_choice",
    "boolean",
    "date",
    "point",
    "apprenticeships",
)
#: Option lists the app supplies at run time (from its taxonomies).
TAXONOMIES = ("wz_divisions", "kldb_groups", "family_criteria", "languages", "apprenticeships")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


class DefinitionError(ValueError):
    """The definition file is malformed; the message names the place."""


class _Texts:
    """Texts in several languages, German first."""

    def text(self, part: str, language: str) -> str:
        """The ``part`` text (label, help, title, intro) in ``language``, else in German."""
        texts = getattr(self, part) or {}
        return texts.get(language) or texts.get("de", "")


@dataclass(frozen=True)
class Question(_Texts):
    """One question: how it is asked, checked and where its answer goes."""

    key: str
    type: str
    label: dict[str, str]
    help: dict[str, str] = field(default_factory=dict)
    required: bool = False
    required_if: dict | None = None
    max_length: int | None = None
    min: int | None = None
    max: int | None = None
    options: str | tuple[dict, ...] | None = None
    max_choices: int | None = None
    maps_to: str | None = None


@dataclass(frozen=True)
class Step(_Texts):
    """A page of the questionnaire."""

    key: str
    title: dict[str, str]
    intro: dict[str, str]
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Consent:
    """The versioned consent text of the last step."""

    version: str
    text: dict[str, str]

    def text_in(self, language: str) -> str:
        """The consent text in ``language`` (German when there is no translation)."""
        return self.text.get(language) or self.text["de"]


@dataclass(frozen=True)
class Questionnaire:
    """All steps, in order, and the consent text."""

    version: int
    steps: tuple[Step, ...]
    consent: Consent

    @property
    def keys(self) -> tuple[str, ...]:
        """The step keys in order."""
        return tuple(step.key for step in self.steps)

    def step(self, key: str) -> Step | None:
        """The step with this key, or None."""
        return next((s for s in self.steps if s.key == key), None)

    def index(self, key: str) -> int:
        """The position of a step (0-based); ValueError if unknown."""
        return self.keys.index(key)

    def questions(self) -> list[Question]:
        """Every question of every step."""
        return [q for step in self.steps for q in step.questions]

    def question_for(self, target: str) -> Question | None:
        """The question whose answer fills the field ``target`` (its ``maps_to``), or None."""
        return next((q for q in self.questions() if q.maps_to == target), None)


def load_definition(
    path: str | Path | None = None, targets: Collection[str] | None = None
) -> Questionnaire:
    """Read and check a definition file (the bundled one by default).

    ``targets`` are the field names a question's ``maps_to`` may name (the app passes the
    writable fields of an entry); a question naming anything else is a DefinitionError.
    """
    path = Path(path) if path else DEFAULT_PATH
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DefinitionError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{path}: not valid TOML ({exc})") from None
    return parse_definition(raw, source=str(path), targets=targets)


def parse_definition(
    raw: dict, source: str = "definition", targets: Collection[str] | None = None
) -> Questionnaire:
    """Build a Questionnaire from parsed TOML, checking keys, types and references (and each
    ``maps_to`` against ``targets``, when given)."""
    steps = []
    seen: set[str] = set()
    mapped: dict[str, str] = {}
    for position, raw_step in enumerate(raw.get("steps", []), start=1):
        where = f"{source}: step {position}"
        step_key = _key(raw_step, where)
        questions = []
        for raw_question in raw_step.get("questions", []):
            question = _question(raw_question, f"{where} ({step_key})")
            if question.key in seen:
                raise DefinitionError(f"{where}: question key {question.key!r} is used twice")
            seen.add(question.key)
            _check_target(question, f"{where} ({step_key})", targets, mapped)
            questions.append(question)
        step_keys = {q.key for q in questions}
        for question in questions:
            condition = question.required_if
            if condition and condition.get("question") not in step_keys:
                raise DefinitionError(
                    f"{where}: {question.key}.required_if names {condition.get('question')!r}, "
                    "which is not a question of the same step"
                )
        steps.append(
            Step(
                key=step_key,
                title=_texts(raw_step, "title", where, required=True),
                intro=_texts(raw_step, "intro", where),
                questions=tuple(questions),
            )
        )
    if not steps:
        raise DefinitionError(f"{source}: the questionnaire has no steps")
    keys = [s.key for s in steps]
    if len(set(keys)) != len(keys):
        raise DefinitionError(f"{source}: a step key is used twice")
    consent = raw.get("consent") or {}
    if not consent.get("version") or not consent.get("de"):
        raise DefinitionError(f"{source}: [consent] needs a version and a German text (de)")
    return Questionnaire(
        version=int(raw.get("version", 1)),
        steps=tuple(steps),
        consent=Consent(
            version=str(consent["version"]),
            text={k: v for k, v in consent.items() if k in LANGUAGES},
        ),
    )


def _check_target(
    question: Question, where: str, targets: Collection[str] | None, mapped: dict[str, str]
) -> None:
    """DefinitionError if the question's ``maps_to`` is not one of ``targets`` or another
    question fills the same field already; ``mapped`` collects {target: question key}."""
    target = question.maps_to
    if target is None:
        return
    where = f"{where}, question {question.key}"
    if not isinstance(target, str) or (targets is not None and target not in targets):
        known = f" (one of {', '.join(sorted(targets))})" if targets is not None else ""
        raise DefinitionError(f"{where}: maps_to {target!r} is not a field of an entry{known}")
    if target in mapped:
        raise DefinitionError(
            f"{where}: maps_to {target!r} is already filled by question {mapped[target]}"
        )
    mapped[target] = question.key


def _key(raw: dict, where: str) -> str:
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise DefinitionError(f"{where}: key {key!r} must be lower-case letters, digits and _")
    return key


def _texts(raw: dict, name: str, where: str, required: bool = False) -> dict[str, str]:
    texts = raw.get(name) or {}
    if not isinstance(texts, dict) or not all(isinstance(v, str) for v in texts.values()):
        raise DefinitionError(f"{where}: {name} must be a table of texts such as {{de = ...}}")
    if required and not texts.get("de"):
        raise DefinitionError(f"{where}: {name} needs at least a German text (de)")
    return dict(texts)


def _question(raw: dict, where: str) -> Question:
    key = _key(raw, where)
    where = f"{where}, question {key}"
    kind = raw.get("type")
    if kind not in TYPES:
        raise DefinitionError(f"{where}: type {kind!r} is not one of {', '.join(TYPES)}")
    options = raw.get("options")
    if kind in ("choice", "multi_choice", "apprenticeships"):
        if isinstance(options, str):
            if options not in TAXONOMIES:
                raise DefinitionError(
                    f"{where}: options {options!r} is not one of {', '.join(TAXONOMIES)}"
                )
        elif isinstance(options, list) and options:
            for option in options:
                if not {"value", "de"} <= set(option):
                    raise DefinitionError(f"{where}: every option needs a value and a de text")
            options = tuple(options)
        else:
            raise DefinitionError(f"{where}: a {kind} question needs options")
    condition = raw.get("required_if")
    if condition is not None and (
        not isinstance(condition, dict)
        or "question" not in condition
        or not ({"equals", "contains"} & set(condition))
    ):
        raise DefinitionError(f"{where}: required_if needs question and equals or contains")
    return Question(
        key=key,
        type=kind,
        label=_texts(raw, "label", where, required=True),
        help=_texts(raw, "help", where),
        required=bool(raw.get("required", False)),
        required_if=condition,
        max_length=raw.get("max_length"),
        min=raw.get("min"),
        max=raw.get("max"),
        options=options,
        max_choices=raw.get("max_choices"),
        maps_to=raw.get("maps_to"),
    )
