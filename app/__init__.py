"""KMU-Atlas: the Flask application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import (
    cache_policy,
    compression,
    contact,
    i18n,
    jobs,
    logs,
    modules,
    request_limits,
    security_headers,
    static_assets,
)
from app.config import PROJECT_ROOT, load_settings
from app.extensions import babel, csrf, db, limiter, login_manager, migrate
from app.features import tag_bitmaps

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def create_app(config: Mapping | None = None) -> Flask:
    """Create the app. ``config`` overrides environment settings (tests pass it)."""
    settings = load_settings(config)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=settings["INSTANCE_PATH"],
    )
    app.config.update(settings)
    if app.config["APP_ENV"] == "production":
        # No debugger and no traceback outside development, whatever FLASK_DEBUG says (`flask
        # run` reads it again after creating the app, to decide on Werkzeug's debugger).
        app.config.update(DEBUG=False, PROPAGATE_EXCEPTIONS=False)
        os.environ["FLASK_DEBUG"] = "0"
    if app.config["PROXY_COUNT"]:
        # Behind N reverse proxies: the client's address and scheme come from their headers,
        # so rate limits and sign-in throttling count clients, not the proxy.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    app.json.sort_keys = False
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["now_utc"] = lambda: datetime.now(UTC)
    app.jinja_env.globals["module_preloads"] = modules.preloads
    # First, so that compression runs after every other after_request function.
    compression.init_app(app)
    # Next, so that it runs after the others but compression and sees their cookies.
    cache_policy.init_app(app)
    # Next: its after_request function runs just before the cache policy and compression,
    # after all others, and its request id is there for every other before_request function.
    logs.init_app(app)
    contact.init_app(app)
    # Before the extensions, so that no before_request function reads a body unlimited.
    request_limits.init_app(app)
    static_assets.init_app(app)
    register_extensions(app)
    tag_bitmaps.init_app(app)
    security_headers.init_app(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the extension singletons from ``app.extensions`` to this app."""
    from app import models  # noqa: F401  (registers the models on the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), compare_type=True)
    csrf.init_app(app)
    # Flask-Babel 4: the selector goes to init_app, not to Babel().
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_locale=i18n.DEFAULT_LANGUAGE,
        default_translation_directories=str(TRANSLATIONS_DIR),
    )
    i18n.init_app(app)
    limiter.init_app(app)
    from app.services import accounts

    login_manager.init_app(app)
    login_manager.user_loader(accounts.load)
    from app import notifications

    notifications.init_app(app)
    jobs.init_app(app)
    app.extensions["questionnaire"] = app.config.pop("QUESTIONNAIRE")
    from app.features.layers import register_layer_sources

    register_layer_sources(app)


def register_blueprints(app: Flask) -> None:
    """Mount the public pages, the JSON API, the questionnaire and the curation workspace."""
    from app.blueprints import (
        accounts,
        alerts,
        api,
        app_shell,
        boundaries,
        confirm,
        csp_report,
        curation,
        dashboard,
        data_rights,
        embed,
        events,
        events_admin,
        freshness,
        health,
        layers_admin,
        organisations,
        public,
        questionnaire,
        region,
        registration,
        security,
        shortlist,
        staff,
        transfer,
    )
    from app.blueprints.params import Int4Converter

    # Ids in URLs beyond PostgreSQL's integer range give 404 instead of an overflow (500).
    app.url_map.converters["int"] = Int4Converter
    app.register_blueprint(health.bp)  # /healthz, /healthz/live, /healthz/ready
    app.register_blueprint(public.bp)
    app.register_blueprint(app_shell.bp)  # the manifest, /sw.js and /offline
    app.register_blueprint(csp_report.bp)
    app.register_blueprint(shortlist.bp)
    app.register_blueprint(events.bp, url_prefix="/veranstaltungen")
    app.register_blueprint(registration.bp, url_prefix="/veranstaltungen")
    app.register_blueprint(alerts.bp, url_prefix="/suchauftrag")
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(region.bp, url_prefix="/region")
    from app.blueprints import ogc  # OGC API – Features for GIS clients (QGIS)

    app.register_blueprint(ogc.bp, url_prefix="/ogc")
    app.register_blueprint(embed.bp, url_prefix="/einbetten")
    app.register_blueprint(questionnaire.bp, url_prefix="/mitmachen")
    app.register_blueprint(confirm.bp, url_prefix="/mitmachen/bestaetigen")
    app.register_blueprint(data_rights.bp, url_prefix="/mitmachen/ihre-daten")
    app.register_blueprint(staff.bp, url_prefix="/agentur")
    app.register_blueprint(dashboard.bp, url_prefix="/agentur")
    app.register_blueprint(curation.bp, url_prefix="/agentur")
    app.register_blueprint(freshness.bp, url_prefix="/agentur/aktualitaet")
    app.register_blueprint(transfer.bp, url_prefix="/agentur")
    app.register_blueprint(accounts.bp, url_prefix="/agentur/konten")
    app.register_blueprint(security.bp, url_prefix="/agentur/konto/sicherheit")
    app.register_blueprint(boundaries.bp, url_prefix="/agentur/grenzen")
    app.register_blueprint(layers_admin.bp, url_prefix="/agentur/ebenen")
    app.register_blueprint(events_admin.bp, url_prefix="/agentur/veranstaltungen")
    app.register_blueprint(organisations.bp, url_prefix="/agentur/organisationen")


def register_error_handlers(app: Flask) -> None:
    """Friendly pages (or JSON under /api) for missing pages and an unreachable database."""
    from app.blueprints import errors

    errors.register(app)


def register_commands(app: Flask) -> None:
    """Add the project's ``flask`` CLI commands."""
    from app import cli

    cli.register(app)
