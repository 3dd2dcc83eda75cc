"""Transactions and web concerns stay where they belong (issue 10).

- Views do not end transactions: no ``db.session.rollback()`` or ``refresh()`` in a blueprint
  (services commit or roll back, and raise a domain error the view turns into a message).
- Services render no templates and build no URLs from endpoint names: no ``render_template``
  or ``url_for`` in app/services (mail texts and links live in app/notifications.py).
- ``absolute_url`` is defined once, and so is each questionnaire session key.
"""

import ast

from app.config import PROJECT_ROOT

APP = PROJECT_ROOT / "app"
SESSION_KEYS = ("questionnaire_draft", "questionnaire_result", "resume_mail")
SESSION_KEYS_MODULE = "app/blueprints/session_keys.py"


def modules(folder: str):
    """(path relative to the project, parsed module) of every Python file in ``folder``."""
    for path in sorted((APP / folder).rglob("*.py") if folder else APP.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path.relative_to(PROJECT_ROOT).as_posix(), ast.parse(path.read_text())


def session_calls(tree: ast.AST, names: set[str]):
    """Line numbers of calls ``<anything>.session.<name>(...)`` in ``tree``."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in names
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "session"
        ):
            yield node.lineno


def test_no_blueprint_rolls_back_or_refreshes_the_session():
    found = [
        f"{path}:{line}"
        for path, tree in modules("blueprints")
        for line in session_calls(tree, {"rollback", "refresh"})
    ]
    assert found == [], "services own their transactions: " + ", ".join(found)


def test_no_service_renders_templates_or_builds_urls():
    web_only = {"render_template", "render_template_string", "url_for"}
    found = []
    for path, tree in modules("services"):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                found += [f"{path}: {a.name}" for a in node.names if a.name in web_only]
            elif isinstance(node, ast.Attribute) and node.attr in web_only:
                found.append(f"{path}:{node.lineno}: {node.attr}")
    assert found == [], "web concerns in services: " + ", ".join(found)


def test_absolute_url_is_defined_once():
    definitions = [
        path
        for path, tree in modules("")
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "absolute_url"
    ]
    assert definitions == ["app/notifications.py"]


def test_questionnaire_session_keys_are_defined_once():
    found = [
        f"{path}:{node.lineno}: {node.value}"
        for path, tree in modules("")
        if path != SESSION_KEYS_MODULE
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in SESSION_KEYS
    ]
    assert found == [], "import the key from " + SESSION_KEYS_MODULE + ": " + ", ".join(found)
