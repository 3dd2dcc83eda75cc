"""Who may frame our pages: nobody, except the embed pages partner websites show in an iframe.

Every response says ``X-Frame-Options: DENY`` and ``Content-Security-Policy: frame-ancestors
'none'``. A view marked :func:`frameable` (the embed pages under ``/einbetten/…``) instead says
``frame-ancestors`` with the sites of the ``EMBED_FRAME_ANCESTORS`` setting and no
``X-Frame-Options``. A Content-Security-Policy a view set itself is kept: only a missing
``frame-ancestors`` directive is added to it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, request

#: The attribute :func:`frameable` sets on a view function.
FRAMEABLE_ATTRIBUTE = "frameable"
CSP = "Content-Security-Policy"


def frameable(view: Callable) -> Callable:
    """Mark a view as one other sites may frame (within ``EMBED_FRAME_ANCESTORS``)."""
    setattr(view, FRAMEABLE_ATTRIBUTE, True)
    return view


def is_frameable(endpoint: str | None) -> bool:
    """Whether the view of ``endpoint`` is marked :func:`frameable`."""
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return bool(getattr(view, FRAMEABLE_ATTRIBUTE, False))


def with_frame_ancestors(policy: str | None, sources: str) -> str:
    """``policy`` with ``frame-ancestors <sources>`` added, unless it already has that
    directive (a policy a view set is never overwritten)."""
    if not policy or not policy.strip():
        return f"frame-ancestors {sources}"
    directives = [part.strip() for part in policy.split(";") if part.strip()]
    if any(part.split()[0].lower() == "frame-ancestors" for part in directives):
        return policy
    return "; ".join([*directives, f"frame-ancestors {sources}"])


def set_frame_headers(response: Response) -> Response:
    """The framing headers of every response (see the module's docstring)."""
    if is_frameable(request.endpoint):
        sources = current_app.config["EMBED_FRAME_ANCESTORS"]
        if response.headers.get("X-Frame-Options", "").upper() == "DENY":
            del response.headers["X-Frame-Options"]
    else:
        sources = "'none'"
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers[CSP] = with_frame_ancestors(response.headers.get(CSP), sources)
    return response


def init_app(app: Flask) -> None:
    """Set the framing headers on every response of ``app``."""
    app.after_request(set_frame_headers)
