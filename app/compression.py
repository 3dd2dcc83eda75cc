"""Smaller and fewer answers: compression (Flask-Compress) and ETags on JSON answers.

- Every text answer of 500 bytes or more (pages, JSON and GeoJSON, CSS and JavaScript, SVG,
  calendars) is compressed with the best of zstd, brotli and gzip the client accepts.
- A JSON answer to GET gets an ETag from its body; a client that sends it back in
  ``If-None-Match`` gets ``304 Not Modified`` without a body. Compression makes the tag
  ``"<tag>:<encoding>"`` (Flask-Compress), so each encoding's tag is checked against its own
  bytes.

:func:`init_app` must be called before any other ``after_request`` function is registered:
Flask runs them in reverse, and compression has to come last, after every header is set.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_compress import Compress

compress = Compress()

#: Compressed besides Flask-Compress's defaults.
MORE_MIMETYPES = (
    "application/geo+json",
    "application/ld+json",
    "application/problem+json",
    "application/schema+json",
    "application/vnd.oai.openapi+json",
    "text/calendar",
    "text/csv",
)


def is_json(response: Response) -> bool:
    """Whether ``response`` is JSON (``application/json`` or a ``+json`` type)."""
    mimetype = response.mimetype or ""
    return mimetype == "application/json" or mimetype.endswith("+json")


def add_etag(response: Response) -> Response:
    """Tag a complete JSON answer to GET by its body and answer 304 if the client has it."""
    if (
        request.method not in ("GET", "HEAD")
        or response.status_code != 200
        or response.is_streamed
        or not is_json(response)
        or "no-store" in (response.headers.get("Cache-Control") or "")
    ):
        return response
    if response.get_etag()[0] is None:
        response.add_etag()
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Compress answers and tag JSON answers (see the module's docstring)."""
    compress.init_app(app)
    compress.compress_mimetypes_set |= set(MORE_MIMETYPES)
    app.after_request(add_etag)
