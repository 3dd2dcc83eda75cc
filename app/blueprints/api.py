"""The public JSON API: published employers only, public fields only."""

from flask import Blueprint, jsonify

from app.services import employers

bp = Blueprint("api", __name__)


@bp.get("/employers")
def employer_collection():
    """Published employers as a GeoJSON FeatureCollection with a top-level ``total``."""
    response = jsonify(employers.feature_collection())
    response.mimetype = "application/geo+json"
    return response
