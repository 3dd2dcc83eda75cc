"""How much a request may send: beyond it the answer is 413 (``errors.too_large``).

Werkzeug applies ``MAX_FORM_MEMORY_SIZE`` (the text fields together) and ``MAX_FORM_PARTS``
only to multipart bodies, and ``MAX_CONTENT_LENGTH`` to every body. So a body that is not
multipart (an urlencoded form, JSON, a CSP report) would otherwise be allowed as much as an
upload; here it gets ``MAX_FORM_MEMORY_SIZE`` as its whole limit. Only multipart forms, the
ones that carry files, may send up to ``MAX_CONTENT_LENGTH``.
"""

from __future__ import annotations

from flask import Flask, current_app, request


def limit_body(*_args) -> None:
    """Give a body that is not multipart the limit of a form's text."""
    if request.mimetype != "multipart/form-data":
        request.max_content_length = current_app.config["MAX_FORM_MEMORY_SIZE"]


def init_app(app: Flask) -> None:
    """Limit every request's body; must run before anything reads it (e.g. the CSRF check)."""
    app.before_request(limit_body)
