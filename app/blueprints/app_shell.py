"""The installable app's files: the web app manifest, the service worker and the offline page
(see :mod:`app.pwa`)."""

from flask import Blueprint, current_app, render_template

from app import pwa

bp = Blueprint("pwa", __name__)
bp.record_once(lambda state: pwa.init_app(state.app))


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest, in the interface language (the pages link it with ``lang``)."""
    response = current_app.response_class(
        current_app.json.dumps(pwa.manifest()), content_type="application/manifest+json"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.no_cache = True
    return response


@bp.get("/sw.js")
def service_worker():
    """The service worker for the whole site (scope "/"). Browsers check it for a new version
    on each visit: it is never taken from an HTTP cache."""
    response = current_app.response_class(
        pwa.worker_text(), content_type="text/javascript; charset=utf-8"
    )
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.no_cache = True
    response.cache_control.max_age = 0
    return response


@bp.get("/offline")
def offline():
    """What the worker shows for a page it has not kept while the device is offline. The same
    for everyone, so it says so itself (no personal ``Cache-Control`` is added)."""
    response = current_app.make_response(render_template("pwa/offline.html"))
    response.cache_control.no_cache = True
    return response
