"""Reading the filter contract from the current request (shared by pages and the API)."""

from flask import current_app, request

from app.filters import EmployerFilter, parse_filter
from app.services.employers import MapSettings
from app.services.places import resolve_place
from app.services.taxonomies import vocabulary


def request_filter() -> EmployerFilter:
    """The filter in the query string; raises FilterError on a bad value."""
    return parse_filter(request.args, vocabulary(), resolve_place)


def map_settings() -> MapSettings:
    """Clustering settings from the configuration and the region."""
    region = current_app.config["REGION"]
    return MapSettings(
        threshold=current_app.config["CLUSTER_THRESHOLD"],
        max_zoom=current_app.config["CLUSTER_MAX_ZOOM"],
        default_zoom=region.zoom,
        latitude=region.center[1],
        limit=current_app.config["MAP_FEATURE_LIMIT"],
    )
