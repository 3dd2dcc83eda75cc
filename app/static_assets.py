"""Static files named by their content: ``/static/css/app.css?v=<hash>``, kept for a year.

Every ``url_for("static", …)`` gets ``v``, the first 12 hex digits of the file's SHA-256
(:func:`add_version`); a changed file gets a new URL, so browsers and proxies may keep each
URL for good (``Cache-Control: public, max-age=31536000, immutable``, :func:`set_lifetime`).
A request without ``v``, or with another ``v`` than the file's (an old page asking for a file
that has changed since), gets ``no-cache``: it is checked again each time (ETag, 304).

ES modules import each other by relative paths (``./atlas/map.js``), which carry no hash. The
page's import map (:func:`import_map`, in ``<script type="importmap">``) maps each module's
plain URL to its hashed one, so the imports are hashed too, and kept as long.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, Response, current_app, request, url_for

#: How long a hashed URL may be kept: a year, the most HTTP caches honour.
ONE_YEAR = 365 * 24 * 3600
#: The folder, under the static folder, whose ES modules the import map names.
MODULES = "js"


def digest(filename: str) -> str | None:
    """The version of the static file ``filename``, or None if there is no such file."""
    path = Path(current_app.static_folder, filename)
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    if not path.is_file():
        return None
    return _digest(str(path), stat.st_mtime_ns, stat.st_size)


@cache
def _digest(path: str, _mtime_ns: int, _size: int) -> str:
    """The hash of the file at ``path`` (cached while its time and size stay the same)."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:12]


def add_version(endpoint: str, values: dict) -> None:
    """``url_defaults``: give a static file's URL its version."""
    if endpoint == "static" and "v" not in values and "filename" in values:
        version = digest(values["filename"])
        if version:
            values["v"] = version


def set_lifetime(response: Response) -> Response:
    """A year for a static file asked for by its current version; else check each time."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    filename = (request.view_args or {}).get("filename", "")
    version = request.args.get("v")
    if version and version == digest(filename):
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
        response.cache_control.no_cache = None
    else:
        response.cache_control.max_age = None
        response.cache_control.no_cache = True
    return response


def import_map() -> dict:
    """``{"imports": {plain URL: hashed URL}}`` for every ES module under ``static/js``."""
    return {"imports": _import_map(current_app.static_folder, current_app.static_url_path)}


def _import_map(static_folder: str, static_url_path: str) -> dict[str, str]:
    root = Path(static_folder)
    modules = sorted(path.relative_to(root).as_posix() for path in (root / MODULES).rglob("*.js"))
    return {f"{static_url_path}/{module}": url_for("static", filename=module) for module in modules}


def init_app(app: Flask) -> None:
    """Version static URLs, set their lifetime, and offer ``import_map()`` to templates."""
    app.url_defaults(add_version)
    app.after_request(set_lifetime)
    app.jinja_env.globals["import_map"] = import_map
