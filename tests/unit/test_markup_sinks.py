"""No text that can carry user input reaches a page as markup (issue 9).

A flask_babel lazy string has ``__html__``, so Jinja inserts it unescaped: a lazy translation
with a value in it (``_l("… %(value)s", value=…)``) is a markup sink. ``Markup(...)``,
``|safe`` and ``Markup.format`` are the others. This test keeps each of them where it is known
to carry none.
"""

import ast
import re

from app.config import PROJECT_ROOT

PACKAGES = ("app", "questionnaire", "geodata")
LAZY = {"_l", "lazy_gettext", "lazy_ngettext", "lazy_pgettext"}
#: Where Markup may be built: folium's own rendering of the map (no user text; see DESIGN.md).
MARKUP_ALLOWED = {"app/map.py"}


def python_files():
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(PROJECT_ROOT).as_posix(), ast.parse(path.read_text())


def called_name(node: ast.Call) -> str | None:
    function = node.func
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        return function.attr
    return None


def test_no_lazy_translation_carries_a_value():
    offending = [
        f"{path}:{node.lineno}"
        for path, tree in python_files()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and called_name(node) in LAZY
        and (node.keywords or len(node.args) > 1)
    ]
    assert offending == [], "use gettext (a plain str) for messages with values"


def test_markup_is_built_only_where_no_user_text_goes():
    offending = {
        path
        for path, tree in python_files()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and called_name(node) in {"Markup", "format"}
        and (called_name(node) == "Markup" or "Markup" in ast.unparse(node.func))
    }
    assert offending <= MARKUP_ALLOWED


def test_no_template_marks_text_as_safe():
    offending = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}"
        for path in sorted((PROJECT_ROOT / "templates").rglob("*.*"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\|\s*safe\b|\{%-?\s*autoescape\s+false", line)
    ]
    assert offending == []
