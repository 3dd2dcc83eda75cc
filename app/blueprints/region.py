"""The region's look as static assets: its theme's colours as a tiny stylesheet and its logo.

Both come from the region file (``theme``), never from code; the colours were checked to be
``#rrggbb`` and the logo to be a small SVG without scripts when the region was loaded.
"""

from flask import Blueprint, abort, current_app, make_response, request

bp = Blueprint("region", __name__)
#: Long enough to save requests; the pages link the files with the theme's version.
MAX_AGE = 86400


@bp.get("/theme.css")
def theme_css():
    """The theme's colours as CSS custom properties (``--brand``, ``--accent``)."""
    theme = current_app.config["REGION"].theme
    response = make_response(theme.css())
    response.mimetype = "text/css"
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/logo.svg")
def logo():
    """The region's logo (SVG), sent so that it cannot run anything even when opened alone."""
    theme = current_app.config["REGION"].theme
    if theme.logo is None:
        abort(404)
    response = make_response(theme.logo.read_bytes())
    response.mimetype = "image/svg+xml"
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.add_etag()
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)
