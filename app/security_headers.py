"""The security headers of every response: Content-Security-Policy and the rest, and framing.

**The policy** (:func:`content_security_policy`, set through Flask-Talisman): scripts only
from our own origin or with the request's nonce (``nonce="{{ csp_nonce() }}"`` on every inline
``<script>``, folium's map script included), never ``'unsafe-inline'`` or ``eval``; images from
us, ``data:`` URLs and the configured tile server; nothing else from anywhere else;
``object-src 'none'``, ``base-uri 'none'``, forms only to us. Style *attributes* may be inline
(Leaflet and its plugins write them); ``<style>`` elements need the nonce. Browsers report a
violation to ``/csp-report`` (:mod:`app.blueprints.csp_report`), which logs it.

**Other headers** (Talisman): ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
same-origin`` (no URL, with its tokens, ever goes to another site), a ``Permissions-Policy``
that switches off what the app does not use, and HSTS on answers served over HTTPS or with
``X-Forwarded-Proto: https`` from the reverse proxy (browsers ignore HSTS on a plain HTTP
answer, so a client sending that header itself gains nothing). Talisman never
redirects to HTTPS (the reverse proxy does) and leaves the session cookie's settings to
:mod:`app.config`.

**Framing.** Every response says ``X-Frame-Options: DENY`` and the policy
``frame-ancestors 'none'``. A view marked :func:`frameable` (the embed pages under
``/einbetten/…``) instead says ``frame-ancestors`` with the sites of the
``EMBED_FRAME_ANCESTORS`` setting and no ``X-Frame-Options``. A policy that already has
``frame-ancestors`` keeps it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, request
from flask_talisman import Talisman

from app.config import tile_origin


class ViewRespectingTalisman(Talisman):
    """Talisman, but a ``Referrer-Policy`` a view set (``no-referrer`` on the pages with a
    personal link in their address) and a Content-Security-Policy a view set are kept, not
    overwritten with the defaults."""

    def _set_referrer_policy_headers(self, headers) -> None:
        headers.setdefault("Referrer-Policy", self.referrer_policy)

    def _set_content_security_policy_headers(self, headers, options) -> None:
        if CSP in headers:  # a policy the view set itself is kept
            options = {**options, "content_security_policy": None}
        super()._set_content_security_policy_headers(headers, options)


talisman = ViewRespectingTalisman()


def no_referrer(blueprint: Blueprint) -> None:
    """Have every answer of ``blueprint`` say ``Referrer-Policy: no-referrer``: its pages
    carry a personal link (a draft's or an entry's token) in their address, which no other
    page, not even one of ours, is told."""

    @blueprint.after_request
    def _no_referrer(response: Response) -> Response:
        response.headers["Referrer-Policy"] = "no-referrer"
        return response


#: Where browsers send reports of blocked content (``app.blueprints.csp_report``).
REPORT_PATH = "/csp-report"

#: Features no page of the app uses: no page, and no frame in it, may use them.
PERMISSIONS_POLICY = {
    "accelerometer": "()",
    "autoplay": "()",
    "camera": "()",
    "display-capture": "()",
    "geolocation": "()",
    "gyroscope": "()",
    "magnetometer": "()",
    "microphone": "()",
    "payment": "()",
    "usb": "()",
    "browsing-topics": "()",
}

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


def tile_source(tile_url: str) -> str:
    """The tile server as a CSP source: its origin, a ``{s}`` subdomain as ``*``."""
    return tile_origin(tile_url).replace("{s}", "*")


def content_security_policy(config) -> dict[str, str]:
    """The policy of every page (the module's docstring says why each part is there)."""
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src-elem": "'self'",
        "style-src-attr": "'unsafe-inline'",
        "img-src": f"'self' data: {tile_source(config['TILE_URL'])}",
        "font-src": "'self'",
        "connect-src": "'self'",
        "worker-src": "'self'",
        "manifest-src": "'self'",
        "frame-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
    }


def init_app(app: Flask) -> None:
    """Set the security headers on every response of ``app``.

    The framing rule is registered first, so that it runs after Talisman's (Flask runs
    ``after_request`` functions in reverse) and adds ``frame-ancestors`` to its policy.
    """
    app.after_request(set_frame_headers)
    talisman.init_app(
        app,
        force_https=False,
        frame_options=None,
        content_security_policy=content_security_policy(app.config),
        content_security_policy_nonce_in=["script-src", "style-src-elem"],
        content_security_policy_report_uri=REPORT_PATH,
        permissions_policy=PERMISSIONS_POLICY,
        referrer_policy="same-origin",
        strict_transport_security=True,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        x_xss_protection=False,
    )
