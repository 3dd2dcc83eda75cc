"""Error pages: HTML for pages, JSON for the API; an unreachable database gives 503."""

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
    SecurityError,
)

from app.logs import request_id

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def register(app: Flask) -> None:
    """Install the handlers on the app."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _wants_json():
            return jsonify({"error": error.name, "message": error.description}), error.code
        return render_template("errors/http.html", error=error), error.code

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        # Flask has logged the exception with its traceback (app.logs: a JSON line with the
        # request id); the answer names only the request id, which users can quote.
        message = _(
            "Auf unserer Seite ist ein Fehler aufgetreten. Bitte versuchen Sie es später noch "
            "einmal."
        )
        headers = {"Cache-Control": "no-store"}
        if _wants_json():
            body = {"error": "Internal Server Error", "message": message}
            return jsonify(body | {"request_id": request_id()}), 500, headers
        page = render_template("errors/server.html", message=message, request_id=request_id())
        return page, 500, headers

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError):
        # No URLs can be built for a host outside TRUSTED_HOSTS: answer without a template.
        return "Bad Request: unknown host.", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(error: RateLimitExceeded):
        error.description = _(
            "Zu viele Anfragen in kurzer Zeit. Bitte warten Sie einen Moment und versuchen Sie "
            "es dann noch einmal."
        )
        return http_error(error)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge):
        error.description = _(
            "Die gesendeten Daten sind zu groß: eine Datei darf höchstens %(megabytes)d MB "
            "groß sein, die Texte eines Formulars zusammen höchstens %(kilobytes)d KB. Bitte "
            "gehen Sie zurück, kürzen Sie Ihre Eingabe oder wählen Sie eine kleinere Datei.",
            megabytes=app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
            kilobytes=app.config["MAX_FORM_MEMORY_SIZE"] // 1024,
        )
        return http_error(error)

    @app.errorhandler(CSRFError)
    def form_expired(error: CSRFError):
        if request.endpoint == "questionnaire.step":
            from app.blueprints.questionnaire import step_after_expired_form

            return step_after_expired_form()
        error.description = _(
            "Das Formular war zu lange geöffnet oder ist unvollständig angekommen. "
            "Bitte laden Sie die Seite neu und versuchen Sie es noch einmal."
        )
        return http_error(error)

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        log.error("database unavailable: %s", error)
        message = _(
            "Die Datenbank ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut."
        )
        # Kept by no cache (the service worker keeps only 200s anyway): the next request, once
        # the database is back, gets the page. A new connection is tried on every request.
        headers = {"Cache-Control": "no-store", "Retry-After": "30"}
        if _wants_json():
            body = jsonify({"error": "Service Unavailable", "message": message})
            return body, 503, headers
        return render_template("errors/unavailable.html", message=message), 503, headers
