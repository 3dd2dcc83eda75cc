"""Which answers no cache may keep: not the browser's, not a proxy's, not the service worker's.

- The workspace, the questionnaire (its drafts), job alerts and the personal links of
  registrations (:data:`NO_STORE_PREFIXES`) always say ``Cache-Control: private, no-store``.
- So does every answer to signed-in staff that does not set its own ``Cache-Control``: their
  pages may show what the public does not see.
- An answer that sets a cookie (the session, e.g. with a new CSRF token, or the language) says
  ``private``: it belongs to this one browser.

The service worker (``app/pwa/worker.js``) keeps nothing that says ``private`` or ``no-store``,
and its route table never even looks at the prefixes below: two independent walls, so that a
mistake in one does not put a workspace page into a cache (``tests/integration/test_pwa.py``).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request, session
from flask_login import current_user

#: Paths whose answers are never stored anywhere.
NO_STORE_PREFIXES = (
    "/agentur",
    "/mitmachen",
    "/suchauftrag",
    "/veranstaltungen/abmelden/",
)
NO_STORE = "private, no-store"


def never_stored(path: str) -> bool:
    """Whether ``path`` is one whose answers no cache may keep."""
    return any(
        path == prefix.rstrip("/") or path.startswith(prefix.rstrip("/") + "/")
        for prefix in NO_STORE_PREFIXES
    )


def signed_in() -> bool:
    """Whether staff are signed in. The user is looked up only when the session names one:
    for a visitor's session (a CSRF token), Flask-Login's strong session protection would
    rewrite the session on each look-up, and every page would set the cookie again."""
    return "_user_id" in session and current_user.is_authenticated


def _sets_cookie(response: Response) -> bool:
    """Whether the answer sets a cookie: one already on it, or the session Flask will save."""
    if response.headers.getlist("Set-Cookie"):
        return True
    interface = current_app.session_interface
    return bool(session) and interface.should_set_cookie(current_app, session)


def set_cache_policy(response: Response) -> Response:
    """The ``Cache-Control`` rules of the module's docstring."""
    if never_stored(request.path):
        response.headers["Cache-Control"] = NO_STORE
    elif request.endpoint != "static" and signed_in():
        response.headers.setdefault("Cache-Control", NO_STORE)
    elif _sets_cookie(response):
        response.cache_control.public = False
        response.cache_control.private = True
    return response


def init_app(app: Flask) -> None:
    """Apply the policy to every answer of ``app``; give templates ``signed_in``.

    Call it before the other ``after_request`` functions are registered: Flask runs them in
    reverse order, so this one runs last and sees the cookies they set (the language cookie).
    """
    app.after_request(set_cache_policy)
    app.jinja_env.globals["signed_in"] = signed_in
