"""The questionnaire (Leitfragebogen): its definition as data (``definition.toml``) and the engine
that turns it into WTForms forms and validated answers. No Flask imports.
"""

from questionnaire.definition import (
    DefinitionError,
    Question,
    Questionnaire,
    Step,
    load_definition,
)
from questionnaire.engine import (
    Context,
    answers_from,
    build_form,
    clean_answers,
    mapped_values,
    message,
)

__all__ = [
    "Context",
    "DefinitionError",
    "Question",
    "Questionnaire",
    "Step",
    "answers_from",
    "build_form",
    "clean_answers",
    "load_definition",
    "mapped_values",
    "message",
]
