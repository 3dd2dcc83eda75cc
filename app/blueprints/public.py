"""Public pages: the start page with the map, and the health check."""

from flask import Blueprint, current_app, jsonify, render_template, url_for

from app.map import build_map
from app.services.health import check_health

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    """Start page: the region's map; the employers load from the API."""
    region = current_app.config["REGION"]
    parts = build_map(
        region,
        tile_url=current_app.config["TILE_URL"],
        attribution=current_app.config["TILE_ATTRIBUTION"],
        static_url=lambda path: url_for("static", filename=path),
    )
    return render_template("public/index.html", region=region, map=parts)


@bp.get("/healthz")
def healthz():
    """200 with a small JSON body when healthy; 503 with the reason otherwise."""
    healthy, body = check_health()
    return jsonify(body), 200 if healthy else 503
