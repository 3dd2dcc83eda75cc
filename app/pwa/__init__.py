"""The installable app (PWA): the web app manifest, the app shell the service worker keeps, and
the worker's text (web layer: it builds URLs; no database).

The shell's version is a hash of its files (the worker's source, the offline page's template,
CSS, JS modules, Leaflet, icons) and the region theme's version, computed when the app starts:
a changed file makes a new worker, which installs beside the running one and waits until the
page's "Neue Version verfügbar – neu laden" button lets it take over (see ``worker.js``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, request, url_for
from flask_babel import gettext as _

from app.config import PROJECT_ROOT
from app.i18n import current_language, text_direction

WORKER_SOURCE = Path(__file__).with_name("worker.js")
OFFLINE_TEMPLATE = PROJECT_ROOT / "templates" / "pwa" / "offline.html"
#: The static files the worker caches at install (globs under app/static).
SHELL_STATIC = (
    "css/*.css",
    "js/**/*.js",
    "vendor/leaflet/*.js",
    "vendor/leaflet/*.css",
    "vendor/leaflet/images/*.png",
    "icons/*.png",
    "favicon.svg",
    "favicon.ico",
)
#: The blueprints of the public side: their pages register the worker, show the shortlist link
#: and its "Merken" buttons (not the workspace, the questionnaire, personal links or embeds).
PUBLIC_BLUEPRINTS = frozenset({"public", "events", "pwa", "shortlist"})
#: The manifest's icons: file under static/, size, purpose.
ICONS = (
    ("icons/icon-192.png", 192, "any"),
    ("icons/icon-512.png", 512, "any"),
    ("icons/maskable-192.png", 192, "maskable"),
    ("icons/maskable-512.png", 512, "maskable"),
)
APPLE_TOUCH_ICON = "icons/apple-touch-icon.png"
#: The splash screen's background behind the icon (the pages' paper colour).
BACKGROUND_COLOUR = "#ffffff"


@dataclass(frozen=True)
class Shell:
    """What the worker keeps at install: its version, static files, pages and offline page."""

    version: str
    assets: tuple[str, ...]
    pages: tuple[str, ...]
    offline: str


def shell_files(static_folder: Path) -> list[Path]:
    """The static files of the shell, sorted, each once."""
    found = {path for pattern in SHELL_STATIC for path in static_folder.glob(pattern)}
    return sorted(path for path in found if path.is_file())


def shell_version(static_folder: Path, theme_version: str) -> str:
    """A short hash of everything the worker caches at install and of the worker itself."""
    digest = hashlib.sha256(theme_version.encode())
    for path in [WORKER_SOURCE, OFFLINE_TEMPLATE, *shell_files(static_folder)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def init_app(app: Flask) -> None:
    """Hash the shell once at start-up; give templates what ``base.html`` needs."""
    theme = app.config["REGION"].theme
    app.extensions["pwa_version"] = shell_version(Path(app.static_folder), theme.version)
    app.jinja_env.globals["public_side"] = public_side
    app.jinja_env.globals["app_shell_config"] = app_shell_config


def shell() -> Shell:
    """The shell's URLs (in a request: they come from ``url_for``)."""
    static_folder = Path(current_app.static_folder)
    theme = current_app.config["REGION"].theme
    assets = [
        url_for("static", filename=path.relative_to(static_folder).as_posix())
        for path in shell_files(static_folder)
    ]
    assets.append(url_for("region.theme_css", v=theme.version))
    if theme.logo:
        assets.append(url_for("region.logo", v=theme.version))
    return Shell(
        version=current_app.extensions["pwa_version"],
        assets=tuple(assets),
        pages=(url_for("public.index"), url_for("shortlist.page")),
        offline=url_for("pwa.offline"),
    )


def worker_text() -> str:
    """The service worker: the shell's settings as ``const SHELL``, then ``worker.js``."""
    settings = shell()
    config = {
        "version": settings.version,
        "assets": list(settings.assets),
        "pages": list(settings.pages),
        "offline": settings.offline,
    }
    return f"const SHELL = {json.dumps(config)};\n\n{WORKER_SOURCE.read_text()}"


def manifest() -> dict:
    """The web app manifest in the interface language."""
    language = current_language()
    region = current_app.config["REGION"]
    icons = [
        {
            "src": url_for("static", filename=path),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }
        for path, size, purpose in ICONS
    ]
    icons.append(
        {
            "src": url_for("static", filename="favicon.svg"),
            "sizes": "any",
            "type": "image/svg+xml",
            "purpose": "any",
        }
    )
    return {
        "id": "/",
        "name": f"KMU-Atlas {region.display_name(language)}",
        "short_name": "KMU-Atlas",
        "description": _(
            "KMU-Atlas %(region)s: Arbeitgeber der Region auf einer Karte.",
            region=region.display_name(language),
        ),
        "lang": language,
        "dir": text_direction(language),
        "start_url": url_for("public.index"),
        "scope": "/",
        "display": "standalone",
        "theme_color": region.theme.primary,
        "background_color": BACKGROUND_COLOUR,
        "icons": icons,
        "shortcuts": [
            {"name": _("Merkliste"), "url": url_for("shortlist.page")},
            {"name": _("Veranstaltungen"), "url": url_for("events.index")},
        ],
    }


def public_side() -> bool:
    """Whether the current page belongs to the public side (see :data:`PUBLIC_BLUEPRINTS`)."""
    return request.blueprint in PUBLIC_BLUEPRINTS


def app_shell_config() -> dict:
    """The settings of ``app-shell.js`` (on its script tag): the worker and the labels."""
    return {
        # None: no worker, and an installed one is removed (SERVICE_WORKER=false).
        "worker": url_for("pwa.service_worker") if current_app.config["SERVICE_WORKER"] else None,
        "labels": {
            "add": _("Merken"),
            "added": _("Gemerkt"),
            "count": _("Merkliste (%(num)s)", num="{n}"),
            "storageError": _(
                "Die Merkliste konnte auf diesem Gerät nicht gespeichert werden. Erlauben Sie "
                "dieser Seite, Daten zu speichern, und versuchen Sie es erneut."
            ),
            "offline": _("Sie sind offline – angezeigt wird der zuletzt geladene Stand."),
            "update": _("Neue Version verfügbar – neu laden"),
        },
    }
